"""The mock as a raw ASGI application: the hot path that checks and journals every request.

No framework: one function reads the path, headers and body, runs the checks in the order
CONTRACT.md fixes, and answers with pre-built messages. Per valid request the Python work is
a cached route lookup, one JSON parse, one pre-keyed HMAC, ``contract.inspect`` behind a memo
(``validation.py``) and a few dict updates in the journal.

Check order: route (404) and method (405 + ``Allow: POST``) → app known on that platform (401)
→ body size (413: a body over 64 KiB is never buffered; it is read to its end and thrown
away, up to 64 MiB, so that the client sees the answer; it cannot be authenticated unread)
→ signature over the exact raw bytes (401) → Zero plan (403) → UTF-8 JSON object (at most
1,024 levels deep) and every field rule (400) → injected faults → 202 with an empty body.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson

from simulator import contract
from simulator.errors import FaultError
from simulator.mock.admin import ADMIN_PREFIX, OPENAPI_PATH, Admin
from simulator.mock.asgi import Message, Receive, Scope, Send
from simulator.mock.faults import Decision, FaultPlan, parse_rule
from simulator.mock.journal import DELAYED, Journal, RouteKey, Source, route_key
from simulator.mock.registry import ZERO_PLAN, Registry
from simulator.mock.state import MockState
from simulator.mock.validation import Inspector
from simulator.profiles import App
from simulator.signing import Verifier

ADMIN_BODY_LIMIT = 1024 * 1024
_UVICORN_NEEDED = "uvicorn>=0.30,<1"  # as pyproject.toml says
JSON_DEPTH_LIMIT = 1024  # orjson's; the standard library's fallback stops earlier still
ROUTE_CACHE_SIZE = 4096

_ACCEPTED_START = {"type": "http.response.start", "status": 202,
                   "headers": [(b"content-length", b"0")]}
_EMPTY_BODY = {"type": "http.response.body", "body": b""}
_JSON = b"application/json"
_DISCONNECTED = object()
_UNPARSED = object()
# A body over the limit, read to its end and thrown away, so that the client, which sends
# it whole before it reads the answer, gets the 413 (a connection closed under a client
# still writing is a ReadError to it). Past DRAIN_LIMIT bytes the mock stops reading and
# closes the connection instead: _TOO_LARGE_UNREAD.
_TOO_LARGE = object()
_TOO_LARGE_UNREAD = object()
DRAIN_LIMIT = 64 * 1024 * 1024

# A known route: (route, journal route key, (app, signature check) or None, path).
_Target = tuple[contract.Route, RouteKey, "tuple[App, Verifier] | None", str]

MESSAGE_UNKNOWN_APP = "Application ID not found"
MESSAGE_BAD_SIGNATURE = "Authentication failed"
MESSAGE_ZERO_PLAN = "Blocked due to Zero package limit."


class MockApp:
    """The ASGI callable. What it knows lives in a ``MockState`` that the admin API shares;
    the registry and the journal are fixed objects, the fault plan is read from the state
    on every request, because the admin API replaces it."""

    def __init__(
        self,
        registry: Registry,
        journal: Journal | None = None,
        faults: FaultPlan | None = None,
        on_shutdown: tuple[Callable[[], None], ...] = (),
    ) -> None:
        self.state = MockState(registry, journal if journal is not None else Journal(),
                               faults if faults is not None else FaultPlan())
        self.registry = registry
        self.journal = self.state.journal
        self._on_shutdown = on_shutdown
        self._admin = Admin(self.state)
        self._targets: dict[str, _Target | None] = {}
        self._hanging: set[_Connection] = set()
        self._delayed: set[asyncio.Future[None]] = set()
        self._inspect = Inspector()

    def release_waiting(self) -> None:
        """When the server stops: close the connections of hanging requests and answer delayed
        ones at once, so that stopping never waits for an injected fault (and a delayed
        request still gets its 202 and its journal entry)."""
        for transport in list(self._hanging):
            transport.close()
        for wake in list(self._delayed):
            _wake_up(wake)

    async def _delay(self, seconds: float) -> None:
        """An injected latency on an async timer (no thread), cut short by ``release_waiting``."""
        loop = asyncio.get_running_loop()
        wake: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(seconds, _wake_up, wake)
        self._delayed.add(wake)
        try:
            await wake
        finally:
            timer.cancel()
            self._delayed.discard(wake)

    def _target(self, path: str) -> _Target | None:
        """What a path names (``contract.parse_path``, the journal's route key, the registered
        app and its signature check), remembered for the few paths a load test uses (bounded,
        so a fuzzer's endless new paths cannot grow it). The registry is fixed before serving,
        so the app found here stays right."""
        route = contract.parse_path(path)
        target = None if route is None else (
            route, route_key(route), self.registry.get(route.platform, route.app_id), path)
        if len(self._targets) < ROUTE_CACHE_SIZE:
            self._targets[path] = target
        return target

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        """The handler's own coroutine, not one that awaits it: one coroutine less per request
        (the server is told this is ASGI 3, which it cannot tell from a plain method)."""
        if scope["type"] == "http":
            return self._http(scope, receive, send)
        return self._lifespan(scope, receive, send)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for close in self._on_shutdown:
                    close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        try:
            target = self._targets[path]
        except KeyError:
            target = self._target(path)
        method: str = scope["method"]
        if target is None:
            if path.startswith(ADMIN_PREFIX) or path == OPENAPI_PATH:
                await self._admin_call(scope, receive, send, method, path)
                return
            self.journal.unrouted(method, path, 404, "no such route", b"", _source(scope))
            await _error(send, 404, f"no route {method} {path}")
            return
        if method != "POST":
            self.journal.unrouted(method, path, 405, "method not allowed", b"",
                                  _source(scope))
            await _error(send, 405, f"{method} not allowed; use POST", ((b"allow", b"POST"),))
            return
        # The cached path: a ring of 100,000 entries then shares one string per route.
        route, where, known_app, path = target
        journal = self.journal
        if known_app is None:
            reason = f"unknown app {route.app_id} on {route.platform}"
            journal.rejected(where, path, 401, reason, b"", _source(scope))
            await _error(send, 401, MESSAGE_UNKNOWN_APP)
            return
        signature = fault_header = forwarded = agent = None
        length = 0
        for name, value in scope["headers"]:
            if name == b"authorization":
                signature = value
            elif name == b"content-length":
                length = int(value) if value.isdigit() else 0
            elif name == b"user-agent":
                agent = value
            elif name == b"x-forwarded-for":
                forwarded = value
            elif name == b"x-mock-fault":
                fault_header = value
        source = (_address(scope, forwarded), agent.decode("latin-1") if agent else "")
        limit = contract.MAX_BODY_BYTES
        if length > limit:
            body = await _discard_body(receive, 0)
        else:  # usually the whole body is in the first message: no extra coroutine for it
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body"):
                body = message.get("body", b"")
                if len(body) > limit:  # chunked: no content-length said so beforehand
                    body = _TOO_LARGE
            else:
                body = await _rest_of_body(message, receive, limit)
        if body is _DISCONNECTED:
            return
        if body is _TOO_LARGE or body is _TOO_LARGE_UNREAD:
            journal.rejected(where, path, 413, f"body over {limit} bytes", b"", source)
            await _error(send, 413, f"body larger than {limit} bytes",
                         () if body is _TOO_LARGE else ((b"connection", b"close"),))
            return
        app, verify = known_app
        if signature is None or not verify(body, signature):
            reason = "no authorization header" if signature is None else "signature mismatch"
            journal.rejected(where, path, 401, reason, body, source)
            await _error(send, 401, MESSAGE_BAD_SIGNATURE)
            return
        if app.plan == ZERO_PLAN:
            journal.rejected(where, path, 403, "app on the Zero plan", body, source)
            await _error(send, 403, MESSAGE_ZERO_PLAN)
            return
        try:
            document = orjson.loads(body)  # the usual case, without _parse_json's extra call
        except orjson.JSONDecodeError:
            document = _UNPARSED
        try:
            if document is _UNPARSED:
                document = _parse_json(body)
        except ValueError as error:
            reason = f"body is not UTF-8 JSON: {error}"
            journal.rejected(where, path, 400, reason, body, source)
            await _error(send, 400, reason)
            return
        findings = self._inspect(route.operation, route.platform, document, route.channel)
        if findings.violations:
            reason = "; ".join(map(str, findings.violations))
            journal.rejected(where, path, 400, reason, body, source)
            await _error(send, 400, reason)
            return
        if fault_header is not None or self.state.faults.rules:
            decision = self._fault(route, fault_header)
            if decision is not None:
                await self._inject(decision, where, path, document, body, findings, source,
                                   receive, send)
                return
        journal.accepted_event(where, path, document, body, findings.warnings, source=source)
        await send(_ACCEPTED_START)
        await send(_EMPTY_BODY)

    def _fault(self, route: contract.Route, header: bytes | None) -> Decision | None:
        extra = None
        if header is not None:
            try:
                extra = parse_rule(header.decode("latin-1"), "X-Mock-Fault")
            except FaultError as error:
                return Decision(0.0, "invalid", 400, None, str(error))
        return self.state.faults.decide(route, extra)

    async def _inject(
        self, decision: Decision, where: RouteKey, path: str, document: Any,
        body: bytes, findings: contract.Findings, source: Source, receive: Receive, send: Send,
    ) -> None:
        if decision.action == "invalid":
            self.journal.injected(where, path, 400, "invalid_fault_header", body, source)
            await _error(send, 400, decision.label)
            return
        if decision.delay:
            await self._delay(decision.delay)
        action = decision.action
        if action is None:
            self.journal.accepted_event(where, path, document, body, findings.warnings,
                                        DELAYED, source)
            await send(_ACCEPTED_START)
            await send(_EMPTY_BODY)
            return
        transport = _transport(receive)
        if action in ("reset", "empty") and transport is None:
            # Below HTTP there is nothing to reset without the connection: say so, rather
            # than quietly answer or hang.
            self.journal.injected(where, path, 500, decision.label, body, source)
            await _error(send, 500, f"injected fault {action} needs the connection, which "
                         "this server does not expose to the app: serve the mock with uvicorn "
                         f"({_UVICORN_NEEDED})")
            return
        status = decision.status if action == "error" else 0
        self.journal.injected(where, path, status, decision.label, body, source)
        if action == "error":
            headers: tuple[tuple[bytes, bytes], ...] = ()
            if decision.retry_after is not None:
                headers = ((b"retry-after", str(decision.retry_after).encode()),)
            await _error(send, status, f"injected fault {decision.label}", headers)
            return
        if action == "hang" and transport is not None:
            self._hanging.add(transport)
            try:
                await _until_disconnect(receive)
            finally:
                self._hanging.discard(transport)
            return
        if action == "reset" and transport is not None:
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif action == "empty" and transport is not None:
            transport.close()
        await _until_disconnect(receive)

    async def _admin_call(
        self, scope: Scope, receive: Receive, send: Send, method: str, path: str,
    ) -> None:
        body = await _read_body(receive, ADMIN_BODY_LIMIT)
        if body is _DISCONNECTED:
            return
        if body is _TOO_LARGE or body is _TOO_LARGE_UNREAD:
            await _error(send, 413, "admin request body too large",
                         () if body is _TOO_LARGE else ((b"connection", b"close"),))
            return
        status, payload, headers = self._admin.handle(method, path, scope["query_string"], body)
        if path == OPENAPI_PATH and status == 200:
            await _send(send, 200, self._admin.openapi_json, headers)
        else:
            await _send(send, status, orjson.dumps(payload), headers)


def _wake_up(wake: asyncio.Future[None]) -> None:
    if not wake.done():
        wake.set_result(None)


def _parse_json(body: bytes) -> Any:
    """orjson, and for what it refuses but JSON allows (integers beyond 64 bits, escaped lone
    surrogates) the standard library, still refusing NaN and Infinity, which JSON does not
    have. The contract, not the parser, decides what is valid."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        try:
            return json.loads(body.decode("utf-8"), parse_constant=_no_constant)
        except RecursionError:  # deeper than orjson's limit: no API body nests like that
            raise ValueError(f"nested deeper than {JSON_DEPTH_LIMIT} levels") from None
        except ValueError:
            raise error from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


async def _read_body(receive: Receive, limit: int) -> Any:
    """The whole body, _TOO_LARGE(_UNREAD) when it grows past ``limit``, or _DISCONNECTED
    if the client left."""
    return await _rest_of_body(await receive(), receive, limit)


async def _rest_of_body(message: Message, receive: Receive, limit: int) -> Any:
    """``_read_body`` once its first message has arrived."""
    if message["type"] != "http.request":
        return _DISCONNECTED
    body = message.get("body", b"")
    if not message.get("more_body"):
        return body if len(body) <= limit else _TOO_LARGE
    parts = [body]
    size = len(body)
    while message.get("more_body"):
        message = await receive()
        if message["type"] != "http.request":
            return _DISCONNECTED
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return await _discard_body(receive, size) if message.get("more_body") else _TOO_LARGE
        parts.append(chunk)
    return b"".join(parts)


async def _discard_body(receive: Receive, size: int) -> Any:
    """Reads the rest of a body that is too large without keeping it (``size`` bytes of it
    are read already): _TOO_LARGE at its end, _TOO_LARGE_UNREAD past DRAIN_LIMIT."""
    while size <= DRAIN_LIMIT:
        message = await receive()
        if message["type"] != "http.request":
            return _DISCONNECTED
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            return _TOO_LARGE
    return _TOO_LARGE_UNREAD


async def _until_disconnect(receive: Receive) -> None:
    """Wait (on the event loop, no thread) until the client or the server closes the line."""
    while (await receive())["type"] != "http.disconnect":
        pass


class _Connection(Protocol):
    """What the faults below HTTP do to a connection (asyncio's and uvloop's transports)."""

    def close(self) -> None: ...

    def abort(self) -> None: ...

    def get_extra_info(self, name: str, default: Any = None) -> Any: ...


def _transport(receive: Receive) -> _Connection | None:
    """The connection under an ASGI request, for faults below HTTP. ASGI has no way to reach
    it: uvicorn's ``receive`` is a method of its request cycle, which holds the transport.
    Anything else (another server, a test driving the app) gets None, and the faults that
    need it say so."""
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    usable = all(callable(getattr(transport, name, None))
                 for name in ("close", "abort", "get_extra_info"))
    return transport if usable else None


async def _send(send: Send, status: int, body: bytes,
                headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    await send({
        "type": "http.response.start", "status": status,
        "headers": [(b"content-type", _JSON), (b"content-length", str(len(body)).encode()),
                    *headers],
    })
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str,
                 headers: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    await _send(send, status, orjson.dumps({"message": message}), headers)


def _address(scope: Scope, forwarded: bytes | None) -> str:
    """The device's address: the first X-Forwarded-For address (behind a proxy, and in any
    local test, where every simulated device shares the loopback address), else the peer's."""
    if forwarded:
        first = forwarded.split(b",", 1)[0].strip()
        if first:
            return first.decode("latin-1")
    client = scope.get("client")
    return str(client[0]) if client else ""


def _source(scope: Scope) -> Source:
    """(address, user agent) of a request the hot path has not read the headers of."""
    forwarded = agent = None
    for name, value in scope["headers"]:
        if name == b"x-forwarded-for":
            forwarded = value
        elif name == b"user-agent":
            agent = value
    return _address(scope, forwarded), agent.decode("latin-1") if agent else ""
