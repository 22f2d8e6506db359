"""The plumbing of the Locust users that are CTV devices (``locustfiles/ctv.py`` says what
they do with it), in both load models:

- closed (`DeviceUser`): each user is one device at a time, walking its timeline
  (``world.Life``), so the load is users x their pace, and a slow answer slows its user;
- open (`DeviceFleet`): one user per process holds a pool of devices and sends the rate
  plan's requests when they are due, however the target answers.

In the closed model ``wait_time`` sleeps until the device's next event is due, so a
stopping test never cuts a request in half (users stop while waiting, or finish the request
they are in); ``next_due_event`` and ``send_event`` are what a task calls. Requests are named
``{operation} [{platform}]`` so Locust's own tables break down by both; attempts that the
retry policy re-sends are named ``... retried`` and counted apart from final outcomes.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any, ClassVar

import gevent
from gevent import GreenletExit
from gevent.pool import Pool
from locust import FastHttpUser
from locust.exception import StopUser
from locust.runners import WorkerRunner

from simulator import contract
from simulator.behaviour import Event
from simulator.load.account import MAX_LATENESS_S, RateAccount
from simulator.load.options import NETWORK_TIMEOUT_S
from simulator.load.pool import DevicePool, Member
from simulator.load.recorder import Recorder, request_name
from simulator.load.schedule import RatePlan
from simulator.load.world import Life, World
from simulator.retries import Pacer

IDLE_WAIT_S = 3600.0  # a plan that sends nothing more: wait until the run stops
BATCH_S = 0.001  # the open model's shortest sleep between dispatches
TASK_S = 0.1  # the open model's longest task: how long a stop may wait for the timekeeper


@dataclass
class Fleet:
    """What the plugin gives this process's `DeviceFleet`: its share of the plan, of the
    in-flight cap and of the devices, and the account it fills."""

    plan: RatePlan
    phase: float
    max_in_flight: int
    pool: DevicePool
    seconds: float = math.inf  # the schedule's length, from the fleet's first send
    account: RateAccount = field(default_factory=RateAccount)
    running: bool = False
    finished: bool = False  # the schedule is over and its requests answered (or given up)


class Sender:
    """Sends one event's signed request, re-sending the same bytes as the retry policy
    allows; any number of greenlets may share one (the open model's do).

    An attempt still waiting for its answer when the run stops its greenlet (Locust kills
    a user after the stop timeout and reports nothing for its request; the open model kills
    its sends then too) is counted as in flight at the stop: it was sent, and the target may
    have journaled it. So is one that a Ctrl-C interrupts: Python raises KeyboardInterrupt in
    whichever greenlet runs when the signal comes, which may be this one, mid-request.
    """

    def __init__(self, client: Any, recorder: Recorder, platforms: Iterable[str]) -> None:
        self.client = client
        self.recorder = recorder
        platforms = tuple(platforms)
        # Per (phase, channel): the names of final outcomes and of retried attempts.
        self.names = {
            (warm_up, channel): tuple(
                {(op, p): request_name(op, p, retried=retried, warm_up=warm_up,
                                       channel=channel)
                 for op in contract.OPERATIONS for p in platforms}
                for retried in (False, True))
            for warm_up in (False, True) for channel in contract.CHANNELS
        }

    def send(self, life: Life, event: Event, platform: str, path: str, body: bytes,
             headers: dict[str, str]) -> None:
        """Sends until the final answer, which the device's life then hears (``answered``).
        A warm-up request is named apart, a C2S one marked (`recorder.py`)."""
        operation, retry = event.operation, life.retry
        names, retried_names = self.names[event.warm_up, life.payloads.channel]
        name = attempt = names[operation, platform]
        if not life.accepted and operation != contract.FIRST_OPEN:
            self.recorder.before_first_open(name)
        try:
            if retry.retries == 0:
                # Locust annotates data as str or dict; FastHttpSession sends bytes as they
                # are, which a signed body needs.
                response = self.client.request("POST", path, data=body,
                                               headers=headers, name=name)
                life.answered(event, response.status_code or None)
                return
            attempts = 0
            while True:
                attempts += 1
                with self.client.request("POST", path, data=body,
                                         headers=headers, name=name,
                                         catch_response=True) as response:
                    status = response.status_code or None
                    delay = retry.after(attempts, status, _retry_after(response))
                    if delay is not None:
                        response.request_meta["name"] = retried_names[operation, platform]
                if delay is None:
                    life.answered(event, status)
                    return
                attempt = ""  # this attempt is counted; the wait is not an attempt
                gevent.sleep(delay)
                attempt = name
        except (GreenletExit, KeyboardInterrupt):
            if attempt:
                self.recorder.in_flight_at_stop(attempt)
            raise


class DeviceUser(FastHttpUser):
    """One simulated device of `platform` (subclasses set it); see the module docstring."""

    abstract = True
    platform: ClassVar[str] = ""
    network_timeout = NETWORK_TIMEOUT_S
    connection_timeout = NETWORK_TIMEOUT_S

    def on_start(self) -> None:
        harness = self.environment.ctvsim
        self.world: World = harness.world
        self.pacer: Pacer | None = harness.pacer
        self.sender = Sender(self.client, harness.recorder, (self.platform,))
        self.life: Life = self.world.life(self.platform, time.monotonic())
        _no_cookie_jar(self.client)

    def wait_time(self) -> float:
        life = self.life
        if life.clock is None:  # --speed max: never a clock to read
            return 0.0
        return max(0.0, life.due_at() - time.monotonic())

    def next_due_event(self) -> Event | None:
        """The device's next event if it is due now, else None. A device whose life has
        ended (it churned) is replaced by a new install on the same simulated clock, from
        the instant it churned, which then starts with its first_open."""
        life = self.life
        if life.over:
            if life.ended_ms < self.world.period.end_ms:
                wall_start = time.monotonic() if life.clock is None else life.clock.wall_start
                life = self.life = self.world.life(self.platform, wall_start,
                                                   installs_at=life.ended_ms)
            else:  # the simulated period is over: a new install on a clock of its own
                life = self.life = self.world.life(self.platform, time.monotonic(),
                                                   installed=False)
        if life.clock is not None and life.due_at() > time.monotonic():
            return None
        return life.take()

    def send_event(self, event: Event) -> None:
        """The event as its signed request, stamped now (paced by --ctv-max-rps)."""
        if self.pacer is not None:
            gevent.sleep(self.pacer.reserve(time.monotonic()))
        life = self.life
        path, body, headers = self.world.request(life, event, int(time.time() * 1000))
        self.sender.send(life, event, self.platform, path, body, headers)


class DeviceFleet(FastHttpUser):
    """The open model: the devices of one process, sending the plan's requests when they are
    due, whatever the target does (`schedule.py` says when, `pool.py` whose, `account.py`
    what became of each). One per process: `ctvsim load` starts as many as processes.

    The user's own greenlet only keeps time: it hands each due request to a greenlet of its
    own, up to the in-flight cap (the HTTP pool holds as many connections), and sleeps until
    the next is due, at least `BATCH_S` (a wake-up per request costs more than the request
    at thousands a second; requests due within a batch leave together, well inside the
    on-time bound). Each task runs for at most `TASK_S`, then returns to Locust, whose wait
    is where a stop takes effect at once. At the stop the requests still on the wire get the
    stop timeout to finish, and any left are counted in flight.

    Before the schedule starts, the warm-up introduces the installed base to the target (each
    device's first_open, which a live app's devices sent long ago): as fast as the target
    answers, at most the in-flight cap at a time (and --max-rps, when given); sent and
    reconciled like any request, but named apart and outside the rate account, so the
    measured window holds a live app's mix, whose first_opens are the new installs'.
    """

    abstract = True
    network_timeout = NETWORK_TIMEOUT_S
    connection_timeout = NETWORK_TIMEOUT_S

    def on_start(self) -> None:
        harness = self.environment.ctvsim
        fleet: Fleet = harness.fleet
        if fleet.running:
            raise StopUser("one DeviceFleet per process: this one would double the rate")
        fleet.running = True
        self.fleet = fleet
        self.world: World = harness.world
        self.sender = Sender(self.client, harness.recorder, harness.platforms)
        _no_cookie_jar(self.client)
        self.account: RateAccount = fleet.account
        self.max_in_flight = fleet.max_in_flight
        self.pool = fleet.pool
        self.account.devices, self.account.max_in_flight = fleet.pool.size, fleet.max_in_flight
        self.account.peak_rps = fleet.plan.peak
        self.plan = fleet.plan
        self.sends = Pool(self.max_in_flight)
        # Locust's run time counts its own start-up and the warm-up; the schedule's length
        # counts from its first request.
        self.length = fleet.seconds
        self._instants = takewhile(lambda offset: offset < self.length,
                                   fleet.plan.instants(fleet.phase))
        self._next: float | None = next(self._instants, None)
        self.started: float | None = None  # once warmed up
        self._warm_up(harness.pacer)
        self.started = time.monotonic()
        harness.measure_from_now()

    def _warm_up(self, pacer: Pacer | None) -> None:
        """The installed base's first_opens (see the class docstring)."""
        began = time.monotonic()
        pool, sends = self.pool, self.sends
        while (taken := pool.take(before_ms=pool.start_ms)) is not None:
            if pacer is not None:
                gevent.sleep(pacer.reserve(time.monotonic()))
            sends.spawn(self._deliver, *taken)  # waits while the cap is full
        sends.join()
        self.account.warm_up_s = time.monotonic() - began

    def wait_time(self) -> float:
        return self._until_next()

    def _until_next(self) -> float:
        if self._next is None or self.started is None:  # the plan sends nothing more
            return IDLE_WAIT_S
        return max(0.0, self.started + self._next - time.monotonic())

    def keep_the_rate(self) -> None:
        """Sends what is due, batch by batch, for at most `TASK_S`."""
        end = time.monotonic() + TASK_S
        while True:
            self.dispatch_due()
            pause = self._until_next()
            if time.monotonic() + pause >= end:
                return  # the rest of the wait is Locust's
            gevent.sleep(max(pause, BATCH_S))

    def dispatch_due(self) -> None:
        """Every request due by now leaves, or is dropped with its reason."""
        assert self.started is not None  # tasks run once on_start has warmed up
        elapsed = time.monotonic() - self.started
        account, sends = self.account, self.sends
        while self._next is not None and self._next <= elapsed:
            offset, self._next = self._next, next(self._instants, None)
            account.schedule(offset)
            if elapsed - offset > MAX_LATENESS_S:
                account.drop(offset, "harness_saturated")
            elif sends.full():
                account.drop(offset, "in_flight_cap")
            elif (taken := self.pool.take()) is None:
                account.drop(offset, "pool_exhausted")
            else:
                sends.spawn(self._send, taken[0], taken[1], offset)
                if len(sends) > account.in_flight_peak:
                    account.in_flight_peak = len(sends)
            if self._next is None and math.isfinite(self.length):
                gevent.spawn(self._end_when_answered)

    def _end_when_answered(self) -> None:
        """The schedule is over: once its requests are answered (or the stop timeout has
        passed), a local run ends, so --duration is the schedule's length however long
        Locust took to start and the warm-up took. A worker says so in its next report, and
        its master ends the run once every worker has (plugin.py)."""
        self.sends.join(timeout=self.environment.stop_timeout or 0)
        self.fleet.finished = True
        if not isinstance(self.environment.runner, WorkerRunner):
            self.sends.kill(block=True)  # still unanswered: in flight at the stop
            self.environment.runner.quit()

    def _send(self, member: Member, event: Event, offset: float) -> None:
        assert self.started is not None
        scheduled = self.started + offset
        self.account.send(offset, time.monotonic() - scheduled)
        self._deliver(member, event)
        self.account.answer(time.monotonic() - scheduled)

    def _deliver(self, member: Member, event: Event) -> None:
        """The device's request, until its final answer; then the device is idle again."""
        life = member.life
        assert life is not None  # the pool hands out born devices only
        path, body, headers = self.world.request(life, event, int(time.time() * 1000))
        self.sender.send(life, event, member.platform, path, body, headers)
        self.pool.give_back(member)

    def on_stop(self) -> None:
        if not hasattr(self, "sends"):  # stopped before it started (a second fleet)
            return
        started = self.started  # None: stopped during the warm-up, nothing scheduled yet
        window = 0.0 if started is None else min(time.monotonic() - started, self.length)
        self.account.window_s = window
        self.account.planned = self.plan.count_until(window)
        try:
            self.sends.join(timeout=self.environment.stop_timeout or 0)
        finally:
            self.sends.kill(block=True)  # what is still on the wire counts in flight


def _no_cookie_jar(client: Any) -> None:
    """The S2S API sets no cookies and a device's SDK keeps none for it, so no cookie jar:
    Locust's session otherwise runs one on every request (about 6 % of the CPU here)."""
    client.client.cookiejar = None


def _retry_after(response: Any) -> str | None:
    headers = getattr(response, "headers", None)
    return headers.get("retry-after") if headers else None


def per_platform_classes(base: type[DeviceUser],
                         platforms: tuple[str, ...] = contract.PLATFORMS,
                         ) -> dict[str, type[DeviceUser]]:
    """``RokuDevice``, ``TizenDevice``, ...: one subclass of ``base`` per platform, defined
    in ``base``'s module (the plugin weights them by the profiles' mix at init)."""
    return {
        f"{name.capitalize()}Device": type(
            f"{name.capitalize()}Device", (base,),
            {"platform": name, "__module__": base.__module__, "abstract": False,
             "__doc__": f"A {name} device: {base.__doc__.splitlines()[0] if base.__doc__ else ''}"},
        )
        for name in platforms
    }
