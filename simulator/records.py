"""The JSON-lines traffic record: one signed request a line, the format ``ctvsim generate``
writes and ``ctvsim send`` reads. Defined once, here: the fields and their order, the line's
framing around the body, the constant middle of a line, and the parser with its
``file:line: what is wrong`` errors.

``{"time":<ms>,"channel":"s2s"|"c2s","operation":…,"platform":…,"app_id":…,"path":…,
"headers":{"authorization":"<hex HMAC>",…},"body":"<the exact signed JSON, as a string>"}``

``path`` is relative to the channel's base URL. On S2S the headers are the signature; on C2S
every header the device's SDK sends (the signature under the SDK's own header name), with
the device's address in ``X-Forwarded-For`` (``c2s.py``; ``send`` keeps it for loopback
targets only). A line without ``channel`` (written before there were two) is S2S.

The writer's hot path (``payloads.py``) fills pre-escaped byte templates; it takes their
framing (``frame``, ``c2s_line``) and constant middles (``line_heads``) from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from simulator import contract
from simulator.errors import InputError

__all__ = ["FIELDS", "Line", "c2s_line", "frame", "line_heads", "parse_lines"]


def frame(body_text: bytes) -> bytes:
    """A line template around a body template already escaped as JSON string content:
    ``%d`` the time, ``%s`` the constant middle (``line_heads``), ``%s`` the signature, then
    the body's own placeholders."""
    return b'{"time":%d,%s"%s"},"body":"' + body_text + b'"}\n'


def c2s_line(time_ms: int, head: bytes, headers: bytes, body_text: bytes) -> bytes:
    """A C2S line: its headers (a JSON object) vary by device, so the middle (``head``) ends
    where they start."""
    return b'{"time":%d,%s%s,"body":"%s"}\n' % (time_ms, head, headers, body_text)


def line_heads(app_id: str, platform: str, channel: str = contract.S2S,
               ) -> dict[str, list[Any]]:
    """Per operation: [the line's constant middle, serialised once (from "channel" up to
    where the S2S signature's string starts, or where C2S headers start); requests written
    so far]."""
    heads: dict[str, list[Any]] = {}
    for operation in contract.OPERATIONS:
        fields = {"channel": channel, "operation": operation, "platform": platform,
                  "app_id": app_id, "path": contract.relative_path(operation, platform, app_id),
                  "headers": {"authorization": ""} if channel == contract.S2S else 0}
        middle = orjson.dumps(fields)[1:-4 if channel == contract.S2S else -2]
        heads[operation] = [middle, 0]
    return heads


@dataclass(slots=True)
class Line:
    number: int
    time_ms: int
    operation: str
    platform: str
    app_id: str
    path: str  # relative to the channel's base URL
    channel: str
    headers: dict[str, str]  # as written; the signature under `signature_header`
    signature_header: str
    body: bytes
    request_id: str
    device: str  # the custom id: one device's requests stay in order
    json_body: bool  # the body parses as a JSON object (needed to re-stamp it)


# The fields of a record, in the order generate writes them, with their JSON types.
FIELDS: Final[Mapping[str, type]] = {
    "time": int, "operation": str, "platform": str, "app_id": str, "path": str,
    "headers": dict, "body": str,
}
_KINDS = {int: "an integer", str: "a string", dict: "an object"}


def parse_lines(name: str, stream: Iterable[bytes]) -> Iterator[Line]:
    """Every non-blank line as a Line; a broken one raises InputError naming file:line."""
    for number, raw in enumerate(stream, 1):
        if not raw.strip():
            continue
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise InputError(f"{name}:{number}: not a JSON object: {error}") from None
        yield _line(name, number, record)


def _line(name: str, number: int, record: Any) -> Line:
    def bad(what: str) -> InputError:
        return InputError(f"{name}:{number}: {what}")

    if type(record) is not dict:
        raise bad("not a JSON object")
    for key, kind in FIELDS.items():
        if type(record.get(key)) is not kind:
            raise bad(f'"{key}" must be {_KINDS[kind]} '
                      "(expected a line written by `ctvsim generate`)")
    if record["operation"] not in contract.OPERATIONS:
        raise bad(f'"operation" must be one of {", ".join(contract.OPERATIONS)}')
    channel = record.get("channel", contract.S2S)
    if channel not in contract.CHANNELS:
        raise bad(f'"channel" must be one of {", ".join(contract.CHANNELS)}, got {channel!r}')
    path = record["path"]
    expected = contract.relative_path(record["operation"], record["platform"], record["app_id"])
    prefix = contract.S2S_PREFIX if channel == contract.S2S else contract.C2S_PREFIX
    if path != expected or contract.parse_path(prefix + path) is None:
        raise bad(f'"path" must be exactly an operation path of the contract on {channel}, '
                  f'{{operation}}/app/{{platform}}/{{app_id}} (here {expected!r}), got {path!r}')
    headers = record["headers"]
    if not all(type(value) is str for value in headers.values()):
        raise bad('"headers" must map header names to strings')
    signature_header = next((name for name in headers if name.lower() == "authorization"), "")
    if not signature_header or not headers[signature_header]:
        raise bad('"headers" must hold the "authorization" signature')
    body = record["body"].encode()
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    request_id = parsed.get("request_id") if type(parsed) is dict else None
    device = contract.custom_id(parsed) if type(parsed) is dict else None
    return Line(number, record["time"], record["operation"], record["platform"],
                record["app_id"], path, channel, headers, signature_header, body,
                request_id if type(request_id) is str else "", device or "",
                type(parsed) is dict)
