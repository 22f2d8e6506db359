"""What every simulated device of one load-generating process shares, and each device's life.

A `World` is built once per Locust process (local, or each worker) from the parsed options:
the profiles, the app, its signer, one device factory and one timeline simulation per platform.
Each Locust user then asks for a `Life`: one device walking its timeline under its own
simulated clock, started when the user starts. When the device's timeline ends (it churned, or
the simulated period is over) the user asks for the next device.

Device spaces are disjoint and deterministic: platform p on worker w draws from the factory and
simulation stream ``w * len(PLATFORMS) + index(p)``, so the same seed gives the same devices
per platform whatever the spawn order, and no two workers share a device or a request id.
No Locust import here: the memory benchmark builds thousands of lives without gevent.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from simulator import contract
from simulator.behaviour import Event, Period, SimClock, Simulation, parse_start
from simulator.devices import DeviceFactory
from simulator.payloads import CONTENT_TYPE, AppPayloads, DevicePayloads, request_id_bytes
from simulator.profiles import App, ProfileSet

# Simulated time starts on a Monday at midnight US Eastern, so a run plays a week from its
# quietest hour; fixed (not "now") so that a seed fixes every timeline.
SIM_START = "2026-01-05T05:00:00Z"
PERIOD_DAYS = 7
INSTALL_WINDOW_DAYS = 1  # every device installs on the first simulated day of its life


class Life:
    """One device walking its timeline; the user asks it what is due and when."""

    __slots__ = ("_timeline", "clock", "headers", "installed", "next", "paths", "payloads")

    def __init__(self, payloads: DevicePayloads, timeline: Iterator[Event],
                 clock: SimClock | None) -> None:
        self.payloads = payloads
        self.paths = payloads.paths
        # One dict per device, its signature replaced per request: Locust copies the headers
        # it is given, and a retried attempt re-sends the same signature anyway. The API
        # answers with status codes only, so no compressed answers are asked for (without
        # an accept-encoding of its own, each request would get Locust's gzip default).
        self.headers = {"authorization": "", "content-type": CONTENT_TYPE,
                        "accept-encoding": "identity"}
        self._timeline = timeline
        self.clock = clock  # None: as fast as possible
        self.installed = False  # until a first_open is acknowledged
        self.next: Event | None = next(timeline, None)

    def due_at(self) -> float:
        """Wall time (monotonic seconds) at which the next event is due; 0 when no clock."""
        event = self.next
        if event is None or self.clock is None:
            return 0.0
        return self.clock.wall_time_of(event.time_ms)

    def take(self) -> Event | None:
        """The next event to send, as the device's SDK would send it; advances the timeline.

        Until a first_open has been acknowledged, the next launch sends first_open again (as
        AppsFlyer's SDKs do) and in-app events are held back, so the receiver never sees a
        session or in-app event before its device's first_open.
        """
        event = self.next
        self.next = next(self._timeline, None)
        if event is None or self.installed:
            return event
        if event.operation == contract.SESSION:
            return event._replace(operation=contract.FIRST_OPEN)
        if event.operation == contract.INAPP:
            return self.take() if self.next is not None else None
        return event

    @property
    def over(self) -> bool:
        return self.next is None


@dataclass(frozen=True, slots=True)
class WorldSettings:
    seed: int
    worker: int
    speed: float | None  # simulated seconds per wall second; None: as fast as possible
    platforms: tuple[str, ...]


class World:
    """The shared, per-process part of the simulation (see the module docstring)."""

    def __init__(self, profile_set: ProfileSet, app: App, dev_key: str,
                 settings: WorldSettings) -> None:
        self.app = app
        self.settings = settings
        self.payloads = AppPayloads(app, dev_key)
        self._sign = self.payloads.sign
        start = parse_start(SIM_START)
        self.period = Period.of_days(start, PERIOD_DAYS)
        window = Period.of_days(start, INSTALL_WINDOW_DAYS)
        self._factories: dict[str, DeviceFactory] = {}
        self._simulations: dict[str, Simulation] = {}
        self._indexes: dict[str, int] = {}
        for platform in settings.platforms:
            stream = settings.worker * len(contract.PLATFORMS) + contract.PLATFORMS.index(platform)
            self._factories[platform] = DeviceFactory(profile_set, settings.seed, stream)
            self._simulations[platform] = Simulation(
                profile_set, app, self.period, settings.seed, stream, install_window=window
            )
            self._indexes[platform] = 0
        self.request_ids = request_id_bytes(
            random.Random(f"ctvsim-load-request-ids:{settings.seed}:{settings.worker}")
        )

    def life(self, platform: str, wall_now: float) -> Life:
        """The next device of `platform`, its clock starting at `wall_now`."""
        index = self._indexes[platform]
        self._indexes[platform] = index + 1
        device = self._factories[platform].device(platform)
        timeline = self._simulations[platform].timeline(device, index)
        speed = self.settings.speed
        clock = None if speed is None else SimClock(self.period, speed, wall_now)
        return Life(self.payloads.device(device), timeline, clock)

    def request(self, life: Life, event: Event, timestamp_ms: int,
                ) -> tuple[str, bytes, dict[str, str]]:
        """`event` as (path, body, headers), signed and stamped with the instant it is sent.

        The same bytes as `DevicePayloads.request`, without building a `Request` per request
        (the load generator's hot path); the headers are the life's own dict, updated.
        """
        body = life.payloads.body(event, next(self.request_ids), timestamp_ms)
        headers = life.headers
        headers["authorization"] = self._sign(body)
        return life.paths[event.operation], body, headers
