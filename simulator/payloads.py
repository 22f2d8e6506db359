"""Events become requests: relative path, exact body bytes and signed headers.

Bodies are valid for their operation by construction: fields in ``contract.FIELD_ORDER``,
compact JSON, the strictest union of the per-operation rules (the profile loader already holds
device fields and app versions to the rules of every operation; ids here are lowercase UUID4s
and timestamps integer milliseconds). The hot path serialises a device's static fields once
and keeps the result as byte fragments; a request then adds only its timestamp, request id,
per-event fields and the signature, keyed by an HMAC whose key schedule is computed once.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from itertools import chain
from typing import Final, NamedTuple

import orjson

from simulator import contract, records
from simulator.behaviour import Event
from simulator.devices import Device
from simulator.profiles import App, EventSpec
from simulator.signing import Signer

__all__ = [
    "CONTENT_TYPE", "AppPayloads", "DevicePayloads", "Request", "custom_parameters_text",
    "event_parameters", "json_string_content", "request_id_bytes", "request_ids",
]

CONTENT_TYPE = "application/json"

_IDS_PER_DRAW = 512
# UUID4 over a whole draw of 16-byte ids: version nibble 4 (byte 6), variant bits 10 (byte 8).
_ID_MASK = int.from_bytes(bytes.fromhex("ffffffffffff0fff3fffffffffffffff") * _IDS_PER_DRAW)
_ID_BITS = int.from_bytes(bytes.fromhex("00000000000040008000000000000000") * _IDS_PER_DRAW)
# Each hex digit's column in an id's 8-4-4-4-12 text (dashes skip columns 8, 13, 18, 23);
# column 36 separates one id from the next.
_ID_COLUMNS = tuple(digit + (digit >= 8) + (digit >= 12) + (digit >= 16) + (digit >= 20)
                    for digit in range(32))
_ID_WIDTH = 37


def _id_blocks(rng: random.Random, version: bool = True) -> Iterator[bytes]:
    """Blocks of 512 lowercase UUID4s (or, without ``version``, random hex in the same
    8-4-4-4-12 groups) separated by spaces, from a seeded random stream.

    Each block is a handful of C-level operations on 8 KB of random bytes (masking the
    version and variant bits in one big integer, hex, then one strided copy per digit
    column): about a third of the cost of formatting ids one at a time.
    """
    count = _IDS_PER_DRAW
    mask, bits_set = (_ID_MASK, _ID_BITS) if version else (-1, 0)
    while True:
        bits = int.from_bytes(rng.randbytes(16 * count)) & mask | bits_set
        digits = bits.to_bytes(16 * count).hex().encode("ascii")
        block = bytearray(b"-" * (_ID_WIDTH * count))
        for digit, column in enumerate(_ID_COLUMNS):
            block[column::_ID_WIDTH] = digits[digit::32]
        block[_ID_WIDTH - 1::_ID_WIDTH] = b" " * count
        yield bytes(block)


def request_ids(rng: random.Random) -> Iterator[str]:
    """Lowercase UUID4 request ids from a seeded random stream: same seed, same ids."""
    return chain.from_iterable(block.decode("ascii").split() for block in _id_blocks(rng))


def request_id_bytes(rng: random.Random, id_format: str = "uuid4") -> Iterator[bytes]:
    """``request_ids`` as ASCII bytes, for building bodies without encoding each id;
    ``id_format`` "guid": random hex without the UUID version and variant (as Roku's SDK)."""
    return chain.from_iterable(map(bytes.split, _id_blocks(rng, id_format == "uuid4")))


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
# A JSON line holding a signed request (what `ctvsim generate` writes, records.py).
_RECORD = records.frame(_BODY_TEXT)
_RECORD_WITH_PARAMETERS = records.frame(_BODY_WITH_PARAMETERS_TEXT)


class AppPayloads:
    """What every device of one app shares: the signer, the paths, and the body's tail
    fragments (app_version, event_name), each serialised once per app."""

    def __init__(self, app: App, dev_key: str, path_prefix: str = "") -> None:
        self.app = app
        self.sign = Signer(dev_key)
        self.path_prefix = path_prefix  # before each path (a run on both channels' base)
        self._paths: dict[tuple[str, str], dict[str, str]] = {}
        self._tails: dict[tuple[str, str | None], tuple[bytes, bytes]] = {}

    def device(self, device: Device) -> DevicePayloads:
        return DevicePayloads(self, device)

    def paths(self, platform: str, prefix: str | None = None) -> dict[str, str]:
        """The relative path of each operation on ``platform`` (after ``prefix``, by default
        this app's)."""
        prefix = self.path_prefix if prefix is None else prefix
        paths = self._paths.get((platform, prefix))
        if paths is None:
            paths = self._paths[platform, prefix] = {
                operation: prefix + contract.relative_path(operation, platform, self.app.app_id)
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
                if spec.custom_parameters:
                    raw += b',"event_custom_parameters":' + orjson.dumps(
                        custom_parameters_text(spec))
            tail = self._tails[key] = (raw, json_string_content(raw))
        return tail


def event_parameters(event: Event) -> dict[str, object]:
    """AppsFlyer's predefined parameters of an in-app event with revenue."""
    currency = event.spec.currency if event.spec is not None else None
    return ({"af_revenue": event.revenue, "af_currency": currency}
            if currency else {"af_revenue": event.revenue})


def custom_parameters_text(spec: EventSpec) -> str:
    """``event_custom_parameters`` as the published schema has it: a JSON object's text."""
    return orjson.dumps(dict(spec.custom_parameters)).decode()


def _parameters(event: Event) -> bytes:
    return orjson.dumps(event_parameters(event))


class DevicePayloads:
    """One device's S2S requests: its static body fields serialised once, on first use.
    (``c2s.SdkDevicePayloads`` answers the same calls on C2S.)"""

    __slots__ = ("_app", "_static", "_static_text", "device")
    channel: Final = contract.S2S
    signature_header: Final = "authorization"
    request_id_format: Final = "uuid4"

    def __init__(self, app: AppPayloads, device: Device) -> None:
        self._app = app
        self.device = device
        self._static = b""  # the fields between request_id and app_version, without braces
        self._static_text = b""  # the same as JSON string content

    @property
    def paths(self) -> dict[str, str]:
        return self._app.paths(self.device.platform)

    def headers(self) -> dict[str, str]:
        """The request's headers, the signature empty (filled per request)."""
        return {"authorization": "", "content-type": CONTENT_TYPE}

    def body(self, event: Event, request_id: bytes, timestamp_ms: int | None = None) -> bytes:
        """The exact body bytes of ``event``; ``timestamp_ms`` overrides the event's time.

        ``request_id`` as ASCII bytes (``request_id_bytes``): nothing to encode per request.
        """
        static = self._static or self._serialise()
        tail = self._app.tail(event)[0]
        timestamp = event.time_ms if timestamp_ms is None else timestamp_ms
        if event.revenue is None:
            return _BODY % (timestamp, request_id, static, tail)
        return _BODY_WITH_PARAMETERS % (timestamp, request_id, static, tail, _parameters(event))

    def record(self, event: Event, request_id: bytes, head: bytes) -> bytes:
        """``event`` signed, as one JSON line: ``{"time":…,<head>"<signature>"},"body":"…"}``.

        ``head`` is the line's constant middle, ending where the signature's string starts.
        The line is one format of fragments escaped once: no escaped body as an object of its
        own, no id to encode (``request_id_bytes``), which the hot path of ``generate`` feels.
        """
        static = self._static or self._serialise()
        tail, tail_text = self._app.tail(event)
        timestamp = event.time_ms
        if event.revenue is None:
            signature = self._app.sign(_BODY % (timestamp, request_id, static, tail))
            return _RECORD % (timestamp, head, signature.encode(), timestamp, request_id,
                              self._static_text, tail_text)
        parameters = _parameters(event)
        signature = self._app.sign(_BODY_WITH_PARAMETERS % (timestamp, request_id, static, tail,
                                                            parameters))
        return _RECORD_WITH_PARAMETERS % (timestamp, head, signature.encode(), timestamp,
                                          request_id, self._static_text, tail_text,
                                          json_string_content(parameters))

    def _serialise(self) -> bytes:
        self._static = orjson.dumps(self.device.body_fields())[1:-1]
        self._static_text = json_string_content(self._static)
        return self._static

    def request(self, event: Event, request_id: str, timestamp_ms: int | None = None,
                ) -> Request:
        """``event`` as a signed request (``timestamp_ms``: send it as of another instant)."""
        body = self.body(event, request_id.encode(), timestamp_ms)
        headers = self.headers()
        headers["authorization"] = self._app.sign(body)
        return Request(
            event.time_ms if timestamp_ms is None else timestamp_ms, event.operation,
            self.device.platform, self._app.app.app_id, self.paths[event.operation], body,
            headers, request_id,
        )
