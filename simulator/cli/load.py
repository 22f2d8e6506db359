"""`ctvsim load`: a headless Locust load test with thresholds, reports and reconciliation."""

from __future__ import annotations

import argparse
from typing import Any

from simulator.cli._argtypes import (
    CHANNEL_HELP,
    SDK_QUIRKS_HELP,
    non_negative_float,
    non_negative_int,
    on_off,
    path_text,
    port,
    positive_float,
    positive_int,
)
from simulator.load import options
from simulator.load.shapes import SHAPES

EPILOG = """\
exit codes: 0 every threshold held (and reconciliation passed); 2 usage error, nothing sent;
3 a threshold was breached; 4 reconciliation with the mock failed (lost,
duplicated or misordered requests; takes precedence over 3); 1 the Locust run itself failed;
130 interrupted (the summary of what ran is still printed).

thresholds: METRIC[SCOPE]<|<=|>|>=VALUE, e.g. p99<50ms, p95[session]<20ms,
p99[session,roku]<30ms, error_rate<0.5%, rps>2000, count[first_open]>0.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "load",
        help="load-test a target with simulated CTV devices (Locust)",
        description="Run simulated CTV devices through Locust against the embedded mock "
        "(default), a URL, sandbox or production; print a summary with sub-millisecond "
        "percentiles; apply thresholds; write HTML, CSV, JSON and JUnit reports.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--target", metavar="URL|mock|sandbox|production",
        help="where to send (default: start the embedded mock; a ctvsim mock on loopback is "
        "reconciled too)")
    add("--app", metavar="ID", help="app id from the apps file (default: the first normal one)")
    add("--rate", metavar="R",
        help=f"open model (the default): requests per second, sent on schedule whatever the "
        f"target does (default {options.DEFAULT_RATE:g}; the peak, with --shape)")
    add("--ramp", metavar="T:R,...",
        help="open model: the rate over time, linear between points, e.g. "
        "'0s:100,30s:2000,9m:2000,10m:0' (the run lasts to the last point)")
    add("--max-in-flight", type=positive_int, metavar="N",
        help=f"open model: requests waiting for an answer at most (default "
        f"{options.DEFAULT_MAX_IN_FLIGHT}); a request due past it is dropped and counted")
    add("--users", "-u", type=positive_int, metavar="N",
        help=f"closed model: concurrent devices, each sending when its timeline says (peak, "
        f"with a shape; default {options.DEFAULT_USERS} with --speed max)")
    add("--spawn-rate", "-r", type=positive_float, metavar="R", help="users started per second "
        "(default: all at once)")
    add("--duration", "-t", metavar="D", help="run time: 30s, 5m, 1h30m (default "
        f"{options.DEFAULT_DURATION}, or the --ramp's length)")
    add("--platforms", metavar="a,b", help="only these platforms (default: the app's mix)")
    add("--shape", choices=SHAPES,
        help="load shape over the run: of the rate, or of the users (default: constant)")
    add("--speed", default="1440", metavar="X",
        help="simulated seconds per second (1440: a day a minute; with a rate it sizes the "
        "device pool; max: the closed model with no waiting)")
    add("--processes", type=positive_int, default=1, metavar="N",
        help="Locust worker processes (Locust's master/worker mode; default 1)")
    add("--web", action="store_true", help="also serve Locust's web UI on 127.0.0.1")
    add("--web-port", type=port, default=8089, metavar="PORT", help="web UI port (8089)")
    add("--report-dir", type=path_text, metavar="DIR",
        help="write locust.html, locust_*.csv, summary.json, junit.xml and locust.log here")
    add("--threshold", action="append", default=[], metavar="EXPR",
        help="pass/fail rule (repeatable), e.g. 'p99<50ms'")
    add("--seed", type=int, default=1, metavar="S", help="seed of all generated data (1)")
    add("--retries", type=non_negative_int, default=0, metavar="N",
        help="re-send failed S2S requests per the client's retry policy (default 0); a C2S "
        "device re-sends as its AppsFlyer SDK does")
    add("--channel", default="s2s", metavar="s2s|c2s|mixed[:SHARE]", help=CHANNEL_HELP)
    add("--sdk-quirks", type=on_off, default=True, metavar="on|off", help=SDK_QUIRKS_HELP)
    add("--allow-production", action="store_true",
        help="allow --target production (real events; rate-capped)")
    add("--max-rps", type=non_negative_float, default=0.0, metavar="R",
        help="cap on requests per second (production: the client's modest default cap)")
    add("--installed-base", default="auto", metavar="auto|SHARE",
        help="share of the starting devices that have the app already, 0 to 1 (default auto: "
        "all; each that churns is replaced by a new install, so installs balance churn)")
    add("--no-warm-up", dest="warm_up", action="store_false",
        help="send no warm-up first_opens of the installed base (for a --target that knows "
        "this seed's devices from an earlier run)")
    add("--profiles", type=path_text, metavar="DIR", help="extra profiles directory")
    add("--mock-fault", action="append", default=[], metavar="SPEC",
        help="fault rule for the embedded mock, e.g. 'status=500,probability=0.1'")
    add("--no-reconcile", action="store_true",
        help="skip the reconciliation with the mock's journal")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from simulator.load import runner  # Locust's side and the mock's only when load runs

    return runner.run(runner.LoadOptions(
        target=args.target, app=args.app, users=args.users, spawn_rate=args.spawn_rate,
        rate=args.rate, ramp=args.ramp, max_in_flight=args.max_in_flight,
        duration=args.duration, platforms=args.platforms, shape=args.shape, speed=args.speed,
        processes=args.processes, web=args.web, web_port=args.web_port,
        report_dir=args.report_dir, thresholds=tuple(args.threshold), seed=args.seed,
        retries=args.retries, allow_production=args.allow_production, max_rps=args.max_rps,
        profiles=args.profiles, mock_faults=tuple(args.mock_fault),
        reconcile=not args.no_reconcile, installed_base=args.installed_base,
        warm_up=args.warm_up, channel=args.channel, sdk_quirks=args.sdk_quirks,
    ))
