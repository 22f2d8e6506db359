"""The open model's plan: when each request is due, whatever the target does.

A `RatePlan` is a piecewise-linear rate over time (requests per second at given offsets of
the run); `--rate R` is the flat plan, `--ramp '0s:100,30s:2000,10m:0'` any other, and the
load shapes (`day`, `step`, `spike`) are plans built from the same points. After its last
point a plan holds that point's rate.

Sends are evenly spaced in the plan's own time (k6's constant- and ramping-arrival-rate, not
Poisson): the k-th send is due at the instant where the plan's cumulative count reaches k,
so a flat plan at R sends every 1/R s and a ramp spaces them by its rate of the moment. Even
spacing gives the achieved rate no sampling noise of its own (a 10 s Poisson run at 100/s
would miss its rate by 10 % one time in twenty), so a shortfall always means the harness or
the target. Across W processes each takes the plan at 1/W of the rate, its sends shifted by
its index: together they send exactly the plan, interleaved.

Pure: no Locust, no clock; offsets are seconds from the schedule's start.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from simulator.errors import InputError
from simulator.load import shapes

MAX_RATE = 1_000_000.0  # requests per second: far past what one machine can send
_POINT = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")
RAMP_ALLOWED = ("comma-separated TIME:RATE points from 0s, times not decreasing, rates from "
                f"0 to {MAX_RATE:g} per second, e.g. '0s:100,30s:2000,9m:2000,10m:0'")


@dataclass(frozen=True, slots=True)
class RatePlan:
    """Requests per second at each point ``(offset_s, rate)``, linear between points."""

    points: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.points or self.points[0][0] != 0:
            raise ValueError("a rate plan starts at offset 0")

    @classmethod
    def constant(cls, rate: float) -> RatePlan:
        return cls(((0.0, rate),))

    @property
    def length_s(self) -> float:
        """The offset of the last point (0 for a flat plan): the ramp's own length."""
        return self.points[-1][0]

    @property
    def peak(self) -> float:
        return max(rate for _, rate in self.points)

    def rate_at(self, offset: float) -> float:
        for (t0, r0), (t1, r1) in zip(self.points, self.points[1:], strict=False):
            if t0 <= offset < t1:
                return r0 + (r1 - r0) * (offset - t0) / (t1 - t0)
        return self.points[-1][1] if offset >= self.length_s else self.points[0][1]

    def count_until(self, offset: float) -> float:
        """The sends the plan asks for in ``[0, offset)``: the area under the rate."""
        total = 0.0
        for (t0, r0), (t1, r1) in zip(self.points, self.points[1:], strict=False):
            if offset <= t0:
                return total
            end = min(offset, t1)
            if end > t0:
                total += (2 * r0 + (r1 - r0) * (end - t0) / (t1 - t0)) / 2 * (end - t0)
        if offset > self.length_s:
            total += self.points[-1][1] * (offset - self.length_s)
        return total

    def share(self, index: int, processes: int) -> RatePlan:
        """This process's part of the plan when ``processes`` share it (see the module
        docstring); the offsets come from `instants(phase=index / processes)`."""
        if processes <= 1:
            return self
        return RatePlan(tuple((t, r / processes) for t, r in self.points))

    def instants(self, phase: float = 0.0) -> Iterator[float]:
        """Offsets of the sends, in order, forever (or until the plan's rate stays 0): the
        k-th is where the cumulative count reaches ``k + phase``."""
        due = phase
        start_count = 0.0
        segments = [*zip(self.points, self.points[1:], strict=False),
                    (self.points[-1], (math.inf, self.points[-1][1]))]
        for (t0, r0), (t1, r1) in segments:
            span = t1 - t0
            if span == 0:
                continue
            area = math.inf if math.isinf(t1) else (r0 + r1) / 2 * span
            slope = 0.0 if math.isinf(t1) else (r1 - r0) / span
            while due - start_count < area:
                need = due - start_count
                if slope == 0:
                    if r0 == 0:
                        return  # flat at zero to the end: nothing more is due
                    yield t0 + need / r0
                else:  # r0*x + slope/2*x^2 = need, in its cancellation-free form
                    root = math.sqrt(max(r0 * r0 + 2 * slope * need, 0.0))
                    yield t0 + 2 * need / (r0 + root) if r0 + root > 0 else t0
                due += 1
            start_count += area


