"""Pass/fail rules for a load test, k6-style, parsed before any traffic is sent.

Grammar (whitespace is ignored)::

    threshold := metric [ "[" scope "]" ] ( "<" | "<=" | ">" | ">=" ) number [ unit ]
    metric    := "p" percentile | "max" | "mean" | "error_rate" | "rps" | "count"
                 | open-model metric (below; they take no scope)
                 percentile: 50, 90, 95, 99, 99.9, or any number in (0, 100)
    scope     := term { "," term }    at most one operation, one platform and one channel
    term      := an operation (first_open, session, inapp), a platform (roku, tizen, ...) or
                 a channel (s2s, c2s: in a --channel mixed run, either side alone)
    unit      := latency: "us" | "µs" | "ms" (default) | "s";  error_rate: "%" or a fraction
                 (0.005);  rps and count: none

Examples: ``p99<50ms``, ``p95[session]<20ms``, ``p99[session,roku]<30ms``,
``error_rate<0.5%``, ``error_rate[inapp]<=1%``, ``rps>2000``, ``count[first_open]>0``,
``error_rate[c2s]<1%``.

`error_rate` is final failures over final outcomes (retried attempts that later succeeded do
not count). A threshold whose scope saw no requests fails: CI should not pass on silence.

Open model (`--rate`, `--ramp`) only: ``achieved_rps`` (scheduled requests sent per second),
``dropped`` and ``late`` (counts), ``lateness_pNN`` / ``lateness_max`` (how late requests
left), and ``scheduled_pNN`` / ``scheduled_mean`` / ``scheduled_max`` (from each request's
scheduled send to its final answer), e.g. ``dropped<=0``, ``lateness_p99<5ms``,
``scheduled_p99<50ms``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from simulator import contract
from simulator.errors import InputError
from simulator.load.histogram import Histogram

_SYNTAX = re.compile(
    r"""^(?P<metric>(?:lateness_|scheduled_)?(?:p\d+(?:\.\d+)?|max|mean)
        |error_rate|rps|count|achieved_rps|dropped|late)
        (?:\[(?P<scope>[^\]]*)\])?
        (?P<op><=|>=|<|>)
        (?P<value>\d+(?:\.\d+)?|\.\d+)
        (?P<unit>[a-zµ%]*)$""",
    re.VERBOSE,
)
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
_LATENCY_UNITS_US = {"us": 1.0, "µs": 1.0, "ms": 1000.0, "s": 1_000_000.0, "": 1000.0}
ALLOWED = (
    "allowed: METRIC[SCOPE]<|<=|>|>=VALUE, METRIC one of pNN (e.g. p50, p99, p99.9), max, "
    "mean, error_rate, rps, count; SCOPE an operation, platform and/or channel, e.g. "
    "p95[session,roku]<20ms"
    "; with --rate or --ramp also achieved_rps, dropped, late, lateness_pNN, scheduled_pNN "
    "(no scope)"
)
# The open model's metrics: figures of the rate account, which has no per-scope breakdown.
RATE_METRICS = ("achieved_rps", "dropped", "late")
SOURCES = ("answer", "lateness", "scheduled")  # which latency: send->answer, or the rate's


@dataclass(frozen=True, slots=True)
class Threshold:
    text: str  # as the user wrote it: the JUnit test case name
    metric: str  # "latency", "error_rate", "rps", "count", or one of RATE_METRICS
    percentile: float | None  # 0..1 for latency (1.0 = max); None for mean and non-latency
    operation: str | None
    platform: str | None
    op: str
    limit: float  # µs for latency, a fraction for error_rate
    source: str = "answer"  # latency only: one of SOURCES
    channel: str | None = None

    @property
    def open_model(self) -> bool:
        """Judged from the rate account: needs --rate or --ramp."""
        return self.metric in RATE_METRICS or self.source != "answer"


@dataclass(frozen=True, slots=True)
class Selection:
    """What a threshold's scope saw: the inputs every metric is computed from."""

    histogram: Histogram
    requests: int
    failures: int
    seconds: float
    rate: RateFigures | None = None  # the open model's, whatever the scope


@dataclass(frozen=True, slots=True)
class RateFigures:
    """What the open model's thresholds are judged on."""

    achieved_rps: float
    dropped: int
    late: int
    lateness: Histogram
    scheduled: Histogram


@dataclass(frozen=True, slots=True)
class Verdict:
    threshold: Threshold
    passed: bool
    actual: float | None  # None: nothing in scope
    message: str


