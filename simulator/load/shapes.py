"""Load shapes: how many users run at each moment of a test.

Each shape is a pure function of (elapsed seconds, run length, peak users) so it can be tested
without Locust; `CtvShape` (a Locust `LoadTestShape`) asks the one named by `--ctv-shape`.

- ``day``: one compressed day following the profiles' diurnal curve, the run starting at local
  midnight: few users overnight, the most at prime time (late in the run).
- ``step``: `STEPS` equal steps up to the peak, each held for an equal share of the run.
- ``spike``: a fifth of the peak, a jump to the full peak for the middle tenth of the run,
  then back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

SHAPES = ("day", "step", "spike")
STEPS = 5
SPIKE_BASE = 0.2
SPIKE_WIDTH = 0.1


def day_users(curve: Sequence[float], elapsed: float, length: float, peak: int) -> int:
    """Users at `elapsed` seconds of a run that plays 24 hours of `curve` in `length` seconds."""
    hour = (elapsed / length) * 24 % 24
    low = int(hour)
    high = (low + 1) % 24
    weight = curve[low] + (curve[high] - curve[low]) * (hour - low)
    top = max(curve)
    return max(1, round(peak * weight / top)) if top > 0 else peak


def step_users(elapsed: float, length: float, peak: int) -> int:
    step = min(STEPS, int(elapsed / length * STEPS) + 1)
    return max(1, round(peak * step / STEPS))


def spike_users(elapsed: float, length: float, peak: int) -> int:
    start = length * (0.5 - SPIKE_WIDTH / 2)
    if start <= elapsed < start + length * SPIKE_WIDTH:
        return peak
    return max(1, round(peak * SPIKE_BASE))


def users_function(name: str, curve: Sequence[float]) -> Callable[[float, float, int], int]:
    """The shape called `name` as `f(elapsed, length, peak) -> users`."""
    if name == "day":
        return lambda elapsed, length, peak: day_users(curve, elapsed, length, peak)
    if name == "step":
        return step_users
    if name == "spike":
        return spike_users
    raise ValueError(f"unknown shape {name!r}; allowed: {', '.join(SHAPES)}")


def mixed_curve(curves: Sequence[tuple[Sequence[float], float]]) -> tuple[float, ...]:
    """The hourly curve of a platform mix: each platform's curve weighted by its share."""
    return tuple(sum(curve[h] * weight for curve, weight in curves) for h in range(24))


def platform_curve(profile_set: Any, platforms: Sequence[str]) -> tuple[float, ...]:
    """The hourly curve of the profiles' mix of ``platforms`` (a `ProfileSet`)."""
    mix = profile_set.mix(platforms)
    return mixed_curve([
        (profile_set.curves[profile.behaviour.diurnal_curve], weight)
        for profile, weight in zip(mix.values, mix.weights, strict=True)
    ])
