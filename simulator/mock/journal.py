"""What the mock received: exact counters, per-device state, duplicates, and recent requests.

Everything here runs on the server's single event loop, so plain integers in dicts are exact
without locks; the load harness reconciles its own counts against them. Memory is bounded:
device state and remembered request ids are 64-bit hashes, request ids are remembered in two
generations (a window, not forever), and recent requests live in a fixed-size ring.

Counting rules (the README states them for users):
- ``by_app`` counts the outcome of the contract checks per app, platform, operation and status
  (202, 400, 401, 403, 413). Injected faults are counted apart in ``injected`` and never as a
  validation outcome; a request answered by a fault is not an accepted event.
- an accepted request whose ``request_id`` was already accepted for that app is a duplicate:
  202 again, counted in ``duplicates``, never a second unique event, and it adds no warnings.
- soft findings (warnings) are counted for accepted unique events only.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol

import orjson

from simulator import contract
from simulator.contract import FIRST_OPEN, TIMESTAMP_WINDOW_MS, Route
from simulator.instants import parse_instant
from simulator.mock.stats import ByApp, JournalFile, Stats

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"
INJECTED = "injected"
UNROUTED = "unrouted"
OUTCOMES = (ACCEPTED, DUPLICATE, REJECTED, INJECTED, UNROUTED)

DELAYED = "latency"  # the fault label of a request answered normally after an injected delay

ORDERING = "ordering"
TIMESTAMP_REPLACED = "timestamp_replaced"

DEFAULT_RING_SIZE = 100_000
DEFAULT_DEDUP_WINDOW = 1_000_000
# Past these the ring or the id sets would not fit in any machine's memory (and a deque's
# maxlen must fit a C ssize_t): the command line refuses them.
MAX_RING_SIZE = 100_000_000
MAX_DEDUP_WINDOW = 1_000_000_000
RECENT_WARNINGS = 1_000

# ROUTE is (channel, operation, platform, app_id): a plain tuple, cheap to hash.
RouteKey = tuple[str, str, str, str]


class Entry(NamedTuple):
    """One request as the journal's readers see it (the admin API, the SQLite file).

    The journal itself keeps each as a plain tuple of the same fields (``Record``): Python's
    collector stops tracking a plain tuple of strings, numbers and bytes, but not a tuple
    subclass, and a full ring of 100,000 tracked entries cost the mock 1.2 us per request
    under load (bench/RESULTS.md). ``Entry._make(record)`` names the fields for a reader.
    """

    seq: int
    time: float  # epoch seconds
    method: str
    path: str
    route: RouteKey | None  # None: no public route has that path
    status: int  # 0: the connection was reset, closed empty or left hanging
    outcome: str
    reason: str
    warnings: tuple[str, ...]
    fault: str
    body: bytes
    address: str  # the device's: the first X-Forwarded-For address, else the peer's
    user_agent: str  # the User-Agent header ("" without one)


# An Entry's fields as a plain tuple: what the ring and the sink hold.
Record = tuple[int, float, str, str, RouteKey | None, int, str, str, tuple[str, ...], str, bytes,
               str, str]
# Who sent a request, as the journal keeps it: (address, user agent).
Source = tuple[str, str]
NO_SOURCE: Source = ("", "")
NO_ROUTE = (None, None, None, None)
CHANNEL, OPERATION, PLATFORM, APP_ID = range(4)


class Sink(Protocol):
    """Where every entry also goes (the SQLite file): it says whether it kept them."""

    def __call__(self, entry: Record) -> None: ...

    def status(self) -> JournalFile: ...

    @property
    def failed(self) -> bool: ...


def route_key(route: Route) -> RouteKey:
    """How the journal names a route: a plain tuple, cheap to hash and never GC-tracked."""
    return (route.channel, route.operation, route.platform, route.app_id)


class Journal:
    """Counters and recent history of one mock instance."""

    def __init__(
        self,
        ring_size: int = DEFAULT_RING_SIZE,
        dedup_window: int = DEFAULT_DEDUP_WINDOW,
        sink: Sink | None = None,
    ) -> None:
        if ring_size < 0 or dedup_window < 1:
            raise ValueError("ring_size must be >= 0 and dedup_window >= 1")
        self.ring_size = ring_size
        self.dedup_window = dedup_window
        self._sink = sink
        self.reset()

    def reset(self) -> None:
        """Forget everything: counters, device state, remembered ids and the ring."""
        self.started_at = time.time()
        self._seq = 0
        self._outcomes: dict[tuple[RouteKey, int], int] = {}
        self._injected: dict[tuple[RouteKey, str], int] = {}
        self._unrouted: dict[int, int] = {}
        self._warnings: dict[str, int] = {}
        self.accepted = self.unique = self.duplicates = 0
        self.delayed = 0  # accepted after an injected latency (counted in accepted too)
        self._devices: set[int] = set()
        self._ids: set[int] = set()
        self._old_ids: set[int] = set()
        self._ring: deque[Record] = deque(maxlen=self.ring_size or 1)
        self._recent_warnings: deque[dict[str, Any]] = deque(maxlen=RECENT_WARNINGS)

    # ------------------------------------------------------------------ recording (hot path)

    def _log(self, entry: Record) -> None:
        if self.ring_size:
            self._ring.append(entry)
        if self._sink is not None:
            self._sink(entry)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def unrouted(self, method: str, path: str, status: int, reason: str, body: bytes,
                 source: Source = NO_SOURCE) -> None:
        self._unrouted[status] = self._unrouted.get(status, 0) + 1
        self._log((self._next(), time.time(), method, path, None, status, UNROUTED, reason,
                   (), "", body, *source))

    def rejected(self, where: RouteKey, path: str, status: int, reason: str, body: bytes,
                 source: Source = NO_SOURCE) -> None:
        key = (where, status)
        self._outcomes[key] = self._outcomes.get(key, 0) + 1
        self._log((self._next(), time.time(), "POST", path, where, status, REJECTED, reason,
                   (), "", body, *source))

    def injected(self, where: RouteKey, path: str, status: int, fault: str, body: bytes,
                 source: Source = NO_SOURCE) -> None:
        key = (where, fault)
        self._injected[key] = self._injected.get(key, 0) + 1
        self._log((self._next(), time.time(), "POST", path, where, status, INJECTED,
                   "injected fault", (), fault, body, *source))

    def accepted_event(
        self, where: RouteKey, path: str, body: dict[str, Any], raw: bytes,
        soft: list[contract.Violation], fault: str = "", source: Source = NO_SOURCE,
    ) -> bool:
        """Record a 202 (``fault`` DELAYED: after an injected latency); returns False when it
        was a duplicate of an accepted request id."""
        key = (where, 202)
        outcomes = self._outcomes
        outcomes[key] = outcomes.get(key, 0) + 1
        self.accepted += 1
        if fault:
            self.delayed += 1
        now = time.time()
        request_id = body.get("request_id")
        if request_id is not None:
            id_hash = hash((where[APP_ID], request_id))
            if id_hash in self._ids or id_hash in self._old_ids:
                self.duplicates += 1
                self._log((self._next(), now, "POST", path, where, 202, DUPLICATE,
                           "request_id already accepted", (), fault, raw, *source))
                return False
            self._remember_id(id_hash)
        self.unique += 1
        warnings = self._soft_findings(where, body, soft, now)
        self._seq = seq = self._seq + 1
        entry: Record = (seq, now, "POST", path, where, 202, ACCEPTED, "", warnings, fault,
                         raw, *source)
        if self.ring_size:  # _log, inlined: this runs for every accepted request
            self._ring.append(entry)
        if self._sink is not None:
            self._sink(entry)
        return True

    def _remember_id(self, id_hash: int) -> None:
        ids = self._ids
        ids.add(id_hash)
        if len(ids) >= self.dedup_window:
            self._old_ids = ids
            self._ids = set()

    def _soft_findings(
        self, where: RouteKey, body: dict[str, Any], soft: list[contract.Violation], now: float,
    ) -> tuple[str, ...]:
        found = [(v.rule, str(v)) for v in soft] if soft else None
        custom = contract.custom_id(body)
        if custom is not None:
            device = hash((where[APP_ID], custom))
            if where[OPERATION] == FIRST_OPEN:
                self._devices.add(device)
            elif device not in self._devices:
                found = found or []
                found.append(
                    (ORDERING, f"{where[OPERATION]} before any first_open of device {custom}"))
        stamp = body.get("timestamp")
        if type(stamp) is int:
            now_ms = int(now * 1000)
            if stamp > now_ms or stamp < now_ms - TIMESTAMP_WINDOW_MS:
                found = found or []
                found.append((TIMESTAMP_REPLACED,
                              f"timestamp {stamp} replaced by receive time {now_ms}"))
        if not found:
            return ()
        return self._count_warnings(where, body, found)

    def _count_warnings(
        self, where: RouteKey, body: dict[str, Any], found: list[tuple[str, str]],
    ) -> tuple[str, ...]:
        counts = self._warnings
        for rule, text in found:
            counts[rule] = counts.get(rule, 0) + 1
            self._recent_warnings.append({
                "seq": self._seq + 1, "rule": rule, "message": text, "app_id": where[APP_ID],
                "platform": where[PLATFORM], "operation": where[OPERATION],
                "request_id": body.get("request_id"), "device_id": contract.custom_id(body),
            })
        return tuple(text for _, text in found)

    # ------------------------------------------------------------------ reading (admin)

    def stats(self) -> Stats:
        by_app: ByApp = {}
        rejected: dict[str, int] = {}
        by_channel: dict[str, dict[str, int]] = {}
        by_channel_app: dict[str, ByApp] = {}
        for ((channel, operation, platform, app_id), status), count in sorted(
                self._outcomes.items()):
            for tree in (by_app, by_channel_app.setdefault(channel, {})):
                _add(tree, app_id, platform, operation, str(status), count)
            statuses = by_channel.setdefault(channel, {})
            statuses[str(status)] = statuses.get(str(status), 0) + count
            if status != 202:
                rejected[str(status)] = rejected.get(str(status), 0) + count
        for status, count in self._unrouted.items():
            rejected[str(status)] = rejected.get(str(status), 0) + count
        injected_by_app: ByApp = {}
        injected_by_channel_app: dict[str, ByApp] = {}
        injected: dict[str, int] = {}
        for ((channel, operation, platform, app_id), fault), count in sorted(
                self._injected.items()):
            for tree in (injected_by_app, injected_by_channel_app.setdefault(channel, {})):
                _add(tree, app_id, platform, operation, fault, count)
            injected[fault] = injected.get(fault, 0) + count
        total = (sum(self._outcomes.values()) + sum(self._injected.values())
                 + sum(self._unrouted.values()))
        return {
            "requests": total,
            "accepted": self.accepted,
            "unique": self.unique,
            "duplicates": self.duplicates,
            "rejected": dict(sorted(rejected.items())),
            "injected": dict(sorted(injected.items())),
            "delayed": self.delayed,
            "warnings": dict(sorted(self._warnings.items())),
            "devices": len(self._devices),
            "by_app": by_app,
            "by_channel": by_channel,  # final statuses (injected faults apart), per channel
            "injected_by_app": injected_by_app,
            "by_channel_app": by_channel_app,
            "injected_by_channel_app": injected_by_channel_app,
            "since": _iso(self.started_at),
            "ring": {"size": self.ring_size, "held": len(self._ring) if self.ring_size else 0},
            "journal_file": None if self._sink is None else self._sink.status(),
        }

    @property
    def sink_failed(self) -> bool:
        """The journal file could not be written: the run's record is incomplete."""
        return self._sink is not None and self._sink.failed

    def warnings(self, limit: int = RECENT_WARNINGS) -> dict[str, Any]:
        recent = list(self._recent_warnings)[-limit:] if limit > 0 else []
        return {
            "counts": dict(sorted(self._warnings.items())),
            "duplicates": self.duplicates,
            "recent": recent[::-1],
        }

    def entries(self, filters: RequestFilter) -> Iterator[Entry]:
        """Matching ring entries, newest first."""
        if not self.ring_size:
            return iter(())
        return (entry for entry in map(Entry._make, reversed(self._ring))
                if filters.matches(entry))


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def body_fields(raw: bytes) -> tuple[str | None, str | None]:
    """(request_id, custom device id) of a raw body, when it is a JSON object that has them."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None, None
    if type(body) is not dict:
        return None, None
    request_id = body.get("request_id")
    return (request_id if type(request_id) is str else None), contract.custom_id(body)


def entry_json(entry: Entry) -> dict[str, Any]:
    """One journal entry in WireMock's serve-event shape plus the mock's own findings."""
    route = entry.route
    channel, operation, platform, app_id = route or NO_ROUTE
    request_id, device_id = body_fields(entry.body)
    return {
        "id": str(entry.seq),
        "seq": entry.seq,
        "request": {
            "method": entry.method,
            "url": entry.path,
            "loggedDate": int(entry.time * 1000),
            "loggedDateString": _iso(entry.time),
            "body": entry.body.decode("utf-8", "replace"),
        },
        "response": {"status": entry.status},
        "wasMatched": route is not None,
        "channel": channel,
        "operation": operation,
        "platform": platform,
        "app_id": app_id,
        "outcome": entry.outcome,
        "reason": entry.reason,
        "warnings": list(entry.warnings),
        "fault": entry.fault or None,
        "request_id": request_id,
        "device_id": device_id,
        "address": entry.address or None,
        "user_agent": entry.user_agent or None,
    }


class RequestFilter:
    """Which journal entries a query wants; every given criterion must hold."""

    FIELDS = ("since", "channel", "app", "platform", "operation", "status", "device",
              "request_id", "outcome", "method", "url", "address")

    def __init__(self, **criteria: Any) -> None:
        unknown = set(criteria) - set(self.FIELDS) - {"limit"}
        if unknown:
            raise ValueError(f"unknown filter {sorted(unknown)[0]!r}; allowed: "
                             + ", ".join((*self.FIELDS, "limit")))
        self.since = _parse_since(criteria.get("since"))
        self.channel = _parse_choice("channel", criteria.get("channel"), contract.CHANNELS)
        self.address = _parse_text("address", criteria.get("address"))
        self.app = _parse_text("app", criteria.get("app"))
        self.platform = _parse_choice("platform", criteria.get("platform"), contract.PLATFORMS)
        self.operation = _parse_choice("operation", criteria.get("operation"),
                                       contract.OPERATIONS)
        self.status = parse_int("status", criteria.get("status"), 0, 599)
        self.device = _parse_text("device", criteria.get("device"))
        self.request_id = _parse_text("request_id", criteria.get("request_id"))
        self.outcome = _parse_choice("outcome", criteria.get("outcome"), OUTCOMES)
        self.method = _parse_text("method", criteria.get("method"))
        self.url = _parse_text("url", criteria.get("url"))
        self.limit = parse_int("limit", criteria.get("limit"), 0)

    def matches(self, entry: Entry) -> bool:
        route = entry.route
        if self.since is not None and entry.time < self.since:
            return False
        if self.status is not None and entry.status != self.status:
            return False
        if ((self.outcome is not None and entry.outcome != self.outcome)
                or (self.method is not None and entry.method != self.method.upper())
                or (self.url is not None and entry.path != self.url)
                or (self.address is not None and entry.address != self.address)):
            return False
        wants_route = (self.channel, self.app, self.platform, self.operation) != (
            None, None, None, None)
        if wants_route and (route is None or not (
            self.app in (None, route[3]) and self.platform in (None, route[2])
            and self.operation in (None, route[1]) and self.channel in (None, route[0])
        )):
            return False
        if self.device is not None or self.request_id is not None:
            request_id, device_id = body_fields(entry.body)
            if self.device not in (None, device_id) or self.request_id not in (None, request_id):
                return False
        return True

    def take(self, entries: Iterable[Entry]) -> list[Entry]:
        if self.limit is None:
            return list(entries)
        taken: list[Entry] = []
        for entry in entries:
            if len(taken) >= self.limit:
                break
            taken.append(entry)
        return taken


def parse_int(name: str, value: Any, low: int, high: int | None = None) -> int | None:
    """A query value as a whole number in [low, high]; ValueError says what is allowed."""
    if value is None:
        return None
    allowed = f"a whole number from {low}" + (f" to {high}" if high is not None else " up")
    try:
        number = value if type(value) is int else int(str(value).strip())
    except ValueError:
        raise ValueError(f"{name} must be {allowed}, got {value!r}") from None
    if number < low or (high is not None and number > high):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return number


def _parse_text(name: str, value: Any) -> str | None:
    if value is not None and type(value) is not str:
        raise ValueError(f"{name} must be a string, got {value!r}")
    return value


def _parse_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str | None:
    if _parse_text(name, value) is not None and value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    return value


def _parse_since(value: Any) -> float | None:
    """Epoch seconds, or an ISO 8601 time as WireMock's ``since`` takes it."""
    if value is None or type(value) in (int, float):
        return value
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parse_instant(str(value)).timestamp()
    except ValueError:
        raise ValueError(f"since must be epoch seconds or ISO 8601, got {value!r}") from None


def _add(tree: ByApp, app_id: str, platform: str, operation: str, outcome: str,
         count: int) -> None:
    node = tree.setdefault(app_id, {}).setdefault(platform, {}).setdefault(operation, {})
    node[outcome] = node.get(outcome, 0) + count