def parse(text: str) -> Threshold:
    """One expression -> Threshold; anything else is an InputError naming what is allowed."""
    compact = "".join(text.split())
    match = _SYNTAX.match(compact.lower())
    if not match:
        raise InputError(f"--threshold {text!r}: not a threshold expression; {ALLOWED}")
    metric_word, unit = match["metric"], match["unit"]
    value = float(match["value"])
    operation, platform, channel = _parse_scope(text, match["scope"])
    source, _, metric_word = metric_word.rpartition("_") if metric_word.startswith(
        ("lateness_", "scheduled_")) else ("answer", "", metric_word)
    metric, percentile = _metric(text, metric_word)
    limit = _limit(text, metric, value, unit)
    threshold = Threshold(compact, metric, percentile, operation, platform, match["op"], limit,
                          source, channel)
    if threshold.open_model and match["scope"] is not None:
        raise InputError(f"--threshold {text!r}: {match['metric']} takes no scope (the rate "
                         "is the whole run's)")
    return threshold


def parse_all(texts: Iterable[str]) -> list[Threshold]:
    return [parse(text) for text in texts]


def _metric(text: str, word: str) -> tuple[str, float | None]:
    if word in ("error_rate", "rps", "count", *RATE_METRICS):
        return word, None
    if word == "mean":
        return "latency", None
    if word == "max":
        return "latency", 1.0
    percent = float(word[1:])
    if not 0 < percent < 100:
        raise InputError(f"--threshold {text!r}: percentile must be between 0 and 100 (exclusive)")
    return "latency", round(percent / 100, 9)


def _limit(text: str, metric: str, value: float, unit: str) -> float:
    if metric == "latency":
        if unit not in _LATENCY_UNITS_US:
            raise InputError(f"--threshold {text!r}: latency unit must be us, ms or s")
        return value * _LATENCY_UNITS_US[unit]
    if metric == "error_rate":
        if unit == "%":
            value /= 100
        elif unit:
            raise InputError(f"--threshold {text!r}: error_rate takes % or a fraction (0.005)")
        if value > 1:
            raise InputError(f"--threshold {text!r}: error_rate above 100 %")
        return value
    if unit:
        raise InputError(f"--threshold {text!r}: {metric} takes a plain number, no unit")
    return value


def _parse_scope(text: str, scope: str | None) -> tuple[str | None, str | None, str | None]:
    operation = platform = channel = None
    if scope is None:
        return None, None, None
    for term in (t.strip().lower() for t in scope.split(",")):
        if term in contract.OPERATIONS and operation is None:
            operation = term
        elif term in contract.PLATFORMS and platform is None:
            platform = term
        elif term in contract.CHANNELS and channel is None:
            channel = term
        else:
            raise InputError(
                f"--threshold {text!r}: scope term {term!r} is not allowed; use at most one "
                f"operation ({', '.join(contract.OPERATIONS)}), one platform "
                f"({', '.join(contract.PLATFORMS)}) and one channel "
                f"({', '.join(contract.CHANNELS)})"
            )
    return operation, platform, channel


def evaluate(threshold: Threshold, selection: Selection) -> Verdict:
    if threshold.open_model and selection.rate is None:
        return Verdict(threshold, False, None, "not an open-model run (use --rate or --ramp)")
    if selection.requests == 0 and threshold.metric not in ("count", *RATE_METRICS):
        return Verdict(threshold, False, None, "no requests in scope")
    actual = _actual(threshold, selection)
    passed = _COMPARE[threshold.op](actual, threshold.limit)
    shown, limit = _display(threshold, actual), _display(threshold, threshold.limit)
    verb = "holds" if passed else "breached"
    return Verdict(threshold, passed, actual, f"{verb}: {shown} (limit {threshold.op}{limit})")


def evaluate_all(
    thresholds: Sequence[Threshold],
    select: Callable[[str | None, str | None, str | None], Selection],
) -> list[Verdict]:
    """`select(operation, platform, channel)` gives the merged figures of that scope (None =
    all)."""
    return [evaluate(t, select(t.operation, t.platform, t.channel)) for t in thresholds]


def _actual(threshold: Threshold, selection: Selection) -> float:
    rate = selection.rate
    if threshold.metric == "latency":
        histogram = selection.histogram
        if threshold.source != "answer":
            assert rate is not None  # evaluate checked
            histogram = rate.lateness if threshold.source == "lateness" else rate.scheduled
        if threshold.percentile is None:
            return histogram.mean
        return float(histogram.percentile(threshold.percentile))
    if threshold.metric in RATE_METRICS:
        assert rate is not None
        return float(getattr(rate, threshold.metric))
    if threshold.metric == "error_rate":
        return selection.failures / selection.requests
    if threshold.metric == "rps":
        return selection.requests / selection.seconds if selection.seconds > 0 else 0.0
    return float(selection.requests)


def _display(threshold: Threshold, value: float) -> str:
    if threshold.metric == "latency":
        return f"{value / 1000:.3f} ms"
    if threshold.metric == "error_rate":
        return f"{value * 100:.3f} %"
    if threshold.metric in ("rps", "achieved_rps"):
        return f"{value:.1f}/s"
    return f"{value:.0f}"