def parse_ramp(text: str) -> RatePlan:
    """``'0s:100,30s:2000,10m:0'`` -> RatePlan; anything else is an InputError."""
    points: list[tuple[float, float]] = []
    for part in (p.strip() for p in text.split(",")):
        when, colon, rate_text = part.partition(":")
        offset = _offset(when.strip().lower())
        rate = _rate(rate_text.strip()) if colon else None
        if offset is None or rate is None:
            raise InputError(f"--ramp {text!r}: {part!r} is not TIME:RATE; {RAMP_ALLOWED}")
        if points and offset < points[-1][0]:
            raise InputError(f"--ramp {text!r}: {part!r} goes back in time; {RAMP_ALLOWED}")
        points.append((offset, rate))
    if not points or points[0][0] != 0:
        raise InputError(f"--ramp {text!r}: the first point must be at 0s; {RAMP_ALLOWED}")
    if max(rate for _, rate in points) == 0:
        raise InputError(f"--ramp {text!r}: the rate is 0 throughout, nothing would be sent")
    return RatePlan(tuple(points))


def check_rate(text: str) -> float:
    """``--rate``'s value: a finite number above 0 and at most MAX_RATE."""
    rate = _rate(text)
    if rate is None or rate == 0:
        raise InputError(f"--rate {text!r}: requests per second, a number above 0 and at "
                         f"most {MAX_RATE:g}")
    return rate


def check_cap(plan: RatePlan, max_rps: float) -> None:
    """A plan whose peak is above the target's rate cap (0: none) is an InputError."""
    if max_rps and plan.peak > max_rps:
        raise InputError(f"the rate's peak of {plan.peak:g}/s is above the cap of "
                         f"{max_rps:g}/s for this target (--max-rps)")


def format_ramp(plan: RatePlan) -> str:
    """The plan in `parse_ramp`'s syntax (how `ctvsim load` hands it to Locust)."""
    return ",".join(f"{t!r}s:{r!r}" for t, r in plan.points)


def _offset(text: str) -> float | None:
    match = _POINT.match(text)
    if not text or not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def _rate(text: str) -> float | None:
    try:
        rate = float(text)
    except ValueError:
        return None
    return rate if 0 <= rate <= MAX_RATE else None  # NaN fails both comparisons


def shape_plan(name: str, curve: Sequence[float], peak: float, length: float) -> RatePlan:
    """A load shape as a rate plan over ``length`` seconds with ``peak`` at its top: ``day``
    plays the diurnal ``curve`` (24 hourly weights) from local midnight, ``step`` and
    ``spike`` are those of the closed model (`shapes.py`), in requests per second."""
    if name == "day":
        top = max(curve) or 1.0
        points = [(length * hour / 24, peak * curve[hour % 24] / top) for hour in range(25)]
    elif name == "step":
        points = []
        for step in range(shapes.STEPS):
            rate = peak * (step + 1) / shapes.STEPS
            points += [(length * step / shapes.STEPS, rate),
                       (length * (step + 1) / shapes.STEPS, rate)]
    elif name == "spike":
        base = peak * shapes.SPIKE_BASE
        start = length * (0.5 - shapes.SPIKE_WIDTH / 2)
        end = start + length * shapes.SPIKE_WIDTH
        points = [(0.0, base), (start, base), (start, peak), (end, peak), (end, base),
                  (length, base)]
    else:
        raise ValueError(f"unknown shape {name!r}")
    return RatePlan(tuple(points))
