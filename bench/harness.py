"""Benchmark: the load harness's cost per request, and the memory of 10,000 devices.

1. Throughput. bench/mock.py's trivial ASGI app (reads the body, answers 202) runs on uvicorn +
   httptools + uvloop, pinned to the last core. On the other core, in turns within one run
   (which goes first rotates by round), the same number of users hammer it for the same time:
   - baseline: a bare Locust `FastHttpUser` (Locust's defaults) that posts one constant,
     pre-signed body in a loop;
   - the same bare user without the session's cookie jar, as the harness runs (the S2S API
     sets no cookies): the harness's cost with that configuration difference taken out;
   - harness: `ctvsim load --speed max` (real devices and timelines, a fresh request id,
     timestamp and HMAC per request, our request listener and histogram), Roku devices on S2S;
   - harness_c2s: the same with `--channel c2s`: Roku devices as their SDK sends (its body,
     headers and X-Forwarded-For); the ratio harness_c2s / harness is the C2S path's cost
     (target: no more per request, i.e. a ratio >= 1.0 within noise). Flat out, a C2S
     request's extra SDK headers slow the exchange with the server, which changes how many
     requests each wake-up of the load process serves; so the cost per request is compared
     also at a fixed rate (the open model, `--rate`, below its ceiling), in turns, paired,
     and in-process: our work per request, and the HTTP client's writing of its head.
   Requests per second of each over the same configured run time, and requests per CPU
   second of the load process during the test (its own CPU time from test start to stop, so
   other processes sharing the machine do not distort it); the ratios harness / baseline
   (target >= 0.9): the ratio of the medians of the rounds, and the median of the per-round
   ratios (paired within a round, so less sensitive to a neighbour's burst).
2. Memory. `ctvsim load` with 10,000 users (devices) at a realistic speed against the same
   app; the Locust process's peak resident memory (VmHWM) once they all run (target <= 500 MB).
   Beside it, the device state alone (World + 10,000 lives, no Locust) measured in-process.

Loopback only. Usage: `.venv/bin/python bench/harness.py [--users 50] [--seconds 10]
[--rounds 3] [--devices 10000] [--rate 1200]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common

ROOT = Path(__file__).resolve().parent.parent


BARE_LOCUSTFILE = '''
import resource

from locust import FastHttpUser, constant, events, task

CPU = {{}}

PATH = {path!r}
BODY = {body!r}
HEADERS = {headers!r}


@events.test_start.add_listener
def _started(**_):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    CPU["start"] = usage.ru_utime + usage.ru_stime


@events.test_stop.add_listener
def _stopped(**_):
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open({cpu_file!r}, "w") as out:
        out.write(str(usage.ru_utime + usage.ru_stime - CPU["start"]))


class Bare(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        if {without_cookies!r}:
            self.client.client.cookiejar = None

    @task
    def post(self):
        self.client.request("POST", PATH, data=BODY, headers=HEADERS, name="bare")
'''


def start_server(core: int) -> tuple[subprocess.Popen, str]:
    """bench/mock.py's trivial ASGI app (reads the body, answers 202) on uvicorn, on `core`."""
    from simulator.mock.server import URL_LINE

    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "mock.py"), "--serve-trivial"],
        stdout=subprocess.PIPE, text=True, preexec_fn=pinned(core),
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(URL_LINE):
            time.sleep(0.3)
            return process, line[len(URL_LINE):].strip()
    process.kill()
    raise RuntimeError("the trivial server did not start")


def bare_locustfile(scratch: Path, without_cookies: bool = False) -> Path:
    """A locustfile posting one real, signed first_open body, built once; Locust's defaults
    but for ``without_cookies``, which drops the session's cookie jar as the harness does."""
    from simulator.load.world import World, WorldSettings
    from simulator.profiles import load_profiles

    profile_set = load_profiles()
    app = profile_set.app()
    world = World(profile_set, app, app.dev_key, WorldSettings(1, 0, None, ("roku",)))
    life = world.life("roku", 0.0)
    event = life.take()
    assert event is not None  # a new device's life starts with its first_open
    path, body, headers = world.request(life, event, int(time.time() * 1000))
    name = "bare_without_cookies" if without_cookies else "bare"
    locustfile = scratch / f"{name}.py"
    locustfile.write_text(BARE_LOCUSTFILE.format(
        path=path, body=body, headers=dict(headers), without_cookies=without_cookies,
        cpu_file=str(scratch / f"{name}_cpu")))
    return locustfile


def pinned(core: int):
    return lambda: os.sched_setaffinity(0, {core})


