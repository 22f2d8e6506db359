"""The behaviour model against its profile: rhythm, counts, lengths, events, order, clock.

The realism checks run the real bundled profiles and apps over more than 100,000 sessions,
across the US change to daylight saving time (2026-03-08), in each device's local time.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

import pytest

from simulator import contract
from simulator.behaviour import (
    MS_PER_DAY,
    MS_PER_HOUR,
    Event,
    Period,
    SimClock,
    Simulation,
    merge_by_time,
    parse_start,
)
from simulator.devices import DeviceFactory
from simulator.profiles import ProfileSet, load_profiles

START = parse_start("2026-03-02T00:00:00Z")  # a Monday; US DST starts on Sunday 2026-03-08
DAYS = 14
APP = "com.example.ctvstream"


@pytest.fixture(scope="module")
def profile_set() -> ProfileSet:
    return load_profiles()


def _pearson(xs: list[float], ys: list[float]) -> float:
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    return cov / math.sqrt(sum((x - mx) ** 2 for x in xs) * sum((y - my) ** 2 for y in ys))


@dataclass
class Observed:
    """What a large roku run did, gathered in one pass over the timelines."""

    launches: int = 0
    hours: Counter[int] = field(default_factory=Counter)
    day_launches: Counter[tuple[int, dt.date]] = field(default_factory=Counter)
    lengths: list[int] = field(default_factory=list)
    events: Counter[str] = field(default_factory=Counter)
    revenue_out_of_range: int = 0
    twice: int = 0
    with_two_launches: int = 0
    order_problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def roku(profile_set: ProfileSet) -> tuple[Observed, Simulation]:
    app = profile_set.apps[APP]
    roku_only = ProfileSet({"roku": profile_set.profiles["roku"]}, profile_set.curves,
                           profile_set.apps)
    sim = Simulation(roku_only, app, Period.of_days(START, DAYS), seed=11)
    seen = Observed()
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    specs = {spec.name: spec for spec in app.events}
    for index, device in enumerate(DeviceFactory(roku_only, seed=11).devices(17_000)):
        zone = zones.setdefault(device.timezone, zoneinfo.ZoneInfo(device.timezone))
        events = list(sim.timeline(device, index))
        _check_order(index, events, seen.order_problems)
        launches = [e for e in events if e.operation != contract.INAPP]
        if len(launches) >= 2:
            seen.with_two_launches += 1
            seen.twice += launches[1].operation == contract.FIRST_OPEN
        for event in launches:
            local = dt.datetime.fromtimestamp(event.time_ms / 1000, zone)
            seen.launches += 1
            seen.hours[local.hour] += 1
            seen.day_launches[(index, local.date())] += 1
            seen.lengths.append(event.length_ms)
        for event in events:
            if event.operation == contract.INAPP:
                seen.events[event.spec.name] += 1
                revenue = specs[event.spec.name].revenue
                if revenue is not None and not revenue[0] <= event.revenue <= revenue[1]:
                    seen.revenue_out_of_range += 1
    return seen, sim


def _check_order(index: int, events: list[Event], problems: list[str]) -> None:
    if not events or events[0].operation != contract.FIRST_OPEN:
        problems.append(f"device {index}: first event is not first_open")
    busy_until = None
    for before, after in itertools.pairwise(events):
        if after.time_ms <= before.time_ms:
            problems.append(f"device {index}: events out of order at {after.time_ms}")
    for event in events:
        if event.operation == contract.INAPP:
            continue
        if busy_until is not None and event.time_ms < busy_until:
            problems.append(f"device {index}: session at {event.time_ms} overlaps")
        busy_until = event.time_ms + event.length_ms


def test_enough_sessions_for_the_statistics(roku: tuple[Observed, Simulation]) -> None:
    assert roku[0].launches >= 100_000


def test_every_device_opens_first_and_never_overlaps(roku: tuple[Observed, Simulation]) -> None:
    assert roku[0].order_problems == []


def test_hour_of_day_follows_the_curve(roku: tuple[Observed, Simulation],
                                       profile_set: ProfileSet) -> None:
    seen, _ = roku
    curve = profile_set.curves[profile_set.profiles["roku"].behaviour.diurnal_curve]
    histogram = [seen.hours[hour] for hour in range(24)]
    assert _pearson(histogram, list(curve)) >= 0.95
    assert max(range(24), key=histogram.__getitem__) in (19, 20, 21, 22)
    assert min(range(24), key=histogram.__getitem__) in (2, 3, 4, 5)


def test_sessions_per_active_day_and_median_length(roku: tuple[Observed, Simulation],
                                                   profile_set: ProfileSet) -> None:
    seen, sim = roku
    behaviour = profile_set.profiles["roku"].behaviour
    # Whole local days only: the first and last local dates are cut by the period's edges.
    edge_dates = {
        dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date() + dt.timedelta(days=shift)
        for ms in (sim.period.start_ms, sim.period.end_ms - 1) for shift in (-1, 0)
    }
    counts = [n for (_, date), n in seen.day_launches.items() if date not in edge_dates]
    assert statistics.fmean(counts) == pytest.approx(behaviour.sessions_per_active_day,
                                                     rel=0.05)
    median_minutes = statistics.median(seen.lengths) / 60_000
    assert median_minutes == pytest.approx(behaviour.session_minutes_median, rel=0.05)


def test_inapp_rates_follow_the_catalogue(roku: tuple[Observed, Simulation],
                                          profile_set: ProfileSet) -> None:
    seen, _ = roku
    for spec in profile_set.apps[APP].events:
        expected = spec.per_session * seen.launches
        # Poisson counts: within four standard deviations (and 5 % for the common ones).
        tolerance = max(4 * math.sqrt(expected), 0.05 * expected)
        assert abs(seen.events[spec.name] - expected) <= tolerance, spec.name
    assert seen.revenue_out_of_range == 0


def test_second_first_open_share(roku: tuple[Observed, Simulation],
                                 profile_set: ProfileSet) -> None:
    seen, _ = roku
    share = seen.twice / seen.with_two_launches
    expected = profile_set.profiles["roku"].behaviour.second_first_open_share
    assert share == pytest.approx(expected, abs=0.03)


def test_weekends_are_busier(profile_set: ProfileSet) -> None:
    """With churn switched off and every device installed at the start, the launches per day
    on Saturdays and Sundays over weekdays is the profile's weekend factor."""
    profile = profile_set.profiles["tizen"]
    lasting = replace(profile, behaviour=replace(profile.behaviour,
                                                 retention_half_life_days=1e9))
    profiles = ProfileSet({"tizen": lasting}, profile_set.curves, profile_set.apps)
    period = Period.of_days(START, DAYS)
    sim = Simulation(profiles, profile_set.apps[APP], period, seed=5,
                     install_window=Period(START, START + MS_PER_HOUR))
    per_day: Counter[dt.date] = Counter()
    for index, device in enumerate(DeviceFactory(profiles, seed=5).devices(4000)):
        zone = zoneinfo.ZoneInfo(device.timezone)
        for event in sim.timeline(device, index):
            if event.operation == contract.SESSION:  # launch 1 is the install day's
                per_day[dt.datetime.fromtimestamp(event.time_ms / 1000, zone).date()] += 1
    full = [date for date in per_day if dt.date(2026, 3, 2) < date < dt.date(2026, 3, 15)]
    weekend = statistics.fmean(per_day[d] for d in full if d.weekday() >= 5)
    weekday = statistics.fmean(per_day[d] for d in full if d.weekday() < 5)
    assert weekend / weekday == pytest.approx(lasting.behaviour.weekend_factor, rel=0.05)


