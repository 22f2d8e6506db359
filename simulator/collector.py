"""How ctvsim's processes tune Python's garbage collector, defined once.

Per request, the mock and the Locust users make a few short-lived objects that reference
counting frees; the cyclic collector's frequent young passes then only re-walk the
long-lived objects (modules, profiles, Locust's and gevent's state) and cost about a tenth
of the CPU (bench/RESULTS.md). A process that serves or sends for a long time freezes what
it has built and collects young objects far less often; ``generate``'s pipeline makes no
cycles at all, so it pauses the collector while it writes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 100_000  # allocations between young collections (Python's default: 700)


def tune_for_long_runs() -> None:
    """Freeze everything built so far (never scanned again) and collect young objects every
    YOUNG_THRESHOLD allocations."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 50, 100)


@contextmanager
def paused() -> Iterator[None]:
    """No cyclic collection inside the block (for work that makes no reference cycles)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
