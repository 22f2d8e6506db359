"""What every benchmark here shares: a ``--quick`` mode (tiny sizes, no verdict: a smoke test
that the script still runs, for ``make bench-quick``) and its figures as JSON.

A full run writes ``bench/results/<script>.json`` beside the prose of ``bench/RESULTS.md``
(or ``--json FILE``); a quick run writes only where ``--json`` says. Scripts import the
installed package; this helper is found because Python puts a script's own folder first
on the path.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def parse(parser: argparse.ArgumentParser, quick: dict[str, Any],
          argv: list[str] | None = None) -> argparse.Namespace:
    """``parser``'s arguments plus ``--quick`` (which makes ``quick`` the defaults) and
    ``--json FILE``."""
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and no verdict: check that the benchmark still runs")
    parser.add_argument("--json", type=Path, metavar="FILE",
                        help="write the figures here (default for a full run: "
                        "bench/results/<script>.json)")
    words = sys.argv[1:] if argv is None else argv
    if "--quick" in words:
        parser.set_defaults(**quick)
    return parser.parse_args(words)


def record(args: argparse.Namespace, script: str, figures: dict[str, Any]) -> None:
    """The figures, with the command and the date, as JSON."""
    target = args.json or (None if args.quick else RESULTS / f"{Path(script).stem}.json")
    if target is None:
        return
    document = {
        "script": f"bench/{Path(script).name}",
        "command": " ".join([f"bench/{Path(script).name}", *sys.argv[1:]]),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "python": platform.python_version(), "quick": args.quick, "figures": figures,
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2) + "\n")
    print(f"figures: {target}")
