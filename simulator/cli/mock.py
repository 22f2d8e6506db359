"""`ctvsim mock`: run the local AppsFlyer mock in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from simulator import collector, targets
from simulator.cli import UsageError
from simulator.cli._argtypes import number, path_text, port, positive_int
from simulator.errors import ExitCode
from simulator.mock.journal import (
    DEFAULT_DEDUP_WINDOW,
    DEFAULT_RING_SIZE,
    MAX_DEDUP_WINDOW,
    MAX_RING_SIZE,
)

EPILOG = """examples:
  ctvsim mock                                   # 127.0.0.1:8080, bundled apps
  ctvsim mock --port 0 --journal run.db         # a free port; every request also to SQLite
  ctvsim mock --fault status=503,probability=0.05 --fault latency=uniform:10:50 --fault-seed 1
  curl http://127.0.0.1:8080/__admin/stats      # what arrived, per app, platform, operation

exit codes: 0 after a graceful stop (Ctrl-C, SIGTERM); 1 the --journal file could not be
written in full (a full disk: the stderr line and /__admin/health say how many rows are
missing); 2 bad flag, broken apps/faults file, port in use, or --workers > 1.

--host other than loopback prints a warning: the admin API is then reachable by anyone who
can reach the port.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "mock",
        help="run the strict local AppsFlyer S2S mock (journal, admin API, faults)",
        description="Serve the AppsFlyer PC/Console/CTV S2S API locally: contract checks, "
        "HMAC signatures, a request journal under /__admin/ and injectable faults. Prints the "
        "base URL and the admin URL, stops gracefully on Ctrl-C or SIGTERM.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: loopback only)")
    parser.add_argument("--port", type=port, default=8080,
                        help="TCP port (default 8080; 0 picks a free port)")
    parser.add_argument("--apps", type=path_text, metavar="FILE",
                        help="apps YAML: ids, dev keys, platforms, plans (default: bundled "
                        "profiles/apps.yaml)")
    parser.add_argument("--faults", type=path_text, metavar="FILE",
                        help="fault plan YAML (see the README)")
    parser.add_argument("--fault", metavar="SPEC", action="append", default=[],
                        help="one fault rule, e.g. 'status=503,probability=0.1' or "
                        "'latency=lognormal:80:0.4:200' (repeatable; after --faults' rules)")
    parser.add_argument("--fault-seed", type=int, metavar="N",
                        help="seed for fault probabilities and latencies (repeatable runs)")
    parser.add_argument("--journal", type=path_text, metavar="FILE.db",
                        help="also write every request to this SQLite file")
    parser.add_argument("--ring-size", type=number(int, 0, strict=False, maximum=MAX_RING_SIZE),
                        default=DEFAULT_RING_SIZE, metavar="N",
                        help="recent requests kept in memory for /__admin/requests "
                        "(default 100000; 0 turns the in-memory journal off)")
    parser.add_argument("--dedup-window",
                        type=number(int, 0, strict=True, maximum=MAX_DEDUP_WINDOW),
                        default=DEFAULT_DEDUP_WINDOW, metavar="N",
                        help="request ids remembered per generation for duplicate detection "
                        "(default 1000000)")
    parser.add_argument("--workers", type=positive_int, default=1, metavar="N",
                        help="server processes (only 1: counters must stay exact)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.workers > 1:
        raise UsageError(
            "--workers > 1 is not supported: the journal's counters and duplicate detection "
            "live in one process and must stay exact; run one mock per port instead")
    from simulator.mock.faults import FaultPlan, load_file, parse_rule
    from simulator.mock.server import (
        ADMIN_LINE,
        URL_LINE,
        build_app,
        listen,
        make_server,
        run_forever,
        urls,
    )

    plan = load_file(args.faults) if args.faults else FaultPlan()
    extra = [parse_rule(spec, f"--fault {spec!r}") for spec in args.fault]
    if extra or args.fault_seed is not None:
        plan = FaultPlan([*plan.rules, *extra],
                         args.fault_seed if args.fault_seed is not None else plan.seed)
    app = build_app(apps_file=args.apps, faults=plan, journal_file=args.journal,
                    ring_size=args.ring_size, dedup_window=args.dedup_window)
    sock = listen(args.host, args.port)
    base_url, admin_url = urls(sock)
    if targets.host_kind(args.host) != targets.LOOPBACK:
        print(f"ctvsim mock: warning: listening on {args.host}, not loopback: the admin API "
              "(journal reset, fault injection) is open to the network too; bind 127.0.0.1 "
              "unless that is what you want", file=sys.stderr, flush=True)
    print(f"{URL_LINE}{base_url}", flush=True)
    print(f"{ADMIN_LINE}{admin_url}", flush=True)
    collector.tune_for_long_runs()  # ~20 % less CPU per request (bench/RESULTS.md)
    run_forever(make_server(app), sock)
    status = app.journal.stats()["journal_file"]
    if status is not None and status["state"] == "failed":
        print(f"ctvsim mock: error: the SQLite journal {args.journal} is incomplete: "
              f"{status['rows_lost']:,} requests were not written to it ({status['error']})",
              file=sys.stderr)
        return ExitCode.FAILED
    return 0
