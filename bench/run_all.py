"""`make bench`: run every benchmark in this folder, one after another, so they never share
cores; `make bench-quick` (``--quick``): each at tiny sizes, as a smoke test that none has
rotted (each must run and write its figures as JSON).

A full run prints each script's figures and ratio against its same-run baseline and writes
them to bench/results/<script>.json; the prose, command and date go into bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = ("devices.py", "generate.py", "mock_inprocess.py", "mock.py", "harness.py", "rate.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no verdicts")
    args = parser.parse_args()
    failed = []
    with tempfile.TemporaryDirectory(prefix="ctvsim-bench-quick-") as scratch:
        for name in BENCHMARKS:
            print(f"=== bench/{name}", flush=True)
            command = [sys.executable, str(HERE / name)]
            figures = Path(scratch) / f"{Path(name).stem}.json"
            if args.quick:
                command += ["--quick", "--json", str(figures)]
            started = time.monotonic()
            code = subprocess.run(command, check=False).returncode
            if code or (args.quick and not _has_figures(figures)):
                failed.append(name)
            print(f"=== bench/{name}: {'failed' if name in failed else 'ok'} in "
                  f"{time.monotonic() - started:.1f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def _has_figures(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text())["figures"])
    except (OSError, ValueError, KeyError):
        return False


if __name__ == "__main__":
    raise SystemExit(main())
