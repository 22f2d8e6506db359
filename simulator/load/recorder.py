"""What the harness saw, per operation x platform: latencies, statuses, errors, retries.

Locust keys its statistics by request name only and keeps whole milliseconds, so the harness
listens to the same `request` events and keeps its own figures. Request names are
``{operation} [{platform}]`` for final outcomes and ``{operation} [{platform}] retried`` for
attempts that the retry policy re-sent; ``c2s `` before them marks a device's own request on
the C2S channel (S2S names carry no mark), and ``warm-up `` before all the installed base's
first_opens before the measured window (kept apart from the measured figures, but sent, so
reconciled); the name is parsed once, then looked up in a dict.
Workers ship deltas to the master with `report_to_master`; the master merges them in
`worker_report`, so the summary of a distributed run is exact.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from simulator import contract
from simulator.load.histogram import Histogram

RETRIED_SUFFIX = " retried"
WARM_UP_PREFIX = "warm-up "
C2S_PREFIX = "c2s "
ERROR_SAMPLES = 3  # reasons kept per (operation, platform, status)
_REPORT_KEY = "ctvsim"
_STATUS_TEXT = {status: str(status) for status in range(100, 600)}
Key = tuple[str, str, bool, bool, str]  # (operation, platform, retried, warm_up, channel)
# The outcome of an attempt that was on the wire when the run stopped its user: sent (the
# target may have journaled it), never answered, no latency to record.
IN_FLIGHT_AT_STOP = "in_flight_at_stop"


def request_name(operation: str, platform: str, *, retried: bool = False,
                 warm_up: bool = False, channel: str = contract.S2S) -> str:
    return (f"{WARM_UP_PREFIX if warm_up else ''}{C2S_PREFIX if channel == contract.C2S else ''}"
            f"{operation} [{platform}]{RETRIED_SUFFIX if retried else ''}")


def parse_name(name: str) -> Key | None:
    """`c2s session [roku] retried` -> ("session", "roku", True, False, "c2s"); None for
    foreign names."""
    retried = name.endswith(RETRIED_SUFFIX)
    if retried:
        name = name[: -len(RETRIED_SUFFIX)]
    warm_up = name.startswith(WARM_UP_PREFIX)
    if warm_up:
        name = name[len(WARM_UP_PREFIX):]
    channel = contract.C2S if name.startswith(C2S_PREFIX) else contract.S2S
    if channel == contract.C2S:
        name = name[len(C2S_PREFIX):]
    operation, _, rest = name.partition(" [")
    if not rest.endswith("]") or not operation:
        return None
    return operation, rest[:-1], retried, warm_up, channel


def outcome_of(response: Any, exception: BaseException | None) -> str:
    """A status code as text, or the kind of transport failure ("connection_error", ...)."""
    status = getattr(response, "status_code", 0) or 0
    if status:
        return str(status)
    if exception is None:
        return "no_response"
    name = type(exception).__name__.lower()
    return "timeout" if "timeout" in name else "connection_error"


def reason_of(response: Any, exception: BaseException | None) -> str:
    """A short human reason: the mock's/API's `message`, else the exception, else the body."""
    text = ""
    try:
        content = getattr(response, "content", None) or b""
        text = content[:300].decode("utf-8", "replace") if isinstance(content, bytes) else ""
    except Exception:  # a broken connection can fail while reading the body
        text = ""
    message = _json_message(content) if text.startswith("{") else None
    if message is not None:
        return message[:200]
    if exception is not None and (not text or getattr(response, "status_code", 0) in (0, None)):
        return f"{type(exception).__name__}: {exception}"[:200]
    return text[:200] or "(empty body)"


def _json_message(content: Any) -> str | None:
    """The ``message`` string of a JSON object body (the mock's and AppsFlyer's errors)."""
    try:
        document = orjson.loads(content)
    except (orjson.JSONDecodeError, TypeError):
        return None
    message = document.get("message") if type(document) is dict else None
    return message if type(message) is str else None


@dataclass(slots=True)
class Entry:
    """Figures of one (operation, platform, final-or-retried) stream of requests."""

    histogram: Histogram = field(default_factory=Histogram)
    failures: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    # Time spent on attempts that got no HTTP answer (timeouts, resets, hangs): in the closed
    # model, time in which a user sends nothing else.
    unanswered_ms: float = 0.0
    # Sent by a device whose first_open the target had not accepted (an SDK that moves on
    # after a failed one, as Roku's does): the receiver may see them out of order.
    before_first_open: int = 0

    def merge(self, other: Entry) -> None:
        self.histogram.merge(other.histogram)
        self.failures += other.failures
        self.unanswered_ms += other.unanswered_ms
        self.before_first_open += other.before_first_open
        self.outcomes.update(other.outcomes)
        for outcome, samples in other.reasons.items():
            mine = self.reasons.setdefault(outcome, [])
            mine.extend(s for s in samples if s not in mine)
            del mine[ERROR_SAMPLES:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "histogram": self.histogram.to_dict(),
            "failures": self.failures,
            "outcomes": dict(self.outcomes),
            "reasons": self.reasons,
            "unanswered_ms": self.unanswered_ms,
            "before_first_open": self.before_first_open,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Entry:
        return cls(
            Histogram.from_dict(data["histogram"]),
            int(data["failures"]),
            Counter({str(k): int(v) for k, v in data["outcomes"].items()}),
            {str(k): list(v) for k, v in data["reasons"].items()},
            float(data["unanswered_ms"]),
            int(data["before_first_open"]),
        )


@dataclass
class Recorder:
    """Collects request outcomes in one process; merges those of workers on the master."""

    entries: dict[Key, Entry] = field(default_factory=dict)
    started: float | None = None
    stopped: float | None = None
    _by_name: dict[str, Entry | None] = field(default_factory=dict)

    # -- the hot path: one call per request
    def on_request(
        self, name: str, response_time: float, response: Any = None,
        exception: BaseException | None = None, **_: Any,
    ) -> None:
        try:
            entry = self._by_name[name]
        except KeyError:
            entry = self._entry_for_name(name)
        if entry is None:
            return
        entry.histogram.record(int(response_time * 1000))
        if exception is None:
            status = response.status_code
            entry.outcomes[_STATUS_TEXT.get(status) or str(status)] += 1
            return
        outcome = outcome_of(response, exception)
        entry.outcomes[outcome] += 1
        entry.failures += 1
        if not outcome.isdigit():
            entry.unanswered_ms += response_time
        samples = entry.reasons.setdefault(outcome, [])
        if len(samples) < ERROR_SAMPLES:
            reason = reason_of(response, exception)
            if reason not in samples:
                samples.append(reason)

    def _entry_for_name(self, name: str) -> Entry | None:
        key = parse_name(name)
        entry = None if key is None else self.entries.setdefault(key, Entry())
        self._by_name[name] = entry
        return entry

    def in_flight_at_stop(self, name: str) -> None:
        """Count an attempt whose user was stopped while it waited for the answer (Locust
        kills such users after its stop timeout and reports nothing for their request)."""
        entry = self._entry_for_name(name)
        if entry is not None:
            entry.outcomes[IN_FLIGHT_AT_STOP] += 1

    def before_first_open(self, name: str) -> None:
        """Count a request its device sends before the target accepted its first_open."""
        entry = self._entry_for_name(name)
        if entry is not None:
            entry.before_first_open += 1

    # -- lifecycle and distribution
    def mark_started(self) -> None:
        self.started = time.time()
        self.stopped = None

    def mark_stopped(self) -> None:
        self.stopped = time.time()

    def report(self) -> dict[str, Any]:
        """The figures as plain JSON (what a worker sends its master and the Locust process
        writes for ``ctvsim load``), keyed ``operation|platform|retried|warm_up|channel``."""
        return {f"{o}|{p}|{int(r)}|{int(w)}|{c}": e.to_dict()
                for (o, p, r, w, c), e in self.entries.items()}

    def drain(self) -> dict[str, Any]:
        """This process's figures since the last drain, for a worker's report to the master."""
        data = self.report()
        self.entries.clear()
        self._by_name.clear()
        return data

    def merge_report(self, data: Mapping[str, Any]) -> None:
        """Adds the figures of a ``report`` (exactly: histograms and counters add up)."""
        for key, value in data.items():
            operation, platform, retried, warm_up, channel = key.split("|")
            entry = self.entries.setdefault(
                (operation, platform, retried == "1", warm_up == "1", channel), Entry())
            entry.merge(Entry.from_dict(value))

    def items(self, *, retried: bool = False, warm_up: bool | None = False,
              channel: str | None = None) -> Iterator[tuple[str, str, Entry]]:
        """The entries of final outcomes (or retried attempts) of the measured window, of the
        warm-up, or of both (``warm_up=None``: what was sent, for reconciliation), on
        ``channel`` or on both merged (None)."""
        merged: dict[tuple[str, str], Entry] = {}
        for (operation, platform, was_retried, was_warm_up, on), entry in sorted(
                self.entries.items()):
            if was_retried == retried and warm_up in (None, was_warm_up) \
                    and channel in (None, on):
                merged.setdefault((operation, platform), Entry()).merge(entry)
        for (operation, platform), entry in sorted(merged.items()):
            yield operation, platform, entry

    def channels(self) -> list[str]:
        """The channels requests went out on."""
        return sorted({key[4] for key in self.entries})

    def attach(self, environment: Any) -> None:
        """Listen to a Locust environment's events (all processes: local, master, workers)."""
        events = environment.events
        events.request.add_listener(self.on_request)
        events.report_to_master.add_listener(
            lambda client_id, data: data.__setitem__(_REPORT_KEY, self.drain())
        )
        events.worker_report.add_listener(
            lambda client_id, data: self.merge_report(data.get(_REPORT_KEY, {}))
        )
        events.test_start.add_listener(lambda **_: self.mark_started())
        events.test_stop.add_listener(lambda **_: self.mark_stopped())
        events.reset_stats.add_listener(self.reset)

    def reset(self) -> None:
        self.entries.clear()
        self._by_name.clear()
