"""Events become C2S requests as an AppsFlyer SDK writes them: the persona of the device's
platform (``profiles/sdks.yaml``, ``Sdk``) says which fields, in which order, how the
instant and the ids are written, which headers go with them, and its quirks.

The body has no ``ip`` and no ``user_agent``: on C2S the receiver takes the address from the
connection and the agent from the ``User-Agent`` header. Every simulated device shares
127.0.0.1 towards a local target, so there each device's public IPv4 travels in
``X-Forwarded-For`` (``forward_address``), which the mock reads as the device's address (as
AppsFlyer would behind a proxy); towards AppsFlyer it is left out.

Like ``payloads.py``, the hot path serialises each device's body once per shape (operation,
app version, event) into a template with three holes (request id, instant, revenue), and a
request fills them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

import orjson

from simulator import contract, records
from simulator.behaviour import Event
from simulator.devices import Device
from simulator.payloads import (
    AppPayloads,
    Request,
    custom_parameters_text,
    event_parameters,
    json_string_content,
)
from simulator.profiles import Sdk

__all__ = ["FORWARDED_FOR", "SdkDevicePayloads", "SdkPayloads"]

FORWARDED_FOR: Final = "X-Forwarded-For"
# Stand-ins for the per-request values while a template is serialised (no real value of a
# body can contain "\x1f", which JSON writes escaped).
_REQUEST_ID: Final = "\x1frequest_id"
_TIMESTAMP: Final = "\x1ftimestamp"
_PARAMETERS: Final = "\x1fparameters"
# Each stand-in as serialised, and the named hole that replaces it in a template.
_HOLES: Final = ((orjson.dumps(_REQUEST_ID), b'"%(r)s"'), (orjson.dumps(_TIMESTAMP), b"%(t)s"),
                 (orjson.dumps(_PARAMETERS), b"%(p)s"))


def _datetime_digits(ms: int) -> bytes:
    """yyyyMMddHHmmssffff (UTC): the Unity Epic sample's instant, to 1/10,000 s."""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return b'"%s%04d"' % (moment.strftime("%Y%m%d%H%M%S").encode(), ms % 1000 * 10)


# How each timestamp format writes a millisecond instant as a JSON token.
TIMESTAMP_WRITERS: Final[dict[str, Callable[[int], bytes]]] = {
    "number": lambda ms: b"%d" % ms,
    "digits": lambda ms: b'"%d"' % ms,
    "seconds_ms": lambda ms: b'"%d%d"' % divmod(ms, 1000),
    "datetime": _datetime_digits,
}


class SdkPayloads:
    """What every device of one platform shares on C2S in one app: the SDK as it sends
    (``quirks`` on) or as the published schema says (off), the signer and the paths."""

    def __init__(self, app: AppPayloads, sdk: Sdk, *, quirks: bool = True,
                 forward_address: bool = True, path_prefix: str = "") -> None:
        self.app = app
        self.sdk = sdk.with_quirks() if quirks else sdk
        self.forward_address = forward_address
        self.path_prefix = path_prefix
        self.timestamp = TIMESTAMP_WRITERS.get(self.sdk.timestamp)
        self.signature_header = next(name for name, value in self.sdk.headers
                                     if "{signature}" in value)

    def device(self, device: Device) -> SdkDevicePayloads:
        return SdkDevicePayloads(self, device)


class SdkDevicePayloads:
    """One device's C2S requests (the same calls as ``payloads.DevicePayloads``)."""

    __slots__ = ("_sdk", "_templates", "device", "paths")
    channel: Final = contract.C2S

    def __init__(self, sdk: SdkPayloads, device: Device) -> None:
        self._sdk = sdk
        self.device = device
        self.paths = sdk.app.paths(device.platform, sdk.path_prefix)
        self._templates: dict[tuple[str, str, str | None], bytes] = {}  # per event shape

    @property
    def signature_header(self) -> str:
        return self._sdk.signature_header

    @property
    def sdk(self) -> Sdk:
        """The SDK as this device sends (its quirks applied or not)."""
        return self._sdk.sdk

    @property
    def request_id_format(self) -> str:
        return self._sdk.sdk.request_id

    def headers(self) -> dict[str, str]:
        """The SDK's headers in its order, the signature empty (filled per request)."""
        agent = self.device.user_agent
        headers = {name: "" if "{signature}" in value else value.replace("{user_agent}", agent)
                   for name, value in self._sdk.sdk.headers}
        if self._sdk.forward_address:
            headers[FORWARDED_FOR] = self.device.ip
        return headers

    def body(self, event: Event, request_id: bytes, timestamp_ms: int | None = None) -> bytes:
        spec = event.spec
        key = (event.operation, event.app_version, None if spec is None else spec.name)
        template = self._templates.get(key)
        if template is None:
            template = self._templates[key] = self._template(event)
        stamp = self._sdk.timestamp
        instant = event.time_ms if timestamp_ms is None else timestamp_ms
        parameters = orjson.dumps(event_parameters(event)) if event.revenue is not None else b""
        return template % {b"r": request_id, b"t": stamp(instant) if stamp else b"",
                           b"p": parameters}

    def _template(self, event: Event) -> bytes:
        """The body of ``event``'s shape, with a named hole for each per-request value."""
        sdk, device = self._sdk.sdk, self.device
        ids = [{"type": id_type if id_type == "custom" or sdk.id_type is None else sdk.id_type,
                "value": value} for id_type, value in device.device_ids]
        if sdk.ad_id_first:
            ids = ids[1:] + ids[:1]
        spec = event.spec
        values: dict[str, Any] = {
            "device_ids": ids, "device_model": device.device_model,
            "device_os_version": device.device_os_version,
            "limit_ad_tracking": device.limit_ad_tracking,
            "customer_user_id": device.customer_user_id,
            "request_id": _REQUEST_ID,
            "timestamp": _TIMESTAMP if self._sdk.timestamp else None,
            "app_version": event.app_version,
            "event_name": spec.name if spec else None,
            "event_parameters": _PARAMETERS if event.revenue is not None else None,
            "event_custom_parameters": None,
            **sdk.constants,
        }
        if spec is not None and spec.custom_parameters:
            values["event_custom_parameters"] = (
                dict(spec.custom_parameters) if sdk.custom_parameters == "object"
                else custom_parameters_text(spec))
        body = {name: values[name] for name in sdk.fields if values.get(name) is not None}
        template = orjson.dumps(body).replace(b"%", b"%%")
        for stand_in, hole in _HOLES:
            template = template.replace(stand_in, hole)
        return template

    def _signed_headers(self, body: bytes) -> dict[str, str]:
        headers = self.headers()
        headers[self.signature_header] = self._sdk.app.sign(body)
        return headers

    def request(self, event: Event, request_id: str, timestamp_ms: int | None = None,
                ) -> Request:
        body = self.body(event, request_id.encode(), timestamp_ms)
        headers = self._signed_headers(body)
        return Request(
            event.time_ms if timestamp_ms is None else timestamp_ms, event.operation,
            self.device.platform, self._sdk.app.app.app_id, self.paths[event.operation], body,
            headers, request_id,
        )

    def record(self, event: Event, request_id: bytes, head: bytes) -> bytes:
        """``event`` signed, as one JSON line (``records.c2s_line``)."""
        body = self.body(event, request_id)
        return records.c2s_line(event.time_ms, head, orjson.dumps(self._signed_headers(body)),
                                json_string_content(body))
