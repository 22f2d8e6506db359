"""The open model's parts without Locust: the plan's instants, the device pool's order rules,
the account's arithmetic and its merge across workers."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from simulator import contract
from simulator.errors import InputError
from simulator.load.account import RateAccount
from simulator.load.pool import DevicePool, events_per_day, pool_size
from simulator.load.schedule import RatePlan, format_ramp, parse_ramp, shape_plan
from simulator.load.world import World, WorldSettings
from simulator.profiles import load_profiles


def _until(plan: RatePlan, seconds: float, phase: float = 0.0) -> list[float]:
    return list(itertools.takewhile(lambda t: t < seconds, plan.instants(phase)))


def test_a_flat_plan_is_evenly_spaced_and_counts_exactly() -> None:
    instants = _until(RatePlan.constant(250), 4)
    assert len(instants) == 1000 and instants[1] - instants[0] == pytest.approx(0.004)
    assert RatePlan.constant(250).count_until(4) == 1000


def test_a_ramp_sends_the_area_under_its_rate() -> None:
    plan = parse_ramp("0s:0, 10s:200, 20s:200, 30s:0")
    assert plan.count_until(30) == pytest.approx(4000)
    instants = _until(plan, 30)
    assert abs(len(instants) - 4000) <= 1
    assert instants == sorted(instants)
    first_ten = sum(1 for t in instants if t < 10)
    assert first_ten == pytest.approx(1000, abs=1)  # linear up: the area of the triangle


def test_processes_sharing_a_plan_send_it_exactly_and_interleaved() -> None:
    plan = parse_ramp("0s:100,5s:300")
    together = sorted(t for index in range(3)
                      for t in _until(plan.share(index, 3), 5, phase=index / 3))
    alone = _until(plan, 5)
    assert len(together) == len(alone)
    assert max(abs(a - b) for a, b in zip(together, alone, strict=True)) < 0.01


def test_shapes_as_rate_plans_peak_where_the_closed_shapes_do() -> None:
    curve = [1.0] * 18 + [4.0] * 4 + [2.0] * 2
    day = shape_plan("day", curve, 1000, 24)
    assert day.peak == 1000 and day.rate_at(19) == pytest.approx(1000)
    assert day.rate_at(3) == pytest.approx(250)
    step = shape_plan("step", curve, 500, 10)
    assert [step.rate_at(t) for t in (0.5, 2.5, 9.5)] == [100, 200, 500]
    spike = shape_plan("spike", curve, 500, 100)
    assert spike.rate_at(50) == 500 and spike.rate_at(10) == 100


def test_a_plan_survives_its_text_form() -> None:
    plan = shape_plan("spike", [1.0] * 24, 333.3, 17)
    assert parse_ramp(format_ramp(plan)) == plan


@pytest.mark.parametrize("text", ["", "0s", "0s:x", "1s:5", "0s:5,2s:1,1s:4", "0s:inf",
                                  "0s:nan", "0s:5e6", "0s:0", "0s:-1", "0q:5"])
def test_a_bad_ramp_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="--ramp"):
        parse_ramp(text)


def _world(platforms: tuple[str, ...] = ("roku", "tizen"), days: int = 7) -> World:
    profiles = load_profiles()
    app = profiles.app(None)
    return World(profiles, app, app.dev_key,
                 WorldSettings(3, 0, None, platforms, days=days))


def _pool(world: World, size: int, seed: int = 1) -> DevicePool:
    return DevicePool(lambda platform, installed, at: world.life(platform, 0.0, installed, at),
                      ["roku", "tizen"], [3, 1], size, random.Random(seed),
                      world.period.start_ms, world.period.end_ms, 86_400_000)


def test_the_pool_keeps_every_device_in_order_and_one_request_each() -> None:
    """Hands out 5,000 events with a tenth of the devices always busy: no device is handed
    out twice while busy, and each device's first event is its first_open."""
    world = _world()
    pool = _pool(world, 200)
    busy: list = []
    seen: dict[int, list[str]] = {}
    rng = random.Random(7)
    for _ in range(5000):
        taken = pool.take()
        assert taken is not None
        member, event = taken
        assert all(member is not other for other in busy)
        seen.setdefault(id(member.life), []).append(event.operation)
        if event.operation == contract.FIRST_OPEN:
            member.life.installed = True  # the mock accepted it
        busy.append(member)
        if len(busy) > 20:
            pool.give_back(busy.pop(rng.randrange(len(busy))))
    assert all(ops[0] == contract.FIRST_OPEN for ops in seen.values())
    assert pool.born >= 200 and pool.idle + len(busy) == 200


