"""What every simulated device of one load-generating process shares, and each device's life.

A `World` is built once per Locust process (local, or each worker) from the parsed options:
the profiles, the app, its signer, one device factory and one timeline simulation per platform.
Each Locust user then asks for a `Life`: one device walking its timeline under its own
simulated clock, started when the user starts. When the device's timeline ends (it churned, or
the simulated period is over) the user asks for the next device, a new install from the
instant the old one churned: so new installs balance churn. The starting devices are an
installed base and the first simulated day's new installs, in the proportion at which those
balance churn (``installed_base`` "auto", as `ctvsim generate` sizes it for a one-day
period), so the run plays a live app from its first minute. An installed-base device's first
request is its warm-up first_open (``Event.warm_up``), which the users send before their
measured requests, named apart.

Device spaces are disjoint and deterministic: platform p on worker w draws from the factory and
simulation stream ``w * len(PLATFORMS) + index(p)``, so the same seed gives the same devices
per platform whatever the spawn order, and no two workers share a device or a request id.
No Locust import here: the memory benchmark builds thousands of lives without gevent.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass

from simulator import contract
from simulator.behaviour import (
    AUTO,
    MS_PER_DAY,
    Event,
    InstalledBase,
    Period,
    SimClock,
    Simulation,
    Timeline,
    parse_start,
)
from simulator.devices import DeviceFactory
from simulator.payloads import CONTENT_TYPE, AppPayloads, DevicePayloads, request_id_bytes
from simulator.profiles import App, ProfileSet

# Simulated time starts on a Monday at midnight US Eastern, so a run plays a week from its
# quietest hour; fixed (not "now") so that a seed fixes every timeline.
SIM_START = "2026-01-05T05:00:00Z"
# At least a week of simulated time, and a week more than the run needs (`period_days`): a
# device's timeline ends as soon as no active day is left in the period, and one that ended
# at the period's end (not churned) would be replaced by a new install early; with a week to
# spare hardly any device has no active day left (with half its days active, 1 in 128).
PERIOD_DAYS = 7
MARGIN_DAYS = 7
UNTIMED_PERIOD_DAYS = 91  # a run with no known end (the web UI's): a quarter
REPLACEMENT_STREAMS = 1 << 20  # device streams of replacements: past every worker's
INSTALL_WINDOW_DAYS = 1  # a new install installs on the first simulated day of its life


def period_days(run_seconds: float | None, speed: float | None) -> int:
    """Simulated days enough for a run of `run_seconds` at `speed` (None: unknown)."""
    if run_seconds is None or speed is None:
        return UNTIMED_PERIOD_DAYS
    return max(PERIOD_DAYS, math.ceil(run_seconds * speed / (MS_PER_DAY / 1000))) + MARGIN_DAYS


class Life:
    """One device walking its timeline; the user asks it what is due and when."""

    __slots__ = ("_timeline", "clock", "ended_ms", "headers", "installed", "next", "paths",
                 "payloads")

    def __init__(self, payloads: DevicePayloads, timeline: Timeline,
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
        self.ended_ms = 0  # once over: the simulated instant the device churned
        self.next: Event | None = self._advance()
        # Known to the target once a first_open is acknowledged; an installed-base device
        # whose timeline starts past its install (no warm-up: the target knows it already)
        # is known from the start.
        self.installed = self.next is not None and self.next.launch > 1

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
        self.next = self._advance()
        if event is None or self.installed:
            return event
        if event.operation == contract.SESSION:
            return event._replace(operation=contract.FIRST_OPEN)
        if event.operation == contract.INAPP:
            return self.take() if self.next is not None else None
        return event

    def _advance(self) -> Event | None:
        try:
            return next(self._timeline)
        except StopIteration as stop:
            self.ended_ms = stop.value
            return None

    @property
    def over(self) -> bool:
        return self.next is None


@dataclass(frozen=True, slots=True)
class WorldSettings:
    seed: int
    worker: int
    speed: float | None  # simulated seconds per wall second; None: as fast as possible
    platforms: tuple[str, ...]
    installed_base: InstalledBase = AUTO  # share of the starting devices installed already
    warm_up: bool = True  # the installed base sends its first_opens first
    days: int = PERIOD_DAYS  # the simulated period (`period_days`)


class World:
    """The shared, per-process part of the simulation (see the module docstring)."""

    def __init__(self, profile_set: ProfileSet, app: App, dev_key: str,
                 settings: WorldSettings) -> None:
        self.app = app
        self.settings = settings
        self.payloads = AppPayloads(app, dev_key)
        self._sign = self.payloads.sign
        start = parse_start(SIM_START)
        self.period = Period.of_days(start, settings.days)
        window = Period.of_days(start, INSTALL_WINDOW_DAYS)
        # Per (platform, replacing): starting devices and the new installs that replace
        # churned ones come from streams of their own, so a starting device is the same
        # device in every run of a seed however the answers interleave the replacements
        # (a target that knew it from an earlier run still does: --no-warm-up).
        self._factories: dict[tuple[str, bool], DeviceFactory] = {}
        self._simulations: dict[str, Simulation] = {}
        self._indexes: dict[tuple[str, bool], int] = {}
        for platform in settings.platforms:
            stream = settings.worker * len(contract.PLATFORMS) + contract.PLATFORMS.index(platform)
            for replacing in (False, True):
                self._factories[platform, replacing] = DeviceFactory(
                    profile_set, settings.seed, stream + REPLACEMENT_STREAMS * replacing)
                self._indexes[platform, replacing] = 0
            self._simulations[platform] = Simulation(
                profile_set, app, self.period, settings.seed, stream, install_window=window,
                installed_base=settings.installed_base, warm_up=settings.warm_up,
            )
        # Devices and timelines are the seed's; request ids are drawn afresh for each run,
        # since a receiver deduplicates by request id and a re-run with the same seed (to a
        # target that knows its devices, --no-warm-up) must be new events to it.
        self.request_ids = request_id_bytes(random.Random(secrets.randbits(128)))

    def base_share(self, platform: str) -> float:
        """The share of `platform`'s starting devices that are of the installed base."""
        return self._simulations[platform].base_share(platform)

    def life(self, platform: str, wall_start: float, installed: bool | None = None,
             installs_at: int | None = None) -> Life:
        """The next device of `platform`, its clock playing the period's start at
        `wall_start`: of the installed base or a new install as `installed` says (None:
        drawn with the installed base's share, for a starting device), or a new install on
        or after `installs_at` (in the place of a device that churned then)."""
        replacing = installs_at is not None
        index = self._indexes[platform, replacing]
        self._indexes[platform, replacing] = index + 1
        device = self._factories[platform, replacing].device(platform)
        if replacing:  # timeline streams apart from the starting devices' too
            index = -1 - index
        timeline = self._simulations[platform].timeline(device, index, installed, installs_at)
        speed = self.settings.speed
        clock = None if speed is None else SimClock(self.period, speed, wall_start)
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
