"""`ctvsim generate`: deterministic sample traffic as JSON lines, one signed request per line."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.cli import UsageError, note_left_out
from simulator.cli._argtypes import (
    CHANNEL_HELP,
    SDK_QUIRKS_HELP,
    channel,
    installed_base,
    on_off,
    path,
    path_text,
    positive_float,
    positive_int,
)
from simulator.instants import DEFAULT_START

if TYPE_CHECKING:
    from simulator.traffic import Summary, Traffic

_LATEST_END_MS = 221_845_392_000_000  # 9000-01-01T00:00:00Z

EXAMPLES = """\
examples:
  ctvsim generate --devices 10000 --days 3 --seed 7 -o traffic.jsonl
  ctvsim generate --devices 50 --days 1 --platforms roku,tizen --start 2026-03-01T00:00:00Z -o -
  ctvsim generate --devices 100 --channel c2s -o c2s.jsonl   # what the devices' SDKs send
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate", help="write deterministic, signed sample traffic as JSON lines",
        description="Simulate devices over a period and write every request they make, "
        "sorted by time, one JSON object per line: time, channel, operation, platform, "
        "app_id, path, headers (the HMAC signature; on C2S every header of the SDK) and body "
        "(the exact JSON that was signed).",
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
    parser.add_argument(
        "--installed-base", type=installed_base, default="auto", metavar="auto|SHARE",
        help="share of the devices installed before the period, 0 to 1 (0: a launch, every "
        "device installs during it); auto (the default): per platform, the share whose churn "
        "the other devices' installs balance, so daily volume holds steady")
    parser.add_argument(
        "--no-warm-up", dest="warm_up", action="store_false",
        help="leave out the installed base's first_opens (written in the hour before the "
        "period by default, so a target that replays the file knows every device)")
    parser.add_argument("--channel", type=channel, default="s2s",
                        metavar="s2s|c2s|mixed[:SHARE]", help=CHANNEL_HELP)
    parser.add_argument("--sdk-quirks", type=on_off, default=True, metavar="on|off",
                        help=SDK_QUIRKS_HELP)
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--profiles", type=path, metavar="DIR",
                        help="extra profiles that add to or override the bundled ones")
    parser.add_argument("-o", "--output", required=True, type=path_text, metavar="FILE|-",
                        help="output file (written atomically), or - for stdout")
    parser.set_defaults(run=run)


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
    from simulator.traffic import Traffic

    traffic = Traffic.build(args.profiles, args.app, platforms, args.devices, period, args.seed,
                            installed_base=args.installed_base, warm_up=args.warm_up,
                            channel=args.channel, sdk_quirks=args.sdk_quirks)
    note_left_out(traffic.left_out)
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


def _print_summary(summary: Summary, output: str, elapsed: float) -> None:
    import datetime as dt

    from simulator import contract

    def iso(ms: int) -> str:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    days = (summary.end_ms - summary.start_ms) / 86_400_000
    lines = [f"generated {summary.total:,} requests from {summary.devices:,} devices of app "
             f"{summary.app_id}, {iso(summary.start_ms)} .. {iso(summary.end_ms)} ({days:g} "
             f"days) in {elapsed:.1f} s -> {output}"]
    if summary.warm_up:
        lines.append(f"  of them {summary.warm_up:,} first_opens of the installed base, in the "
                     "warm-up hour before the period")
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
