"""`make bench`: run every benchmark in this folder, one after another, so they never share cores.

Each script prints its figures and the ratio against its same-run baseline; copy them into
bench/RESULTS.md with the command and the date.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHMARKS = ("devices.py", "generate.py", "mock.py", "harness.py")


def main() -> int:
    failed = []
    for name in BENCHMARKS:
        print(f"=== bench/{name}", flush=True)
        if subprocess.run([sys.executable, str(HERE / name)], check=False).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
