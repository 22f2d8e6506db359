"""Events become requests: relative path, exact body bytes and signed headers.

Bodies are valid for their operation by construction: fields in ``contract.FIELD_ORDER``,
compact JSON, the strictest union of the per-operation rules (the profile loader already holds
device fields and app versions to the rules of every operation; ids here are lowercase UUID4s
and timestamps integer milliseconds). The hot path serialises a device's static fields once
and keeps the result as byte fragments; a request then adds only its timestamp, request id,
per-event fields and the signature, keyed by an HMAC whose key schedule is computed once.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from typing import NamedTuple

import orjson

from simulator import contract
from simulator.behaviour import Event
from simulator.devices import Device
from simulator.profiles import App

__all__ = ["AppPayloads", "DevicePayloads", "Request", "Signer", "request_ids"]

CONTENT_TYPE = "application/json"

# The RFC 4122 variant nibble (binary 10xx) for any random hex digit, keeping its low bits.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
_IDS_PER_DRAW = 512


def request_ids(rng: random.Random) -> Iterator[str]:
    """Lowercase UUID4 request ids from a seeded random stream: same seed, same ids.

    Random bytes are drawn 512 ids at a time and cut into ids with the version nibble set to
    4 and the variant to 10xx: the cheapest way found to make them in Python.
    """
    variant = _VARIANT
    while True:
        digits = rng.randbytes(16 * _IDS_PER_DRAW).hex()
        for i in range(0, 32 * _IDS_PER_DRAW, 32):
            yield (f"{digits[i:i + 8]}-{digits[i + 8:i + 12]}-4{digits[i + 13:i + 16]}-"
                   f"{variant[digits[i + 16]]}{digits[i + 17:i + 20]}-{digits[i + 20:i + 32]}")


class Signer:
    """``signing.sign`` with the HMAC key schedule computed once.

    HMAC-SHA256 is ``H(key ^ opad || H(key ^ ipad || body))``; the two keyed hash states are
    built here and copied per body, which halves the cost of a signature on the hot path.
    The dev key is not kept; ``repr`` shows nothing of it.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, dev_key: str) -> None:
        key = dev_key.encode("ascii")
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def __call__(self, body: bytes) -> str:
        inner = self._inner.copy()
        inner.update(body)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return "Signer(<dev key hidden>)"


class Request(NamedTuple):
    """One request ready for any transport; ``body`` is exactly what was signed."""

    time_ms: int
    operation: str
    platform: str
    app_id: str
    path: str  # relative to the target's base URL
    body: bytes
    headers: dict[str, str]
    request_id: str


class AppPayloads:
    """What every device of one app shares: the signer, the paths, and the body's tail
    fragments (app_version, event_name), each serialised once per app."""

    def __init__(self, app: App, dev_key: str) -> None:
        self.app = app
        self.sign = Signer(dev_key)
        self._paths: dict[str, dict[str, str]] = {}
        self._tails: dict[tuple[str, str | None], bytes] = {}

    def device(self, device: Device) -> DevicePayloads:
        return DevicePayloads(self, device)

    def paths(self, platform: str) -> dict[str, str]:
        """The relative path of each operation on ``platform``."""
        paths = self._paths.get(platform)
        if paths is None:
            paths = self._paths[platform] = {
                operation: contract.relative_path(operation, platform, self.app.app_id)
                for operation in contract.OPERATIONS
            }
        return paths

    def tail(self, version: str, event_name: str | None) -> bytes:
        """``,"app_version":…`` and, for in-app events, ``,"event_name":…``."""
        key = (version, event_name)
        tail = self._tails.get(key)
        if tail is None:
            tail = b',"app_version":' + orjson.dumps(version)
            if event_name is not None:
                tail += b',"event_name":' + orjson.dumps(event_name)
            self._tails[key] = tail
        return tail


class DevicePayloads:
    """One device's requests: its static body fields serialised once, on first use."""

    __slots__ = ("_app", "_static", "device")

    def __init__(self, app: AppPayloads, device: Device) -> None:
        self._app = app
        self.device = device
        self._static = b""  # the fields between request_id and app_version, without braces

    @property
    def paths(self) -> dict[str, str]:
        return self._app.paths(self.device.platform)

    def body(self, event: Event, request_id: str, timestamp_ms: int | None = None) -> bytes:
        """The exact body bytes of ``event``; ``timestamp_ms`` overrides the event's time."""
        static = self._static or self._serialise()
        spec = event.spec
        tail = self._app.tail(event.app_version, None if spec is None else spec.name)
        timestamp = event.time_ms if timestamp_ms is None else timestamp_ms
        if event.revenue is None:
            return b'{"timestamp":%d,"request_id":"%s",%s%s}' % (
                timestamp, request_id.encode(), static, tail
            )
        parameters = orjson.dumps({"af_revenue": event.revenue, "af_currency": spec.currency}
                                  if spec.currency else {"af_revenue": event.revenue})
        return b'{"timestamp":%d,"request_id":"%s",%s%s,"event_parameters":%s}' % (
            timestamp, request_id.encode(), static, tail, parameters
        )

    def _serialise(self) -> bytes:
        self._static = orjson.dumps(self.device.body_fields())[1:-1]
        return self._static

    def request(self, event: Event, request_id: str, timestamp_ms: int | None = None,
                ) -> Request:
        """``event`` as a signed request (``timestamp_ms``: send it as of another instant)."""
        body = self.body(event, request_id, timestamp_ms)
        headers = {"authorization": self._app.sign(body), "content-type": CONTENT_TYPE}
        return Request(
            event.time_ms if timestamp_ms is None else timestamp_ms, event.operation,
            self.device.platform, self._app.app.app_id, self.paths[event.operation], body,
            headers, request_id,
        )
