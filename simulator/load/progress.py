"""The live progress line of `ctvsim load`: elapsed, users, request rate, errors.

The Locust process writes one JSON line a second to a pipe (`--ctv-progress-fd`); this reads
it on a thread and redraws one terminal line. Off a terminal (CI logs) it stays silent: the
summary at the end says everything.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import IO


def format_line(update: dict[str, float]) -> str:
    return (
        f"ctvsim load: {update['elapsed']:7.1f}s  users {int(update['users']):>6}  "
        f"{update['rps']:>9.1f} req/s  requests {int(update['requests']):>9}  "
        f"errors {int(update['failures'])}"
    )


class Progress:
    """Owns the pipe: `fd_for_child` goes to Locust, `start()` begins drawing, `stop()` ends."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self._read_fd, self.fd_for_child = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="ctvsim-progress", daemon=True)
        self._drawn = False

    def start(self) -> None:
        os.close(self.fd_for_child)  # the child holds its copy; EOF comes when it exits
        self._thread.start()

    def _pump(self) -> None:
        with os.fdopen(self._read_fd, "r", encoding="utf-8") as lines:
            for line in lines:
                if not self.enabled:
                    continue
                try:
                    update = json.loads(line)
                except ValueError:
                    continue
                self.stream.write("\r" + format_line(update))
                self.stream.flush()
                self._drawn = True

    def stop(self) -> None:
        self._thread.join(timeout=5)
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
