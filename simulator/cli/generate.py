"""`ctvsim generate`: deterministic sample traffic as JSON lines, one signed request per line."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from simulator.cli._argtypes import path, path_text, positive_float, positive_int
from simulator.errors import UsageError

if TYPE_CHECKING:
    from simulator.behaviour import Period, Simulation
    from simulator.devices import Device
    from simulator.payloads import AppPayloads

# A fixed default start (a Monday, 00:00 UTC) keeps output byte-identical across days; pass
# --start for other periods, and `ctvsim send --rebase-time` to replay old files live.
DEFAULT_START = "2026-01-05T00:00:00Z"
_FLUSH_LINES = 4096
_LATEST_END_MS = 221_845_392_000_000  # 9000-01-01T00:00:00Z

EXAMPLES = """\
examples:
  ctvsim generate --devices 10000 --days 3 --seed 7 -o traffic.jsonl
  ctvsim generate --devices 50 --days 1 --platforms roku,tizen --start 2026-03-01T00:00:00Z -o -
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate", help="write deterministic, signed sample traffic as JSON lines",
        description="Simulate devices over a period and write every request they make, "
        "sorted by time, one JSON object per line: time, operation, platform, app_id, path, "
        "headers (the HMAC signature) and body (the exact JSON that was signed).",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--devices", type=positive_int, default=100, metavar="N",
                        help="devices to simulate (default 100)")
    parser.add_argument("--days", type=positive_float, default=1.0, metavar="D",
                        help="length of the simulated period in days (default 1)")
    parser.add_argument("--start", default=DEFAULT_START, metavar="ISO-8601",
                        help=f"start of the period (default {DEFAULT_START})")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--platforms", metavar="a,b",
                       help="only these platforms (comma-separated), weighted as in the mix")
    which.add_argument("--mix", action="store_true",
                       help="every platform the app runs on, by profile weight (the default)")
    parser.add_argument("--app", metavar="ID", help="app id from apps.yaml (default: the "
                        "first app on the normal plan)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--profiles", type=path, metavar="DIR",
                        help="extra profiles that add to or override the bundled ones")
    parser.add_argument("-o", "--output", required=True, type=path_text, metavar="FILE|-",
                        help="output file (written atomically), or - for stdout")
    parser.set_defaults(run=run)


@dataclass(slots=True)
class Summary:
    devices: int
    start_ms: int
    end_ms: int
    app_id: str
    requests: Counter[tuple[str, str]]  # (operation, platform) -> count

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def run(args: argparse.Namespace) -> int:
    from simulator import behaviour

    try:
        start_ms = behaviour.parse_start(args.start)
    except ValueError:
        raise UsageError(
            f"--start: {args.start!r} is not an ISO-8601 instant (e.g. 2026-01-05T00:00:00Z)"
        ) from None
    platforms = None if args.platforms is None else [
        name.strip() for name in args.platforms.split(",") if name.strip()
    ]
    if platforms == []:
        raise UsageError("--platforms: give at least one platform name")
    period = behaviour.Period.of_days(start_ms, args.days)
    if period.duration_ms < 60_000:
        raise UsageError(f"--days: the period must be at least one minute, got {args.days:g}")
    if not 0 <= period.start_ms < period.end_ms <= _LATEST_END_MS:
        raise UsageError("--start/--days: the period must lie between 1970 and 9000")
    traffic = Traffic.build(args.profiles, args.app, platforms, args.devices, period, args.seed)
    started = time.monotonic()
    if args.output == "-":
        try:
            summary = traffic.write(sys.stdout.buffer)
            sys.stdout.buffer.flush()
        except BrokenPipeError:  # the reader stopped early (`| head`): not an error
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    else:
        summary = _write_atomically(Path(args.output), traffic)
    _print_summary(summary, args.output, time.monotonic() - started)
    return 0


def _write_atomically(path: Path, traffic: Traffic) -> Summary:
    from simulator.outputs import atomic_output

    with atomic_output(path, "-o", traffic.simulation.profile_set.sources) as out:
        return traffic.write(out)


