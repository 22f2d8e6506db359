"""Shared helpers of the mock's tests: test apps, valid bodies, signed requests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson

from simulator import contract, signing
from simulator.profiles import App

APP = App("com.test.app", "TESTKEYapp00000000001", ("roku", "tizen", "vega", "steam"),
          "normal", (), ())
ZERO = App("com.test.zero", "TESTKEYzero0000000002", ("roku",), "zero", (), ())
DIGITS = App("3202204027284", "TESTKEYdigits00000003", ("webos",), "normal", (), ())
APPS = (APP, ZERO, DIGITS)


def body(operation: str = contract.SESSION, **fields: Any) -> dict[str, Any]:
    """A body valid on every operation (the strictest union), with ``fields`` overriding."""
    base: dict[str, Any] = {
        "timestamp": int(time.time() * 1000),
        "request_id": str(uuid.uuid4()),
        "ip": "93.184.216.34",
        "user_agent": "Roku/DVP-12.5 (12.5.0.4178-C9)",
        "device_os_version": "12.5.0",
        "device_model": "3941X",
        "device_ids": [{"type": "custom", "value": str(uuid.uuid4())},
                       {"type": "rida", "value": str(uuid.uuid4())}],
        "limit_ad_tracking": False,
        "app_version": "3.5.0",
    }
    if operation == contract.INAPP:
        base["event_name"] = "af_purchase"
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def raw(document: Any) -> bytes:
    return orjson.dumps(document)


def path(operation: str = contract.SESSION, platform: str = "roku",
         app: App = APP, channel: str = "s2s") -> str:
    return f"/v1.0/{channel}/{contract.relative_path(operation, platform, app.app_id)}"


def post(client: httpx.Client, base: str, url_path: str, content: bytes,
         key: str | None = APP.dev_key, **headers: str) -> httpx.Response:
    """POST ``content`` exactly as given, signed with ``key`` (None: no authorization)."""
    if key is not None:
        headers["authorization"] = signing.sign(content, key)
    return client.post(base + url_path, content=content,
                       headers={"content-type": "application/json", **headers})


def root(url: str) -> str:
    """http://host:port of a mock URL."""
    return url.split("/v1.0/")[0]


def write_apps_yaml(directory) -> str:
    """APPS as an apps YAML file (for a mock in a subprocess, which reads its apps from one)."""
    lines = ["apps:"]
    for app in APPS:
        lines += [
            f'  - app_id: "{app.app_id}"',
            f"    dev_key: {app.dev_key}",
            f"    platforms: [{', '.join(app.platforms)}]",
            f"    plan: {app.plan}",
            '    versions: [{version: "1.0.0", weight: 1}]',
            "    events: [{name: af_purchase, per_session: 0.1}]",
        ]
    target = directory / "apps.yaml"
    target.write_text("\n".join(lines) + "\n")
    return str(target)