def run_bare(locustfile: Path, url: str, users: int, seconds: int, core: int,
             scratch: Path) -> tuple[float, float]:
    """(requests/s, requests per CPU-second during the test) of the bare FastHttpUser."""
    out = scratch / f"{locustfile.stem}.json"
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users),
         "-r", str(users), "-t", f"{seconds}s", "-H", url, "--only-summary",
         "--json-file", str(out.with_suffix(""))],
        check=True, capture_output=True, preexec_fn=pinned(core),
    )
    requests = sum(e["num_requests"] for e in json.loads(out.read_text()))
    cpu = float((scratch / f"{locustfile.stem}_cpu").read_text())
    return requests / seconds, requests / cpu


def run_harness(url: str, users: int, seconds: int, core: int,
                scratch: Path, channel: str = "s2s") -> tuple[float, float]:
    """(requests/s, requests per CPU-second during the test) of `ctvsim load`."""
    reports = scratch / "harness"
    subprocess.run(
        [sys.executable, "-m", "simulator", "load", "--target", url, "--users", str(users),
         "--duration", f"{seconds}s", "--speed", "max", "--platforms", "roku",
         "--channel", channel, "--report-dir", str(reports)],
        check=True, capture_output=True, preexec_fn=pinned(core), cwd=ROOT,
    )
    summary = json.loads((reports / "summary.json").read_text())
    requests = summary["totals"]["requests"]
    return requests / seconds, requests / summary["run"]["generator_cpu_s"]


def run_rate(url: str, rate: int, seconds: int, core: int, scratch: Path,
             channel: str) -> float:
    """Requests per CPU-second of `ctvsim load --rate` (the open model) on `channel`."""
    reports = scratch / f"rate-{channel}"
    subprocess.run(
        [sys.executable, "-m", "simulator", "load", "--target", url, "--rate", str(rate),
         "--duration", f"{seconds}s", "--platforms", "roku", "--channel", channel,
         "--report-dir", str(reports)],
        check=True, capture_output=True, preexec_fn=pinned(core), cwd=ROOT,
    )
    summary = json.loads((reports / "summary.json").read_text())
    return summary["totals"]["requests"] / summary["run"]["generator_cpu_s"]


