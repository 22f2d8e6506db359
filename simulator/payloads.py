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

__all__ = [
    "CONTENT_TYPE", "AppPayloads", "DevicePayloads", "Request", "Signer", "json_string_content",
    "request_ids",
]

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


def json_string_content(fragment: bytes) -> bytes:
    """``fragment`` (compact JSON from orjson) escaped to sit inside a JSON string literal.

    orjson writes no raw control characters, so quotes and backslashes are all there is to
    escape; non-ASCII text stays UTF-8, which JSON strings allow.
    """
    return fragment.replace(b"\\", b"\\\\").replace(b'"', b'\\"')


# A body is these templates filled with timestamp, request_id, the device's static fields,
# the app's tail (app_version, event_name) and, for revenue events, event_parameters.
_BODY = b'{"timestamp":%d,"request_id":"%s",%s%s}'
_BODY_WITH_PARAMETERS = b'{"timestamp":%d,"request_id":"%s",%s%s,"event_parameters":%s}'
_BODY_TEXT = json_string_content(_BODY)
_BODY_WITH_PARAMETERS_TEXT = json_string_content(_BODY_WITH_PARAMETERS)


class AppPayloads:
    """What every device of one app shares: the signer, the paths, and the body's tail
    fragments (app_version, event_name), each serialised once per app."""

    def __init__(self, app: App, dev_key: str) -> None:
        self.app = app
        self.sign = Signer(dev_key)
        self._paths: dict[str, dict[str, str]] = {}
        self._tails: dict[tuple[str, str | None], tuple[bytes, bytes]] = {}

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

    def tail(self, event: Event) -> tuple[bytes, bytes]:
        """``,"app_version":…`` and, for in-app events, ``,"event_name":…``; raw and as
        JSON string content."""
        spec = event.spec
        key = (event.app_version, None if spec is None else spec.name)
        tail = self._tails.get(key)
        if tail is None:
            raw = b',"app_version":' + orjson.dumps(event.app_version)
            if spec is not None:
                raw += b',"event_name":' + orjson.dumps(spec.name)
            tail = self._tails[key] = (raw, json_string_content(raw))
        return tail


def _parameters(event: Event) -> bytes:
    spec = event.spec
    return orjson.dumps({"af_revenue": event.revenue, "af_currency": spec.currency}
                        if spec.currency else {"af_revenue": event.revenue})


class DevicePayloads:
    """One device's requests: its static body fields serialised once, on first use."""

    __slots__ = ("_app", "_static", "_static_text", "device")

    def __init__(self, app: AppPayloads, device: Device) -> None:
        self._app = app
        self.device = device
        self._static = b""  # the fields between request_id and app_version, without braces
        self._static_text = b""  # the same as JSON string content

    @property
    def paths(self) -> dict[str, str]:
        return self._app.paths(self.device.platform)

    def body(self, event: Event, request_id: str, timestamp_ms: int | None = None) -> bytes:
        """The exact body bytes of ``event``; ``timestamp_ms`` overrides the event's time."""
        static = self._static or self._serialise()
        tail = self._app.tail(event)[0]
        timestamp = event.time_ms if timestamp_ms is None else timestamp_ms
        if event.revenue is None:
            return _BODY % (timestamp, request_id.encode(), static, tail)
        return _BODY_WITH_PARAMETERS % (timestamp, request_id.encode(), static, tail,
                                        _parameters(event))

    def body_and_text(self, event: Event, request_id: str) -> tuple[bytes, bytes]:
        """The body and the same body as JSON string content, built from fragments escaped
        once (escaping each whole body costs more than the rest of building it)."""
        static = self._static or self._serialise()
        tail, tail_text = self._app.tail(event)
        timestamp, rid = event.time_ms, request_id.encode()
        if event.revenue is None:
            return (_BODY % (timestamp, rid, static, tail),
                    _BODY_TEXT % (timestamp, rid, self._static_text, tail_text))
        parameters = _parameters(event)
        return (_BODY_WITH_PARAMETERS % (timestamp, rid, static, tail, parameters),
                _BODY_WITH_PARAMETERS_TEXT % (timestamp, rid, self._static_text, tail_text,
                                              json_string_content(parameters)))

    def _serialise(self) -> bytes:
        self._static = orjson.dumps(self.device.body_fields())[1:-1]
        self._static_text = json_string_content(self._static)
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
