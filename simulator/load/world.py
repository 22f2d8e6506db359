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
from collections.abc import Iterator
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
from simulator.c2s import SdkDevicePayloads
from simulator.channels import S2S_ONLY, ChannelMix, Wire
from simulator.devices import DeviceFactory
from simulator.payloads import DevicePayloads, request_id_bytes
from simulator.profiles import App, ProfileSet
from simulator.profiles.model import REQUEST_ID_FORMATS
from simulator.retries import Retry, RetryPolicy

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


# When an SDK's launch counter moves (profiles/sdks.yaml): these whatever the answer.
ON_SUCCESS = "on_success"
ON_RESPONSE = "on_response"
COUNTS_ANY_OUTCOME = frozenset({"at_init", "before_send"})


class Life:
    """One device walking its timeline; the user asks it what is due and when."""

    __slots__ = ("_timeline", "accepted", "clock", "counter", "ended_ms", "headers",
                 "installed", "next", "paths", "payloads", "request_ids", "retry")

    def __init__(self, payloads: DevicePayloads | SdkDevicePayloads, timeline: Timeline,
                 clock: SimClock | None, retry: Retry, request_ids: Iterator[bytes],
                 counter: str = ON_SUCCESS) -> None:
        self.payloads = payloads
        self.paths = payloads.paths
        self.retry = retry  # the relay's policy on S2S, the device's SDK's on C2S
        self.request_ids = request_ids  # in the format of the device's SDK
        self.counter = counter  # when its SDK stops sending first_open (sdks.yaml)
        # One dict per device, its signature replaced per request: Locust copies the headers
        # it is given, and a retried attempt re-sends the same signature anyway. The API
        # answers with status codes only, so no compressed answers are asked for (without
        # an accept-encoding of its own, each request would get Locust's gzip default).
        self.headers = payloads.headers()
        self.headers.setdefault("accept-encoding", "identity")
        self._timeline = timeline
        self.clock = clock  # None: as fast as possible
        self.ended_ms = 0  # once over: the simulated instant the device churned
        self.next: Event | None = self._advance()
        # Known to the target once a first_open is acknowledged; an installed-base device
        # whose timeline starts past its install (no warm-up: the target knows it already)
        # is known from the start.
        self.installed = self.next is not None and self.next.launch > 1
        # The target has accepted its first_open (or knew it already): until then, what
        # `installed` lets through may reach it before any first_open (reconcile.py).
        self.accepted = self.installed

    def due_at(self) -> float:
        """Wall time (monotonic seconds) at which the next event is due; 0 when no clock."""
        event = self.next
        if event is None or self.clock is None:
            return 0.0
        return self.clock.wall_time_of(event.time_ms)

    def take(self) -> Event | None:
        """The next event to send, as the device's SDK would send it; advances the timeline.

        Until the SDK's launch counter has moved past the install (``answered``), the next
        launch sends first_open again and in-app events are held back. An SDK that moves it
        whatever the answer (``at_init``, ``before_send``: Roku's, the HTML5 SDK's) goes on
        to sessions after a first_open that failed, as real devices do.
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

    def answered(self, event: Event, status: int | None) -> None:
        """The final answer to ``event`` (None: no answer came): a first_open's moves the
        launch counter as the device's SDK moves it."""
        if event.operation != contract.FIRST_OPEN or self.accepted:
            return
        if status in contract.SUCCESS_STATUSES:
            self.accepted = self.installed = True
        elif self.counter in COUNTS_ANY_OUTCOME or (
                self.counter == ON_RESPONSE and status is not None):
            self.installed = True

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
    channel: ChannelMix = S2S_ONLY  # which devices send on C2S (channels.py)
    sdk_quirks: bool = True  # C2S bodies with the SDKs' departures from the schema
    forward_address: bool = True  # a loopback target: devices' addresses in X-Forwarded-For
    path_prefixes: tuple[tuple[str, str], ...] = ()  # (channel, path under the base URL)


class World:
    """The shared, per-process part of the simulation (see the module docstring)."""

    def __init__(self, profile_set: ProfileSet, app: App, dev_key: str,
                 settings: WorldSettings, relay_retry: Retry | None = None) -> None:
        self.app = app
        self.settings = settings
        self.wire = Wire(profile_set, app, dev_key, settings.channel, seed=settings.seed,
                         quirks=settings.sdk_quirks, forward_address=settings.forward_address,
                         path_prefixes=dict(settings.path_prefixes))
        self._sign = self.wire.sign
        self._relay_retry = relay_retry or RetryPolicy(retries=0)
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
        self.request_ids = {id_format: request_id_bytes(random.Random(secrets.randbits(128)),
                                                        id_format)
                            for id_format in REQUEST_ID_FORMATS}

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
        payloads = self.wire.device(device, f"{self.settings.worker}:{platform}:{replacing}:"
                                            f"{index}")
        if replacing:  # timeline streams apart from the starting devices' too
            index = -1 - index
        timeline = self._simulations[platform].timeline(device, index, installed, installs_at)
        speed = self.settings.speed
        clock = None if speed is None else SimClock(self.period, speed, wall_start)
        request_ids = self.request_ids[payloads.request_id_format]
        if not isinstance(payloads, SdkDevicePayloads):  # a relay: the harness's policy
            return Life(payloads, timeline, clock, self._relay_retry, request_ids)
        return Life(payloads, timeline, clock, payloads.sdk.retry, request_ids,
                    payloads.sdk.counter)

    def request(self, life: Life, event: Event, timestamp_ms: int,
                ) -> tuple[str, bytes, dict[str, str]]:
        """`event` as (path, body, headers), signed and stamped with the instant it is sent.

        The same bytes as `DevicePayloads.request`, without building a `Request` per request
        (the load generator's hot path); the headers are the life's own dict, updated.
        """
        payloads = life.payloads
        body = payloads.body(event, next(life.request_ids), timestamp_ms)
        headers = life.headers
        headers[payloads.signature_header] = self._sign(body)
        return life.paths[event.operation], body, headers
