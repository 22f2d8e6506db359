"""The load shape of a ctvsim run, as a Locust `LoadTestShape`; `--ctv-shape` picks which.

Loaded next to the users (``-f locustfiles/ctv.py,locustfiles/shapes.py``) only when a shape is
wanted, because Locust lets a shape class take over from ``-u``/``-r`` whenever one is present.
The shape reads the peak user count, spawn rate and run time from Locust's own options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from locust import LoadTestShape

from simulator.load import shapes

DEFAULT_RUN_SECONDS = 60


class CtvShape(LoadTestShape):
    """`day`, `step` or `spike` (see simulator/load/shapes.py) over the run time."""

    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self._users: Callable[[float, float, int], int] | None = None

    def _function(self, environment: Any) -> Callable[[float, float, int], int]:
        if self._users is None:
            harness = environment.ctvsim
            curve = shapes.platform_curve(harness.profile_set, harness.platforms)
            self._users = shapes.users_function(environment.parsed_options.ctv_shape, curve)
        return self._users

    def tick(self) -> tuple[int, float] | None:
        assert self.runner is not None
        environment = self.runner.environment
        parsed = environment.parsed_options
        if parsed is None:  # Locust used as a library, without a command line: no shape
            return None
        length = float(parsed.run_time or DEFAULT_RUN_SECONDS)
        elapsed = self.get_run_time()
        if elapsed >= length:
            return None
        peak = int(parsed.num_users or 1)
        users = self._function(environment)(elapsed, length, peak)
        return users, max(float(parsed.spawn_rate or 1), float(peak))