def test_a_pool_whose_devices_are_all_busy_says_so() -> None:
    pool = _pool(_world(), 3)
    taken = [pool.take() for _ in range(3)]
    assert all(t is not None for t in taken) and pool.take() is None


def test_the_pool_is_deterministic_for_a_seed() -> None:
    def walk() -> list[tuple[str, int]]:
        pool = _pool(_world(), 50)
        out = []
        for _ in range(300):
            taken = pool.take()
            assert taken is not None
            member, event = taken
            out.append((member.platform, event.time_ms + member.offset_ms))
            pool.give_back(member)
        return out

    assert walk() == walk()


def test_the_installed_base_warms_up_first_and_churn_brings_new_installs() -> None:
    """With the whole pool installed, `take(before_ms=start)` hands out exactly one warm-up
    first_open per device and nothing else; afterwards every first_open is a new install's,
    which takes the place of a device that churned, from the instant it churned, and the
    pool keeps its size."""
    world = _world(days=60)
    replacements: list[tuple[int, Any]] = []

    def new_life(platform: str, installed: bool, at: int | None) -> Any:
        life = world.life(platform, 0.0, installed, at)
        if at is not None:
            replacements.append((at, life))
        return life

    pool = DevicePool(new_life, ["roku", "tizen"], [3, 1], 300, random.Random(1),
                      world.period.start_ms, world.period.end_ms, 86_400_000,
                      {"roku": 1.0, "tizen": 1.0})
    warmed = []
    while (taken := pool.take(before_ms=pool.start_ms)) is not None:
        member, event = taken
        assert event.operation == contract.FIRST_OPEN and event.launch == 0
        assert event.time_ms < pool.start_ms
        member.life.installed = True
        warmed.append(member)
    assert len(warmed) == 300 and len({id(m) for m in warmed}) == 300
    for member in warmed:
        pool.give_back(member)
    installs = 0
    for _ in range(20_000):
        taken = pool.take()
        assert taken is not None
        member, event = taken
        assert event.time_ms >= pool.start_ms
        if event.operation == contract.FIRST_OPEN and event.launch == 1:
            installs += 1
            member.life.installed = True
        pool.give_back(member)
    assert pool.idle == 300
    assert installs > 50 and pool.born == 300 + len(replacements)
    assert len(replacements) - installs <= 300  # the rest wait for their install day
    for at, life in replacements:
        assert life.next is None or life.next.time_ms >= at >= pool.start_ms


def test_pool_size_follows_the_rate_and_the_rhythm() -> None:
    profiles = load_profiles()
    app = profiles.app(None)
    per_day = events_per_day(profiles, app, profiles.app_platforms(app))
    assert 1 < per_day < 100
    small, big = pool_size(100, 1440, per_day, 10), pool_size(1000, 1440, per_day, 10)
    assert big == pytest.approx(10 * small, rel=0.01)
    assert pool_size(1, 1440, per_day, 2000) == 4000  # twice the in-flight cap at least
    assert pool_size(1e6, 1440, per_day, 10) == 100_000  # and a ceiling