def test_app_versions_roll_out_after_their_release_day(profile_set: ProfileSet) -> None:
    app = profile_set.apps[APP]
    late = max(app.versions, key=lambda version: version.release_day)
    sim = Simulation(profile_set, app, Period.of_days(START, DAYS), seed=2)
    release_ms = START + late.release_day * MS_PER_DAY
    versions_after: Counter[str] = Counter()
    for index, device in enumerate(DeviceFactory(profile_set, seed=2).devices(3000)):
        previous = None
        for event in sim.timeline(device, index):
            assert event.app_version in {version.version for version in app.versions}
            if event.app_version == late.version:
                assert event.time_ms >= release_ms
            else:
                assert previous != late.version, "a device never downgrades"
            previous = event.app_version
            if event.time_ms >= START + (DAYS - 1) * MS_PER_DAY:
                versions_after[event.app_version] += 1
    assert versions_after[late.version] > 0


def test_timelines_are_deterministic_per_seed_and_worker(profile_set: ProfileSet) -> None:
    app = profile_set.apps[APP]
    device = next(DeviceFactory(profile_set, seed=1).devices(1))

    def timeline(seed: int, worker: int) -> list[Event]:
        period = Period.of_days(START, 7)
        return list(Simulation(profile_set, app, period, seed, worker).timeline(device, 0))

    assert timeline(1, 0) == timeline(1, 0)
    assert timeline(1, 0) != timeline(2, 0)
    assert timeline(1, 0) != timeline(1, 1)


