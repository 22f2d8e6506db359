"""A greenlet on the master (or a local run) that watches the run once a second.

It samples the user count (the summary's `users_timeline`, which shows a load shape at work)
and, when `ctvsim load` passed a pipe (`--ctv-progress-fd`), writes one JSON progress line a
second for the terminal: elapsed seconds, users, request rate, requests, failures.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import gevent


def start_monitor(environment: Any, timeline: list[tuple[float, int]], progress_fd: int,
                  ) -> None:
    """Appends (elapsed, users) to `timeline` each second; progress lines go to the fd."""
    stream = os.fdopen(progress_fd, "w", buffering=1) if progress_fd >= 0 else None

    def monitor() -> None:
        begun = last_time = time.monotonic()
        last_count = 0
        while True:
            gevent.sleep(1.0)
            runner, total, now = environment.runner, environment.stats.total, time.monotonic()
            elapsed = round(now - begun, 1)
            timeline.append((elapsed, runner.user_count))
            if stream is not None:
                rate = (total.num_requests - last_count) / (now - last_time)
                stream.write(json.dumps({
                    "elapsed": elapsed, "users": runner.user_count, "rps": round(rate, 1),
                    "requests": total.num_requests, "failures": total.num_failures,
                }) + "\n")
            last_count, last_time = total.num_requests, now

    gevent.spawn(monitor)