def test_accounts_merge_exactly_and_every_request_is_one_thing() -> None:
    a, b = RateAccount(), RateAccount()
    for account, offsets in ((a, [0.1, 0.2, 1.5]), (b, [0.3, 2.7])):
        for offset in offsets:
            account.schedule(offset)
    a.send(0.1, 0.001)
    a.send(0.2, 0.050)  # late
    a.drop(1.5, "in_flight_cap")
    b.send(0.3, 0.0)
    b.drop(2.7, "pool_exhausted")
    merged = RateAccount.merged([a.to_dict(), b.to_dict()])
    assert (merged.scheduled, merged.on_time, merged.late) == (5, 2, 1)
    assert dict(merged.dropped) == {"in_flight_cap": 1, "pool_exhausted": 1}
    assert merged.unaccounted == 0 and merged.lateness.count == 3
    assert merged.series == [[3, 3, 1, 0], [1, 0, 0, 1], [1, 0, 0, 1]]


def test_a_schedule_that_ended_early_fails_the_run() -> None:
    """A warm-up longer than even Locust's backstop allows leaves a shorter measured window
    than asked: that run must not pass (it is exit 1, saying why), while a full one does."""
    from simulator.load import runner

    plan = runner.prepare(runner.LoadOptions(rate="100", duration="10s"))
    assert plan.warm_up_devices > 0
    assert runner._locust_seconds(plan) > plan.seconds + plan.warm_up_devices / 2000 * 10
    full = {"rate": {"window_s": 10.0}, "warm_up": {"seconds": 2.0, "requests": 4000}}
    assert runner._cut_short(plan, full) is None
    short = {"rate": {"window_s": 4.2}, "warm_up": {"seconds": 80.0, "requests": 4000}}
    message = runner._cut_short(plan, short)
    assert message is not None and "ran 4.2 s of 10 s" in message and "warm-up 80 s" in message


def test_the_backstop_allows_for_the_slowest_sdks_retries_on_c2s() -> None:
    """HTML5 devices re-send a first_open that got no answer twice, 2 s apart: the warm-up
    may take three timeouts and two waits per round where an S2S relay without retries
    takes one timeout."""
    from simulator.load import runner

    relay = runner.prepare(runner.LoadOptions(rate="100", duration="10s"))
    devices = runner.prepare(runner.LoadOptions(rate="100", duration="10s", channel="c2s"))
    assert relay.longest_request_s == 10.0  # one network timeout
    assert devices.longest_request_s == 3 * 10.0 + 2 * 2.0
    assert runner._locust_seconds(devices) > runner._locust_seconds(relay)


def test_new_installs_hold_their_rate_to_the_end_of_a_long_run() -> None:
    """Ten simulated days (a 10-minute run at a day a minute) with the period the plugin
    gives such a run: the first_opens of the last three days come at the rate of the first
    days, not in a surge of devices whose period ran out (which churn did not retire)."""
    from simulator.behaviour import MS_PER_DAY
    from simulator.load.world import period_days

    profiles = load_profiles()
    app = profiles.app(None)
    platforms = tuple(profiles.app_platforms(app))
    mix = profiles.mix(platforms)
    world = World(profiles, app, app.dev_key, WorldSettings(
        3, 0, 1440.0, platforms, days=period_days(600, 1440.0)))
    pool = DevicePool(lambda platform, installed, at: world.life(platform, 0.0, installed, at),
                      [p.platform for p in mix.values], list(mix.weights), 1500,
                      random.Random(3), world.period.start_ms, world.period.end_ms,
                      MS_PER_DAY, {p: world.base_share(p) for p in platforms})
    while (taken := pool.take(before_ms=pool.start_ms)) is not None:
        taken[0].life.installed = True
        pool.give_back(taken[0])
    per_day = [0] * 10
    while (day := (pool.now_ms - pool.start_ms) // MS_PER_DAY) < 10:
        taken = pool.take()
        assert taken is not None
        member, event = taken
        if event.operation == contract.FIRST_OPEN:
            per_day[day] += 1
            member.life.installed = True
        pool.give_back(member)
    early, late = sum(per_day[1:7]) / 6, sum(per_day[7:]) / 3
    assert 0.7 < late / early < 1.4, per_day
