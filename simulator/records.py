"""The JSON-lines traffic record: one signed request a line, the format ``ctvsim generate``
writes and ``ctvsim send`` reads. Defined once, here: the fields and their order, the line's
framing around the body, the constant middle of a line, and the parser with its
``file:line: what is wrong`` errors.

``{"time":<ms>,"operation":…,"platform":…,"app_id":…,"path":…,"headers":{"authorization":
"<hex HMAC>"},"body":"<the exact signed JSON, as a string>"}``

The writer's hot path (``payloads.py``) fills pre-escaped byte templates; it takes their
framing (``frame``) and constant middles (``line_heads``) from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from simulator import contract
from simulator.errors import InputError

__all__ = ["FIELDS", "Line", "frame", "line_heads", "parse_lines"]


def frame(body_text: bytes) -> bytes:
    """A line template around a body template already escaped as JSON string content:
    ``%d`` the time, ``%s`` the constant middle (``line_heads``), ``%s`` the signature, then
    the body's own placeholders."""
    return b'{"time":%d,%s"%s"},"body":"' + body_text + b'"}\n'


def line_heads(app_id: str, platform: str) -> dict[str, list[Any]]:
    """Per operation: [the line's constant middle, serialised once (from "operation" up to
    where the signature's string starts); requests written so far]."""
    return {
        operation: [orjson.dumps({
            "operation": operation, "platform": platform, "app_id": app_id,
            "path": contract.relative_path(operation, platform, app_id),
            "headers": {"authorization": ""},
        })[1:-4], 0]
        for operation in contract.OPERATIONS
    }


@dataclass(slots=True)
class Line:
    number: int
    time_ms: int
    operation: str
    platform: str
    app_id: str
    path: str
    authorization: str
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
    path = record["path"]
    expected = contract.relative_path(record["operation"], record["platform"], record["app_id"])
    if path != expected or contract.parse_path(contract.S2S_PREFIX + path) is None:
        raise bad(f'"path" must be exactly an operation path of the contract, '
                  f'{{operation}}/app/{{platform}}/{{app_id}} (here {expected!r}), got {path!r}')
    authorization = record["headers"].get("authorization")
    if type(authorization) is not str or not authorization:
        raise bad('"headers" must hold the "authorization" signature')
    body = record["body"].encode()
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    request_id = parsed.get("request_id") if type(parsed) is dict else None
    device = contract.custom_id(parsed) if type(parsed) is dict else None
    return Line(number, record["time"], record["operation"], record["platform"],
                record["app_id"], path, authorization, body,
                request_id if type(request_id) is str else "", device or "",
                type(parsed) is dict)
