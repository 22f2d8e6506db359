"""Benchmark: devices per second on one core, against a baseline that only draws randoms.

    .venv/bin/python bench/devices.py [--n 200000] [--repeat 3]

The baseline loop makes exactly as many random draws per device as the factory does
(counted in the same run with a counting ``random.Random``) and nothing else, so the ratio
says how much the generator adds on top of the randomness it cannot avoid.
Target (issue 2): >= 20,000 devices/s on one core.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import ClassVar

import _common

from simulator import devices as devices_module
from simulator.devices import DeviceFactory
from simulator.profiles import load_profiles

TARGET = 20_000


class _CountingRandom(random.Random):
    """Counts the draws the factory makes, by kind, to size the baseline."""

    counts: ClassVar[Counter[str]] = Counter()

    def random(self) -> float:
        self.counts["random"] += 1
        return super().random()

    def getrandbits(self, k: int) -> int:
        self.counts[f"getrandbits({k})"] += 1
        return super().getrandbits(k)


def draws_per_device(profile_set, platform: str | None, n: int = 20_000) -> dict[str, float]:
    real = devices_module.random
    devices_module.random = type("R", (), {"Random": _CountingRandom})  # type: ignore[assignment]
    try:
        _CountingRandom.counts.clear()
        for _ in DeviceFactory(profile_set, 99).devices(n, platform):
            pass
    finally:
        devices_module.random = real
    # randrange() draws through getrandbits, so it is counted there.
    return {kind: count / n for kind, count in _CountingRandom.counts.items()}


def baseline(draws: dict[str, float], n: int) -> Callable[[], None]:
    rng = random.Random(1)
    plan = [(int(kind[12:-1]) if kind.startswith("getrandbits") else None, per_device)
            for kind, per_device in draws.items()]

    def run() -> None:
        for bits, per_device in plan:
            total = round(per_device * n)
            if bits is None:
                for _ in range(total):
                    rng.random()
            else:
                for _ in range(total):
                    rng.getrandbits(bits)
    return run


def best_rate(run: Callable[[], None], n: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = _common.parse(parser, {"n": 5_000, "repeat": 1})
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    start = time.perf_counter()
    profile_set = load_profiles()
    print(f"load_profiles: {(time.perf_counter() - start) * 1000:.0f} ms "
          f"({len(profile_set.profiles)} profiles)")
    ok = True
    figures: dict[str, dict[str, float]] = {}
    for platform in (None, "roku", "steam"):
        draws = draws_per_device(profile_set, platform)

        def generate(platform: str | None = platform) -> None:
            for _ in DeviceFactory(profile_set, 1).devices(args.n, platform):
                pass

        rate = best_rate(generate, args.n, args.repeat)
        base = best_rate(baseline(draws, args.n), args.n, args.repeat)
        label = platform or "mix"
        print(f"{label:>5}: {rate:,.0f} devices/s; baseline {base:,.0f} draw-sets/s "
              f"({sum(draws.values()):.2f} draws/device); devices/baseline = {rate / base:.2f}")
        ok = ok and rate >= TARGET
        figures[label] = {"devices_per_s": round(rate), "baseline_per_s": round(base),
                          "ratio": round(rate / base, 3)}
    print(f"target >= {TARGET:,} devices/s: {'met' if ok else 'MISSED'}")
    _common.record(args, __file__, {"n": args.n, "streams": figures, "target_met": ok})
    return 0 if ok or args.quick else 1


if __name__ == "__main__":
    raise SystemExit(main())
