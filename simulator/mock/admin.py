"""The admin API under ``/__admin/``: health, stats, the request journal, warnings, faults.

The journal endpoints follow WireMock's shapes where they fit (``GET /__admin/requests`` →
``{"requests": [...], "meta": {"total": n}}``, ``POST /__admin/requests/count`` →
``{"count": n}``, ``POST /__admin/requests/find`` → ``{"requests": [...]}``, ``DELETE
/__admin/requests`` resets), so WireMock habits carry over. Filters are query parameters
(GET) or a JSON object (POST): since, limit, app, platform, operation, status, device,
request_id, outcome, method, url.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from simulator.errors import FaultError
from simulator.mock import openapi
from simulator.mock.faults import FaultPlan
from simulator.mock.journal import RequestFilter, entry_json, parse_int
from simulator.mock.stats import Stats

if TYPE_CHECKING:
    from simulator.mock.state import MockState

ADMIN_PREFIX = "/__admin/"
OPENAPI_PATH = "/openapi.json"

Answer = tuple[int, Any, tuple[tuple[bytes, bytes], ...]]
# The query parameters (or JSON keys) each handler reads; any other is a 400 that lists
# these. None: the body is a fault plan, which FaultPlan checks key by key.
_FILTERS = (*RequestFilter.FIELDS, "limit", "deviceId", "device_id")
_PARAMS: dict[str, tuple[str, ...] | None] = {
    "_requests": _FILTERS, "_find": _FILTERS, "_count": _FILTERS, "_warnings": ("limit",),
    "_set_faults": None,
}
NO_HEADERS: tuple[tuple[bytes, bytes], ...] = ()


class Admin:
    """Answers admin requests from the mock's journal and fault plan."""

    def __init__(self, state: MockState) -> None:
        self._state = state
        self._openapi = orjson.dumps(openapi.document())
        self._routes: dict[str, dict[str, Callable[[Any], Mapping[str, Any]]]] = {
            "health": {"GET": self._health},
            "stats": {"GET": self._stats},
            "requests": {"GET": self._requests, "DELETE": self._reset},
            "requests/reset": {"POST": self._reset},
            "requests/count": {"GET": self._count, "POST": self._count},
            "requests/find": {"GET": self._find, "POST": self._find},
            "warnings": {"GET": self._warnings},
            "faults": {"GET": self._faults, "PUT": self._set_faults, "DELETE": self._clear_faults},
            "reset": {"POST": self._reset_all},
        }

    @property
    def openapi_json(self) -> bytes:
        return self._openapi

    def handle(self, method: str, path: str, query: bytes, body: bytes) -> Answer:
        if path == OPENAPI_PATH:
            if method != "GET":
                return 405, {"message": "use GET"}, ((b"allow", b"GET"),)
            return 200, None, NO_HEADERS
        methods = self._routes.get(path[len(ADMIN_PREFIX):].rstrip("/"))
        if methods is None:
            message = f"no admin route {path}; see the README for the admin API"
            return 404, {"message": message}, NO_HEADERS
        handler = methods.get(method)
        if handler is None:
            allow = ", ".join(methods).encode()
            return 405, {"message": f"{method} not allowed here"}, ((b"allow", allow),)
        try:
            params = self._params(method, query, body)
            names = _PARAMS.get(handler.__name__, ())
            if names is not None:
                _check_names(params, names)
            return 200, handler(params), NO_HEADERS
        except (ValueError, FaultError) as error:
            return 400, {"message": str(error)}, NO_HEADERS

    @staticmethod
    def _params(method: str, query: bytes, body: bytes) -> dict[str, Any]:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        twice = [name for name, count in Counter(name for name, _ in pairs).items() if count > 1]
        if twice:
            raise ValueError(f"query parameter {twice[0]!r} given twice; give each once")
        params: dict[str, Any] = dict(pairs)
        if method == "PUT" and not body.strip():
            raise ValueError("PUT /__admin/faults needs a JSON body, a fault plan such as "
                             '{"rules": [{"status": 503, "probability": 0.1}]}; '
                             "DELETE /__admin/faults clears the plan")
        if method in ("POST", "PUT") and body.strip():
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                raise ValueError("the request body must be JSON") from None
            if method == "POST" and not isinstance(parsed, dict):
                raise ValueError("the request body must be a JSON object of filters")
            params = parsed if method == "PUT" else {**params, **parsed}
        return params

    def _health(self, _: Any) -> dict[str, Any]:
        journal = self._state.journal
        stats = journal.stats()
        return {"status": "degraded" if journal.sink_failed else "ok",
                "apps": len(self._state.registry),
                "uptime_s": round(time.time() - self._state.started_at, 3),
                "requests": stats["requests"], "journal_file": stats["journal_file"]}

    def _stats(self, _: Any) -> Stats:
        return self._state.journal.stats()

    def _selected(self, params: dict[str, Any]) -> tuple[RequestFilter, list[Any]]:
        criteria = dict(params)
        if "deviceId" in criteria:
            criteria["device"] = criteria.pop("deviceId")
        if "device_id" in criteria:
            criteria["device"] = criteria.pop("device_id")
        selection = RequestFilter(**criteria)
        return selection, list(self._state.journal.entries(selection))

    def _requests(self, params: dict[str, Any]) -> dict[str, Any]:
        selection, matched = self._selected(params)
        journal = self._state.journal
        return {
            "requests": [entry_json(e) for e in selection.take(matched)],
            "meta": {"total": len(matched)},
            "requestJournalDisabled": journal.ring_size == 0,
        }

    def _find(self, params: dict[str, Any]) -> dict[str, Any]:
        selection, matched = self._selected(params)
        return {"requests": [entry_json(e) for e in selection.take(matched)]}

    def _count(self, params: dict[str, Any]) -> dict[str, Any]:
        _, matched = self._selected(params)
        return {"count": len(matched)}

    def _reset(self, _: Any) -> dict[str, Any]:
        self._state.journal.reset()
        return {"message": "journal and counters reset"}

    def _reset_all(self, params: Any) -> dict[str, Any]:
        """WireMock's ``POST /__admin/reset``: as good as new (journal, counters, faults)."""
        self._clear_faults(params)
        self._reset(params)
        return {"message": "journal, counters and faults reset"}

    def _warnings(self, params: dict[str, Any]) -> dict[str, Any]:
        limit = parse_int("limit", params.get("limit", 100), 0)
        return self._state.journal.warnings(limit or 0)

    def _faults(self, _: Any) -> dict[str, Any]:
        return self._state.faults.describe()

    def _set_faults(self, spec: Any) -> dict[str, Any]:
        self._state.faults = FaultPlan.from_spec(spec)
        return self._state.faults.describe()

    def _clear_faults(self, _: Any) -> dict[str, Any]:
        self._state.faults = FaultPlan()
        return self._state.faults.describe()


def _check_names(params: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        takes = f"takes {', '.join(allowed)}" if allowed else "takes no parameters"
        raise ValueError(f"unknown parameter {unknown[0]!r}: this endpoint {takes}")