def test_merge_by_time_orders_everything_and_loses_nothing(profile_set: ProfileSet) -> None:
    app = profile_set.apps[APP]
    sim = Simulation(profile_set, app, Period.of_days(START, 3), seed=4)
    devices = list(DeviceFactory(profile_set, seed=4).devices(300))
    expected = Counter()
    for index, device in enumerate(devices):
        expected[index] = sum(1 for _ in sim.timeline(device, index))
    merged = list(merge_by_time((sim.not_before(d, i), sim.timeline(d, i), i)
                                for i, d in enumerate(devices)))
    assert [time for time, _, _ in merged] == sorted(time for time, _, _ in merged)
    assert Counter(index for _, _, index in merged) == expected
    assert all(time == event.time_ms for time, event, _ in merged)
    per_device = defaultdict(list)
    for _, event, index in merged:
        per_device[index].append(event)
    assert per_device[0] == list(sim.timeline(devices[0], 0))


def test_not_before_bounds_every_first_event(profile_set: ProfileSet) -> None:
    app = profile_set.apps[APP]
    period = Period.of_days(START, 5)
    sim = Simulation(profile_set, app, period, seed=6)
    for index, device in enumerate(DeviceFactory(profile_set, seed=6).devices(2000)):
        first = next(sim.timeline(device, index))
        assert period.start_ms <= sim.not_before(device, index) <= first.time_ms
        assert first.time_ms - sim.not_before(device, index) < MS_PER_DAY + MS_PER_HOUR
    with pytest.raises(ValueError, match="install window"):
        Simulation(profile_set, app, period, 6, install_window=Period(START - 1, START + 5))


def test_sim_clock_maps_both_ways() -> None:
    period = Period.of_days(START, 2)
    clock = SimClock(period, speed=1440, wall_start=1000.0)
    assert clock.wall_time_of(START) == 1000.0
    assert clock.wall_time_of(START + MS_PER_DAY) == pytest.approx(1060.0)
    assert clock.wall_end == pytest.approx(1120.0)
    assert clock.sim_now(1030.0) == START + MS_PER_DAY // 2
    assert clock.sim_now(clock.wall_time_of(START + 123_456_789)) == pytest.approx(
        START + 123_456_789, abs=2)
    with pytest.raises(ValueError):
        SimClock(period, speed=0)


def test_parse_start_reads_iso_instants() -> None:
    assert parse_start("2026-03-02T00:00:00Z") == 1772409600000
    assert parse_start("2026-03-02T01:00:00+01:00") == 1772409600000
    assert parse_start("2026-03-02") == 1772409600000