def request_cost_us(channel: str, repeat: int = 5) -> dict[str, float]:
    """In-process, per request on `channel` (Roku devices): microseconds of our work (body,
    request id, instant, HMAC, headers: `World.request`), and of Locust's HTTP client
    writing the request head with those headers (geventhttpclient's `_build_request`; left
    out if a release renames it). Best of `repeat`."""
    import timeit

    from geventhttpclient import HTTPClient

    from simulator.channels import parse_channel
    from simulator.load.world import World, WorldSettings
    from simulator.profiles import load_profiles

    profile_set = load_profiles()
    app = profile_set.app()
    world = World(profile_set, app, app.dev_key,
                  WorldSettings(1, 0, 1440.0, ("roku",), channel=parse_channel(channel)))
    events = []
    for _ in range(200):
        life = world.life("roku", 0.0)
        events += [(life, event) for event in iter(life.take, None)][:20]
    ours = min(timeit.repeat(lambda: [world.request(life, event, 1767000000000)
                                      for life, event in events], number=1, repeat=repeat))
    cost = {"ours_us": round(ours / len(events) * 1e6, 2)}
    build = getattr(HTTPClient("127.0.0.1", 9), "_build_request", None)
    if build is not None:
        life, event = events[-1]
        path, body, headers = world.request(life, event, 1767000000000)
        head = min(timeit.repeat(lambda: build("POST", "/v1.0/" + path, body, headers),
                                 number=5000, repeat=repeat))
        cost["request_head_us"] = round(head / 5000 * 1e6, 2)
    return cost


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def locust_memory(url: str, devices: int, seconds: int, core: int, scratch: Path,
                  ) -> dict[str, float]:
    """Peak RSS of the Locust process running `devices` users (each one device), all started
    within the first fifth of ``seconds``."""
    import psutil

    parent = subprocess.Popen(
        [sys.executable, "-m", "simulator", "load", "--target", url, "--users", str(devices),
         "--spawn-rate", str(max(1, devices * 5 // seconds)), "--duration", f"{seconds}s",
         "--speed", "1440", "--report-dir", str(scratch / "memory")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=pinned(core), cwd=ROOT,
    )
    peak, users = 0.0, 0
    while parent.poll() is None:
        for child in psutil.Process(parent.pid).children():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                peak = max(peak, peak_rss_mb(child.pid))
        time.sleep(0.5)
    summary = json.loads((scratch / "memory" / "summary.json").read_text())
    users = max((count for _, count in summary["run"]["users_timeline"]), default=0)
    return {"peak_rss_mb": peak, "users": users, "requests": summary["totals"]["requests"]}


def device_state_memory(devices: int) -> float:
    """MB held by the device state alone: a World and `devices` lives, no Locust."""
    import gc
    import tracemalloc

    from simulator.load.world import World, WorldSettings
    from simulator.profiles import load_profiles

    profile_set = load_profiles()
    app = profile_set.app()
    platforms = tuple(profile_set.app_platforms(app))
    gc.collect()
    tracemalloc.start()
    world = World(profile_set, app, app.dev_key, WorldSettings(1, 0, 1440.0, platforms))
    lives = [world.life(platforms[i % len(platforms)], 0.0) for i in range(devices)]
    gc.collect()
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(lives) == devices
    return size / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1200,
                        help="the fixed rate at which S2S and C2S users are compared")
    parser.add_argument("--memory-seconds", type=int, default=25,
                        help="length of the run that measures the memory of --devices users")
    args = _common.parse(parser, {"users": 5, "seconds": 2, "rounds": 1, "devices": 300,
                                  "memory_seconds": 3, "rate": 100})
    cores = sorted(os.sched_getaffinity(0))
    server_core, load_core = cores[-1], cores[0]
    with tempfile.TemporaryDirectory(prefix="ctvsim-bench-") as name:
        scratch = Path(name)
        server, url = start_server(server_core)
        try:
            plain, cookieless = bare_locustfile(scratch), bare_locustfile(scratch, True)
            runs = {
                "bare": lambda: run_bare(plain, url, args.users, args.seconds, load_core,
                                         scratch),
                "bare_without_cookies": lambda: run_bare(cookieless, url, args.users,
                                                         args.seconds, load_core, scratch),
                "harness": lambda: run_harness(url, args.users, args.seconds, load_core,
                                               scratch),
                "harness_c2s": lambda: run_harness(url, args.users, args.seconds, load_core,
                                                   scratch, "c2s"),
            }
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
            order = list(runs)
            for index in range(args.rounds):
                # Which run goes first rotates every round: on a shared machine the slots of
                # a round measured up to 20 % apart.
                for name in order[index % len(order):] + order[:index % len(order)]:
                    results[name].append(runs[name]())
                print("round: " + ", ".join(
                    f"{name} {got[-1][0]:,.0f} req/s ({got[-1][1]:,.0f} per CPU-s)"
                    for name, got in results.items()), flush=True)
            at_rate: dict[str, list[float]] = {"s2s": [], "c2s": []}
            for index in range(args.rounds):
                for channel in ("s2s", "c2s")[::1 if index % 2 == 0 else -1]:
                    at_rate[channel].append(run_rate(url, args.rate, args.seconds, load_core,
                                                     scratch, channel))
                print(f"at {args.rate}/s: s2s {at_rate['s2s'][-1]:,.0f}, c2s "
                      f"{at_rate['c2s'][-1]:,.0f} requests per CPU-s", flush=True)
            memory = locust_memory(url, args.devices, args.memory_seconds, load_core, scratch)
        finally:
            server.terminate()
            server.wait()
    state = device_state_memory(args.devices)
    costs = {channel: request_cost_us(channel) for channel in ("s2s", "c2s")}
    def median(runs: list[tuple[float, float]], index: int) -> float:
        return statistics.median(run[index] for run in runs)

    def ratios(baseline: str, measured: str = "harness") -> dict[str, float]:
        """Measured / baseline: the ratio of the medians, and the median of the per-round
        ratios (each round's runs share the machine's state of the moment, so a
        neighbour's burst cancels out within the round)."""
        pairs = list(zip(results[baseline], results[measured], strict=True))
        return {
            "rps": round(median(results[measured], 0) / median(results[baseline], 0), 3),
            "per_cpu_second": round(
                median(results[measured], 1) / median(results[baseline], 1), 3),
            "paired_rps": round(statistics.median(h[0] / b[0] for b, h in pairs), 3),
            "paired_per_cpu_second": round(statistics.median(h[1] / b[1] for b, h in pairs), 3),
        }

    figures = {
        "users": args.users, "seconds": args.seconds, "rounds": args.rounds,
        "medians": {name: {"rps": round(median(got, 0)),
                           "per_cpu_second": round(median(got, 1))}
                    for name, got in results.items()},
        "harness_vs_bare": ratios("bare"),
        "harness_vs_bare_without_cookies": ratios("bare_without_cookies"),
        "c2s_vs_s2s_harness": ratios("harness", "harness_c2s"),
        "c2s_vs_s2s_at_rate": {
            "rate": args.rate,
            "per_cpu_second": {channel: [round(x) for x in got]
                               for channel, got in at_rate.items()},
            "paired_per_cpu_second": round(statistics.median(
                c / s for s, c in zip(at_rate["s2s"], at_rate["c2s"], strict=True)), 3),
        },
        "per_round": {name: [[round(x) for x in run] for run in got]
                   for name, got in results.items()},
        "request_cost_in_process": costs,
        "devices": args.devices, "locust_process": memory,
        "device_state_mb": round(state, 1),
    }
    print(json.dumps(figures, indent=2))
    _common.record(args, __file__, figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
