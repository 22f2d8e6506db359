"""Benchmark: the open model (`ctvsim load --rate`) on one core against the trivial target.

1. Rate sweep. bench/mock.py's trivial ASGI app runs on the last core; `ctvsim load --rate R`
   runs pinned to the first, at increasing R up to past the harness's limit. Per rate:
   achieved / target, p99 lateness, dropped and late counts.
2. CPU per request, open against closed: requests per CPU-second of the Locust process
   during the measured window, in rounds whose order rotates, of the open model at
   `--cpu-rate` (default 3,000/s, which both models hold on one core), the closed model held
   to that same rate (`--max-rps`), and the closed model flat out. The ratio closed / open is
   the open model's CPU per request relative to the closed one's (target: at most 1.1), the
   median of the per-round ratios, at the same rate and against the flat-out closed model
   (whose saturated event loop serves many ready sockets per wake-up).
3. Pool memory. A `DevicePool` of N devices (default 100,000), every device born (walked
   until each has had its turn), in-process without Locust: the memory it holds (tracemalloc)
   and the growth of the process's resident set (target: 100,000 devices in at most 1 GB).

Loopback only. Usage: `.venv/bin/python bench/rate.py [--rates 500,1000,...] [--seconds 8]
[--rounds 3] [--cpu-rate 3000] [--devices 100000]`.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path
from typing import Any

import _common
import harness

ROOT = Path(__file__).resolve().parent.parent


def run_load(url: str, extra: list[str], seconds: int, core: int,
             scratch: Path) -> dict[str, Any]:
    reports = scratch / "reports"
    subprocess.run(
        [sys.executable, "-m", "simulator", "load", "--target", url, "--duration",
         f"{seconds}s", "--platforms", "roku", *extra, "--report-dir", str(reports)],
        check=True, capture_output=True, preexec_fn=harness.pinned(core), cwd=ROOT,
    )
    summary: dict[str, Any] = json.loads((reports / "summary.json").read_text())
    return summary


def per_cpu_second(summary: dict[str, Any]) -> float:
    return float(summary["totals"]["requests"] / summary["run"]["generator_cpu_s"])


def sweep(url: str, rates: list[float], seconds: int, core: int,
          scratch: Path) -> list[dict[str, Any]]:
    rows = []
    for rate in rates:
        figures = run_load(url, ["--rate", f"{rate:g}"], seconds, core, scratch)["rate"]
        row = {"target_rps": rate, "achieved_rps": figures["achieved_rps"],
               "achieved_over_target": round(figures["achieved_rps"] / rate, 4),
               "lateness_p99_ms": figures["lateness_ms"]["p99"],
               "late": figures["late"], "dropped": figures["dropped"],
               "dropped_reasons": {k: v for k, v in figures["dropped_reasons"].items() if v}}
        rows.append(row)
        print(f"rate {rate:,.0f}/s: achieved {row['achieved_rps']:,.1f}/s "
              f"({row['achieved_over_target']:.3f}), lateness p99 {row['lateness_p99_ms']} ms, "
              f"late {row['late']:,}, dropped {row['dropped']:,}", flush=True)
    return rows


def cpu_rounds(url: str, rounds: int, seconds: int, core: int, rate: float,
               scratch: Path) -> dict[str, Any]:
    """Per round, in an order that rotates by round: the open model at `rate`, the closed
    model held to the same rate (`--users 50 --speed max --max-rps rate`), and the closed
    model flat out (`--users 50 --speed max`)."""
    runs = {
        "open": ["--rate", f"{rate:g}"],
        "closed_same_rate": ["--users", "50", "--speed", "max", "--max-rps", f"{rate:g}"],
        "closed_flat_out": ["--users", "50", "--speed", "max"],
    }
    names = list(runs)
    pairs: list[dict[str, Any]] = []
    for index in range(rounds):
        order = names[index % len(names):] + names[:index % len(names)]
        got = {name: run_load(url, runs[name], seconds, core, scratch) for name in order}
        row: dict[str, Any] = {"order": order}
        for name, summary in got.items():
            row[f"{name}_rps"] = summary["totals"]["rps"]
            row[f"{name}_per_cpu_s"] = round(per_cpu_second(summary))
        for name in ("closed_same_rate", "closed_flat_out"):
            row[f"open_over_{name}"] = round(row[f"{name}_per_cpu_s"] / row["open_per_cpu_s"], 3)
        pairs.append(row)
        print(f"round {index + 1} ({', '.join(order)}): per CPU-s open {row['open_per_cpu_s']:,}"
              f", closed at the same rate {row['closed_same_rate_per_cpu_s']:,}, closed flat "
              f"out {row['closed_flat_out_per_cpu_s']:,} ({row['closed_flat_out_rps']:,.0f}/s):"
              f" open CPU per request x{row['open_over_closed_same_rate']} (same rate), "
              f"x{row['open_over_closed_flat_out']} (flat out)", flush=True)
    return {"rate": rate, "rounds": pairs, **{
        key: round(statistics.median(p[key] for p in pairs), 3)
        for key in ("open_over_closed_same_rate", "open_over_closed_flat_out")}}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pool_memory(devices: int) -> dict[str, float]:
    """A pool of ``devices``, every one born and holding its timeline."""
    from simulator.behaviour import MS_PER_DAY
    from simulator.load.pool import MAX_DEVICES, DevicePool
    from simulator.load.world import World, WorldSettings
    from simulator.profiles import load_profiles

    profile_set = load_profiles()
    app = profile_set.app()
    platforms = profile_set.app_platforms(app)
    mix = profile_set.mix(platforms)
    gc.collect()
    before = _rss_mb()
    tracemalloc.start()
    world = World(profile_set, app, app.dev_key, WorldSettings(1, 0, None, tuple(platforms)))
    pool = DevicePool(lambda platform, installed, at: world.life(platform, 0.0, installed, at),
                      [p.platform for p in mix.values], list(mix.weights), devices,
                      random.Random(1), world.period.start_ms, world.period.end_ms, MS_PER_DAY)
    while pool.born < devices:
        taken = pool.take()
        assert taken is not None
        pool.give_back(taken[0])
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    return {"devices": devices, "per_process_ceiling": MAX_DEVICES, "traced_mb": round(traced, 1),
            "rss_growth_mb": round(_rss_mb() - before, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="500,1000,2000,3000,4000,6000,8000")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu-rate", type=float, default=3000.0)
    parser.add_argument("--devices", type=int, default=100_000)
    args = _common.parse(parser, {"rates": "200", "seconds": 2, "rounds": 1, "devices": 500,
                                  "cpu_rate": 200.0})
    cores = sorted(os.sched_getaffinity(0))
    server_core, load_core = cores[-1], cores[0]
    rates = [float(r) for r in args.rates.split(",")]
    with tempfile.TemporaryDirectory(prefix="ctvsim-bench-") as name:
        scratch = Path(name)
        server, url = harness.start_server(server_core)
        try:
            rows = sweep(url, rates, args.seconds, load_core, scratch)
            cpu = cpu_rounds(url, args.rounds, args.seconds, load_core, args.cpu_rate, scratch)
        finally:
            server.terminate()
            server.wait()
    memory = pool_memory(args.devices)
    print(f"pool: {memory['devices']:,} devices hold {memory['traced_mb']} MB "
          f"(resident set +{memory['rss_growth_mb']} MB)")
    print(f"open model CPU per request / closed model's (target <= 1.1): "
          f"x{cpu['open_over_closed_same_rate']} at the same rate, "
          f"x{cpu['open_over_closed_flat_out']} against the closed model flat out")
    _common.record(args, __file__, {"sweep": rows, "cpu": cpu, "pool_memory": memory,
                                    "seconds": args.seconds})
    return 0


if __name__ == "__main__":
    sys.exit(main())