def _sessions_per_local_day(sim: Simulation, profiles: ProfileSet, devices: int, seed: int,
                            ) -> dict[str, Counter[dt.date]]:
    """Per platform, the sessions that start on each device-local date."""
    per_day: dict[str, Counter[dt.date]] = defaultdict(Counter)
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    for index, device in enumerate(DeviceFactory(profiles, seed=seed).devices(devices)):
        zone = zones.setdefault(device.timezone, zoneinfo.ZoneInfo(device.timezone))
        counts = per_day[device.platform]
        for event in sim.timeline(device, index):
            if event.operation == contract.SESSION:
                counts[dt.datetime.fromtimestamp(event.time_ms / 1000, zone).date()] += 1
    return per_day


def test_a_launch_ramps_up_and_a_steady_population_stays_flat(profile_set: ProfileSet,
                                                               ) -> None:
    """A generated fortnight of a live app: with the installed base on (the default share,
    at which new installs balance churn), each weekday's sessions lie within 10 % of the
    weekdays' mean, and weekends are busier by each platform's weekend factor; with no
    installed base (a launch) the days ramp up instead."""
    app = profile_set.apps[APP]
    period = Period.of_days(START, DAYS)
    full = [dt.date(2026, 3, 2) + dt.timedelta(days=n) for n in range(1, DAYS - 1)]

    def weekday_spread(per_day: dict[str, Counter[dt.date]]) -> tuple[float, float]:
        total = sum(per_day.values(), Counter())
        weekdays = [total[d] for d in full if d.weekday() < 5]
        mean = statistics.fmean(weekdays)
        return min(weekdays) / mean, max(weekdays) / mean

    steady = _sessions_per_local_day(
        Simulation(profile_set, app, period, seed=8, installed_base="auto"),
        profile_set, 6000, 8)
    low, high = weekday_spread(steady)
    assert low >= 0.9 and high <= 1.1, (low, high)
    expected = observed = 0.0
    for platform, counts in steady.items():
        weekday = statistics.fmean(counts[d] for d in full if d.weekday() < 5)
        expected += weekday * profile_set.profiles[platform].behaviour.weekend_factor
        observed += statistics.fmean(counts[d] for d in full if d.weekday() >= 5)
    assert observed / expected == pytest.approx(1.0, abs=0.05)

    launch = _sessions_per_local_day(Simulation(profile_set, app, period, seed=8),
                                     profile_set, 6000, 8)
    low, high = weekday_spread(launch)
    assert high / low > 2, "a launch week ramps up from its first days"


def test_the_installed_base_introduces_itself_before_the_period(profile_set: ProfileSet,
                                                                ) -> None:
    """An installed-base device's first request is a first_open (launch 0) in the warm-up
    hour before the period, then sessions only; without the warm-up it starts with a session
    inside the period. A new install still starts with its first_open inside it."""
    app = profile_set.apps[APP]
    period = Period.of_days(START, 3)
    devices = list(DeviceFactory(profile_set, seed=3).devices(400))
    for warm_up in (True, False):
        sim = Simulation(profile_set, app, period, seed=3, installed_base=0.5, warm_up=warm_up)
        base = 0
        for index, device in enumerate(devices):
            events = list(sim.timeline(device, index))
            if not events:
                continue
            assert sim.not_before(device, index) <= events[0].time_ms
            if events[0].launch == 1:  # a new install
                assert events[0].operation == contract.FIRST_OPEN
                assert events[0].time_ms >= period.start_ms
                continue
            base += 1
            if warm_up:
                first, *rest = events
                assert first.operation == contract.FIRST_OPEN and first.launch == 0
                assert period.start_ms - MS_PER_HOUR <= first.time_ms < period.start_ms
            else:
                rest = events
            assert all(e.operation != contract.FIRST_OPEN for e in rest)
            assert all(e.time_ms >= period.start_ms for e in rest)
        assert 150 < base < 250
    forced = Simulation(profile_set, app, period, seed=3, installed_base=1.0)
    assert next(forced.timeline(devices[0], 0, installed=False)).launch == 1
    with pytest.raises(ValueError, match="installed base"):
        Simulation(profile_set, app, period, seed=3, installed_base=1.5)