class Traffic:
    """Devices, their timelines and their payload builders: everything ``generate`` writes."""

    def __init__(self, simulation: Simulation, payloads: AppPayloads,
                 devices: Callable[[], Iterator[Device]], count: int) -> None:
        self.simulation = simulation
        self.payloads = payloads
        self.devices = devices  # a fresh stream of the same devices per call
        self.count = count

    @classmethod
    def build(cls, profiles_dir: Path | None, app_id: str | None,
              platforms: list[str] | None, n_devices: int, period: Period,
              seed: int) -> Traffic:
        import dataclasses

        from simulator import behaviour, devices, payloads, profiles, targets

        profile_set = profiles.load_profiles(profiles_dir)
        app = profile_set.app(app_id)
        chosen = profile_set.app_platforms(app, platforms)
        restricted = dataclasses.replace(
            profile_set, profiles={name: profile_set.profiles[name] for name in chosen})
        return cls(behaviour.Simulation(restricted, app, period, seed),
                   payloads.AppPayloads(app, targets.signing_key(app, None)),
                   lambda: devices.DeviceFactory(restricted, seed).devices(n_devices),
                   n_devices)

    def write(self, out: BinaryIO) -> Summary:
        """Stream every request in time order to ``out``.

        Memory holds one entry per device (its timeline state once installed, until it
        churns) and one window of events: it does not grow with days or requests.

        The pipeline makes no reference cycles (reference counting frees every event), so
        the cyclic collector is paused while it runs: with thousands of live timelines its
        scans cost a fifth of the throughput and reclaim nothing.
        """
        from simulator import collector

        with collector.paused():
            return self._write(out)

    def _write(self, out: BinaryIO) -> Summary:
        import random

        from simulator import behaviour, payloads, records
        from simulator.progress import ProgressBar

        sim, app_payloads = self.simulation, self.payloads
        period = sim.period
        ids = payloads.request_id_bytes(random.Random(f"ctvsim-request-ids:{sim.seed}"))
        heads = {platform: records.line_heads(sim.app.app_id, platform)
                 for platform in sim.profile_set.profiles}
        streams = ((*sim.bounded_timeline(device, index),
                    (app_payloads.device(device), heads[device.platform]))
                   for index, device in enumerate(self.devices()))
        progress = ProgressBar("generate")
        chunk: list[bytes] = []
        append, written = chunk.append, 0
        for time_ms, event, (builder, line_heads) in behaviour.merge_by_time(streams):
            head = line_heads[event.operation]
            head[1] += 1
            append(builder.record(event, next(ids), head[0]))
            if len(chunk) >= _FLUSH_LINES:
                out.write(b"".join(chunk))
                written += len(chunk)
                chunk.clear()
                progress.update((time_ms - period.start_ms) / period.duration_ms, written,
                                "requests")
        out.write(b"".join(chunk))
        progress.close()
        counts = Counter({(operation, platform): head[1]
                          for platform, line_heads in heads.items()
                          for operation, head in line_heads.items() if head[1]})
        return Summary(self.count, period.start_ms, period.end_ms, sim.app.app_id,
                       counts)


def _print_summary(summary: Summary, output: str, elapsed: float) -> None:
    import datetime as dt

    from simulator import contract

    def iso(ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    days = (summary.end_ms - summary.start_ms) / 86_400_000
    lines = [f"generated {summary.total:,} requests from {summary.devices:,} devices of app "
             f"{summary.app_id}, {iso(summary.start_ms)} .. {iso(summary.end_ms)} ({days:g} "
             f"days) in {elapsed:.1f} s -> {output}"]
    operations = contract.OPERATIONS
    platforms = sorted({platform for _, platform in summary.requests})
    width = max([len(name) for name in platforms] + [8])
    lines.append(f"  {'platform':<{width}}" + "".join(f"{name:>12}" for name in operations)
                 + f"{'total':>12}")
    for platform in [*platforms, "total"]:
        row = [sum(count for (op, name), count in summary.requests.items()
                   if op == operation and platform in (name, "total"))
               for operation in operations]
        lines.append(f"  {platform:<{width}}" + "".join(f"{n:>12,}" for n in row)
                     + f"{sum(row):>12,}")
    print("\n".join(lines), file=sys.stderr)
