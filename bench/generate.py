"""Signed requests per second written by `ctvsim generate`, against a same-run baseline.

The generator (in process: the same `Traffic` the command runs, written to /dev/null) is timed
next to a plain loop that serialises one fixed body with orjson and signs it with
`signing.sign`, for the same number of requests. Rounds alternate so that both see the same
machine; the best round of each is reported. Pinned to one core.

    .venv/bin/python bench/generate.py [--devices 10000] [--days 3] [--rounds 3] [--stages]

Times are CPU seconds of this process (``time.process_time``), so other work on a shared
machine disturbs them less than wall-clock times would.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time
from collections.abc import Callable

import _common
import orjson

from simulator import signing
from simulator.behaviour import Period, merge_by_time, parse_start
from simulator.instants import DEFAULT_START
from simulator.signing import Signer
from simulator.traffic import Traffic

FIXED_BODY = {
    "timestamp": 1767571219112, "request_id": "0878c17b-1a15-4570-8c2d-551cb0aef7b5",
    "ip": "216.144.249.40", "user_agent": "Roku/DVP-15.1 (15.1.4.4186-55)",
    "device_os_version": "15.1.4", "device_model": "Roku 3930X",
    "device_ids": [{"type": "custom", "value": "caa59161-76c0-41e3-95d0-c59c0d3f03d0"},
                   {"type": "rida", "value": "19b5f654-98ca-5175-80ef-9371d1eaa162"}],
    "limit_ad_tracking": False, "app_version": "3.5.0", "event_name": "af_content_view",
}
KEY = "MOCKONLYctvstream00001"


def generate(devices: int, days: float, seed: int) -> tuple[int, float]:
    """(requests, seconds) of one full run: building devices included, as the command does."""
    period = Period.of_days(parse_start(DEFAULT_START), days)
    started = time.process_time()
    traffic = Traffic.build(None, None, None, devices, period, seed)
    with open(os.devnull, "wb") as sink:
        summary = traffic.write(sink)
    return summary.total, time.process_time() - started


def baseline(n: int, sign: Callable[[bytes, str], str] = signing.sign) -> float:
    """Seconds to serialise and sign the fixed body ``n`` times (GC paused as generate does)."""
    gc.disable()
    try:
        started = time.process_time()
        for _ in range(n):
            sign(orjson.dumps(FIXED_BODY), KEY)
        return time.process_time() - started
    finally:
        gc.enable()


def stages(devices: int, days: float, seed: int) -> list[tuple[str, float]]:
    """CPU microseconds per request of the pipeline cut after each stage (best of 3)."""
    period = Period.of_days(parse_start(DEFAULT_START), days)
    traffic = Traffic.build(None, None, None, devices, period, seed)
    sim = traffic.simulation
    built = list(traffic.devices())  # built once: all stages but the last exclude building them
    prebuilt = Traffic(sim, traffic.wire, lambda: iter(built), len(built))

    def walk() -> int:
        return sum(1 for i, d in enumerate(built) for _ in sim.timeline(d, i))

    def merge() -> int:
        return sum(1 for _ in merge_by_time((*sim.bounded_timeline(d, i), i)
                                            for i, d in enumerate(built)))

    def write(source: Traffic) -> int:
        with open(os.devnull, "wb") as sink:
            return source.write(sink).total

    out = []
    for label, run in [("timelines, one device after another", walk),
                       ("timelines merged by time", merge),
                       ("+ request id, body, signature, JSON line", lambda: write(prebuilt)),
                       ("+ devices built (= Traffic.write)", lambda: write(traffic))]:
        best = float("inf")
        for _ in range(3):
            gc.disable()
            started = time.process_time()
            count = run()
            best = min(best, (time.process_time() - started) / count)
            gc.enable()
        out.append((label, best * 1e6))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stages", action="store_true",
                        help="also print the cost of each pipeline stage")
    args = _common.parse(parser, {"devices": 300, "days": 0.5, "rounds": 1})
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})

    signer = Signer(KEY)
    best_gen = best_base = best_keyed = float("inf")
    requests = 0
    for _ in range(args.rounds):
        requests, seconds = generate(args.devices, args.days, args.seed)
        best_gen = min(best_gen, seconds)
        best_base = min(best_base, baseline(requests))
        best_keyed = min(best_keyed, baseline(requests, lambda body, _key: signer(body)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gen_rate, base_rate = requests / best_gen, requests / best_base
    keyed_rate = requests / best_keyed
    print(f"generate: {args.devices:,} devices x {args.days:g} days = {requests:,} signed "
          f"requests, best of {args.rounds}: {best_gen:.2f} s = {gen_rate:,.0f} requests/s")
    print(f"baseline (orjson.dumps + signing.sign of one fixed body): {base_rate:,.0f}/s")
    print(f"baseline with the pre-keyed Signer instead: {keyed_rate:,.0f}/s")
    print(f"generate / baseline: {gen_rate / base_rate:.2f}; "
          f"generate / pre-keyed baseline: {gen_rate / keyed_rate:.2f}")
    print(f"peak RSS of the process: {rss_mb:,.0f} MB")
    figures: dict[str, object] = {
        "devices": args.devices, "days": args.days, "requests": requests,
        "requests_per_s": round(gen_rate), "baseline_per_s": round(base_rate),
        "keyed_baseline_per_s": round(keyed_rate), "ratio": round(gen_rate / base_rate, 3),
        "ratio_keyed": round(gen_rate / keyed_rate, 3), "peak_rss_mb": round(rss_mb),
    }
    if args.stages:
        figures["stages_us"] = {}
        for label, micros in stages(args.devices, args.days, args.seed):
            print(f"  {label:<46} {micros:5.2f} us/request")
            figures["stages_us"][label] = round(micros, 3)  # type: ignore[index]
    _common.record(args, __file__, figures)


if __name__ == "__main__":
    main()
