"""Progress on a terminal: one line, redrawn in place, and nothing at all when the output is
piped or logged (the summary at the end says everything).

Hand-written (a few dozen lines) rather than a dependency. ``ProgressBar`` is what
``generate`` and ``send`` draw from their own loop; ``PipedProgress`` draws ``ctvsim
load``'s live line from the JSON lines the Locust process writes to a pipe
(``--ctv-progress-fd``), on a thread of its own. Both draw through ``TerminalLine``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import TextIO

__all__ = ["PipedProgress", "ProgressBar", "TerminalLine"]

_WIDTH = 30
_INTERVAL_S = 0.2


class TerminalLine:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._drawn = False

    def draw(self, text: str) -> None:
        if self.enabled:
            self.stream.write(f"\r{text}\x1b[K")
            self.stream.flush()
            self._drawn = True

    def close(self, *, keep: bool) -> None:
        """End the line: left on screen (``keep``) or wiped."""
        if self._drawn:
            self.stream.write("\n" if keep else "\r\x1b[K")
            self.stream.flush()
            self._drawn = False


class ProgressBar:
    """``label [#####.....] 42.0 % 1,234 requests (5,678/s)``, at most five times a second."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self._line = TerminalLine(stream)
        self._label = label
        self._started = self._last = time.monotonic()

    def update(self, fraction: float, count: int, unit: str) -> None:
        """Cheap enough to call every few thousand items: off a terminal it returns at once."""
        if not self._line.enabled:
            return
        now = time.monotonic()
        if now - self._last < _INTERVAL_S:
            return
        self._last = now
        fraction = min(max(fraction, 0.0), 1.0)
        filled = int(fraction * _WIDTH)
        rate = count / max(now - self._started, 1e-9)
        self._line.draw(f"{self._label} [{'#' * filled}{'.' * (_WIDTH - filled)}] "
                        f"{fraction:6.1%} {count:,} {unit} ({rate:,.0f}/s)")

    def close(self) -> None:
        self._line.close(keep=False)


def format_load_line(update: dict[str, float]) -> str:
    return (
        f"ctvsim load: {update['elapsed']:7.1f}s  users {int(update['users']):>6}  "
        f"{update['rps']:>9.1f} req/s  requests {int(update['requests']):>9}  "
        f"errors {int(update['failures'])}"
    )


class PipedProgress:
    """Owns the pipe: ``fd_for_child`` goes to Locust, ``start()`` begins drawing, ``stop()``
    ends (the child's exit closes the pipe)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._line = TerminalLine(stream)
        self._read_fd, self.fd_for_child = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="ctvsim-progress", daemon=True)

    def start(self) -> None:
        os.close(self.fd_for_child)  # the child holds its copy; EOF comes when it exits
        self._thread.start()

    def _pump(self) -> None:
        with os.fdopen(self._read_fd, "r", encoding="utf-8") as lines:
            for text in lines:
                if not self._line.enabled:
                    continue
                try:
                    update = json.loads(text)
                except ValueError:
                    continue
                self._line.draw(format_load_line(update))

    def stop(self) -> None:
        self._thread.join(timeout=5)
        self._line.close(keep=True)
