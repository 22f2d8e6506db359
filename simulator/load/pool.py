"""The devices of an open-model run: which one sends the next scheduled request.

The plan (`schedule.py`) says when a request leaves; the pool says whose it is. Idle devices
wait in a heap ordered by the simulated time of their next event, so the traffic keeps the
timelines' interleaving (launches, then their in-app events, on each device's own rhythm).
A device whose request is on the wire is out of the heap until its answer (and any retries)
came back: one request of its own at a time, as AppsFlyer's SDKs send, and a slow answer
delays that device only; the slot goes to the next idle device. A device whose timeline has
ended (it churned) is replaced by a new install of the same platform from the instant it
churned, so new installs balance churn; past the simulated period's end (a run longer than
it, which `world.period_days` avoids), the new install's timeline is shifted to start at the
pool's current simulated time.

The installed base (each platform's share of the starting devices; `World.base_share`) had
the app before the run: their first requests are their warm-up first_opens, keyed in the warm-up
hour before the period, so they all come out of the heap before any event of the period
(`take(before_ms=...)` hands out only those: the fleet's warm-up). The other starting
devices install during the first simulated day, as at a launch.

Devices are born lazily: each starts as a placeholder in the heap, spread evenly over the
warm-up hour (the installed base) or the first simulated day (the others), and gets its
life, Faker data and timeline only when its turn comes. So a pool of 100,000 costs no
start-up time, and without a warm-up the cost of creating devices is spread over the run.

Size: at rate R, with each device sending e requests per simulated second and simulated time
running ``speed`` times faster than the wall clock, R / (e * speed) devices keep every device
on its own rhythm (`pool_size`). The floor is twice the in-flight cap, so the pool never runs
dry before the cap is reached; the ceiling, `MAX_DEVICES` per process (past it, a device
sends more often than its rhythm says, and the summary shows the pool's size).
No Locust import: the memory benchmark fills pools without gevent.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Mapping, Sequence

from simulator.behaviour import MS_PER_DAY, WARM_UP_MS, Event
from simulator.load.world import Life
from simulator.profiles import App, ProfileSet

# (platform, installed, installs_at) -> a life: a starting device of the installed base or
# not, or a new install from an instant (None: on the first simulated day)
NewLife = Callable[[str, bool, int | None], Life]
MIN_DEVICES = 100
MAX_DEVICES = 100_000  # per process: past it a bigger pool would only cost memory


def events_per_day(profile_set: ProfileSet, app: App, platforms: Sequence[str]) -> float:
    """The mean requests a retained device of this mix sends per simulated day: launches
    (weekend days weighted by their factor) times one plus the app's in-app events per
    session."""
    mix = profile_set.mix(platforms)
    per_session = 1.0 + sum(spec.per_session for spec in app.events)
    total = 0.0
    for profile, weight in zip(mix.values, mix.weights, strict=True):
        behaviour = profile.behaviour
        week = (5 + 2 * behaviour.weekend_factor) / 7
        total += weight * behaviour.daily_active_probability * week \
            * behaviour.sessions_per_active_day * per_session
    return total


def pool_size(peak_rps: float, speed: float, per_day: float, max_in_flight: int) -> int:
    """Devices enough that each keeps its own rhythm at the plan's peak (module docstring)."""
    per_device_rps = per_day / (MS_PER_DAY / 1000) * speed
    wanted = math.ceil(peak_rps / per_device_rps) if per_device_rps > 0 else MIN_DEVICES
    return min(max(wanted, 2 * max_in_flight, MIN_DEVICES), max(MAX_DEVICES, max_in_flight))


class Member:
    """A device of the pool: its life (None until it is born), its platform, the shift of
    its timeline, and whether it starts installed (for its birth)."""

    __slots__ = ("installed", "life", "offset_ms", "platform")

    def __init__(self, life: Life | None, platform: str, offset_ms: int,
                 installed: bool = False) -> None:
        self.life = life
        self.platform = platform
        self.offset_ms = offset_ms
        self.installed = installed


class DevicePool:
    """Idle devices by the simulated time of their next event (see the module docstring)."""

    def __init__(self, new_life: NewLife, platforms: Sequence[str],
                 weights: Sequence[float], size: int, rng: random.Random, start_ms: int,
                 end_ms: int, spread_ms: int, base_shares: Mapping[str, float] | None = None,
                 ) -> None:
        self._new_life = new_life
        self.start_ms = start_ms  # the period's: warm-up events come before it
        self.end_ms = end_ms
        self.now_ms = start_ms  # simulated time of the last event handed out
        self.size = size
        self.born = 0
        chosen = rng.choices(list(platforms), weights=list(weights), k=size)
        shares = base_shares or {}
        installed = [rng.random() < shares.get(platform, 0.0) for platform in chosen]
        base = [p for p, starts_installed in zip(chosen, installed, strict=True)
                if starts_installed]
        new = [p for p, starts_installed in zip(chosen, installed, strict=True)
               if not starts_installed]
        # Sorted by key (the warm-up hour, then the first day): already a heap.
        self._heap: list[tuple[int, int, Member]] = [
            (start_ms - WARM_UP_MS + index * WARM_UP_MS // len(base), index,
             Member(None, platform, 0, True))
            for index, platform in enumerate(base)
        ] + [
            (start_ms + index * spread_ms // len(new), len(base) + index,
             Member(None, platform, 0))
            for index, platform in enumerate(new)
        ]
        self._order = size  # ties broken by arrival, so the order is deterministic

    @property
    def idle(self) -> int:
        return len(self._heap)

    def take(self, before_ms: int | None = None) -> tuple[Member, Event] | None:
        """The idle device whose next event comes first, and that event (the device is now
        busy until `give_back`); None when every device is busy, or when that event is not
        before `before_ms`."""
        heap = self._heap
        while heap:
            if before_ms is not None and heap[0][0] >= before_ms:
                return None
            key, _, member = heapq.heappop(heap)
            if member.life is None:  # its turn to be born: it waits for its first event
                member.life = self._new_life(member.platform, member.installed, None)
                self.born += 1
                self._push(member)
                continue
            event = member.life.take()
            if event is None:  # its timeline ended (held-back events only)
                self._push(member)
                continue
            self.now_ms = max(self.now_ms, key)
            return member, event
        return None

    def give_back(self, member: Member) -> None:
        """The device's answer came back: it waits for its next event again."""
        self._push(member)

    def _replacement(self, member: Member) -> Member:
        assert member.life is not None
        churned = member.life.ended_ms + member.offset_ms
        self.born += 1
        if churned < self.end_ms:
            return Member(self._new_life(member.platform, False, churned), member.platform, 0)
        life = self._new_life(member.platform, False, None)
        first = life.next.time_ms if life.next is not None else 0
        return Member(life, member.platform, max(0, self.now_ms - first))

    def _push(self, member: Member) -> None:
        assert member.life is not None
        event = member.life.next
        if event is None:  # its timeline ended: a new install takes its place
            member = self._replacement(member)
            assert member.life is not None
            event = member.life.next
        key = (event.time_ms if event is not None else 0) + member.offset_ms
        self._order += 1
        heapq.heappush(self._heap, (key, self._order, member))
