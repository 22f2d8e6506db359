"""A small synchronous client for the mock's admin API, for tests and the load harness.

    admin = AdminClient("http://127.0.0.1:8080/__admin/")
    admin.stats()                                  # the /__admin/stats JSON as a dict
    admin.requests(app="com.example", status=400, limit=10)   # journal entries, newest first
    admin.count(operation="session")               # how many journal entries match
    admin.set_faults("status=503,probability=0.1", {"latency": 50}, seed=7, duration=30)
    admin.clear_faults(); admin.reset(); admin.warnings()

It never reads proxy settings from the environment: the mock is always reached directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from simulator.errors import MockAdminError
from simulator.mock.stats import Stats


class AdminClient:
    def __init__(self, admin_url: str, timeout: float = 10.0) -> None:
        self.admin_url = admin_url
        self._http = httpx.Client(base_url=admin_url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json()["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise MockAdminError(f"{method} {path}: {response.status_code} {message}")
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def stats(self) -> Stats:
        return self._call("GET", "stats")

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries matching every filter (since, limit, app, platform, operation,
        status, device, request_id, outcome, method, url), newest first."""
        return self._call("POST", "requests/find", json=filters)["requests"]

    def count(self, **filters: Any) -> int:
        return self._call("POST", "requests/count", json=filters)["count"]

    def warnings(self, limit: int = 100) -> dict[str, Any]:
        return self._call("GET", "warnings", params={"limit": limit})

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "faults")

    def set_faults(
        self, *rules: str | Mapping[str, Any], seed: int | None = None,
        duration: float | None = None,
    ) -> dict[str, Any]:
        """Replace the fault plan. Rules are mappings or ``key=value,...`` strings; a single
        mapping that has ``rules`` is taken as a whole plan."""
        if len(rules) == 1 and isinstance(rules[0], Mapping) and "rules" in rules[0]:
            spec: dict[str, Any] = dict(rules[0])
        else:
            spec = {"rules": list(rules)}
        if seed is not None:
            spec["seed"] = seed
        if duration is not None:
            spec["duration"] = duration
        return self._call("PUT", "faults", json=spec)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "faults")

    def reset(self) -> None:
        """Forget the journal and every counter (WireMock's ``DELETE /__admin/requests``)."""
        self._call("DELETE", "requests")

    def reset_all(self) -> None:
        """``reset`` and no faults any more (WireMock's ``POST /__admin/reset``)."""
        self._call("POST", "reset")
