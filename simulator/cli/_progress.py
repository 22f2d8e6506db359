"""A one-line progress bar on stderr, drawn only when stderr is a terminal.

Hand-written (a dozen lines) rather than a dependency: the commands need a fraction, a count
and a rate, redrawn a few times a second, and nothing at all when output is piped or logged.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30
_INTERVAL_S = 0.2


class Progress:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._enabled = self._stream.isatty()
        self._label = label
        self._started = self._last = time.monotonic()

    def update(self, fraction: float, count: int, unit: str) -> None:
        """Redraw if enough time has passed; cheap enough to call every few thousand items."""
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._last < _INTERVAL_S:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * _WIDTH)
        rate = count / max(now - self._started, 1e-9)
        self._stream.write(
            f"\r{self._label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {fraction:6.1%} "
            f"{count:,} {unit} ({rate:,.0f}/s)"
        )
        self._stream.flush()

    def close(self) -> None:
        if self._enabled:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
