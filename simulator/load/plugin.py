"""Wires the device users into a Locust process: options, world, recorder, results, progress.

`install(events)` is what a locustfile calls; it is idempotent, so a locustfile may be loaded
next to another that installed it already. Per process it:
- registers the `--ctv-*` options (`options.py`);
- at `init`: checks options (bad ones stop the run with exit code 2 before any traffic), keeps
  only the user classes of the chosen platforms, weights them by the profiles' mix, attaches
  a `Recorder` (workers ship it to the master) and, off workers, starts the `monitor`;
- at `test_start` on processes that run users: builds the `World` (the worker index is known
  by then, so workers get disjoint device spaces), the retry policy and rate cap, and tunes
  the garbage collector;
- at the end, on the master or a local run: rewrites Locust's CSV with the final figures,
  writes the raw figures for `ctvsim load`
  (`--ctv-results`), or, under plain `locust`, prints the summary and applies
  `--ctv-threshold` to the exit code.
"""

from __future__ import annotations

import json
import math
import random
import resource
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gevent
from locust import events as locust_events
from locust.runners import (
    STATE_RUNNING,
    STATE_SPAWNING,
    LocalRunner,
    MasterRunner,
    WorkerRunner,
)

from simulator import collector, targets
from simulator.behaviour import MS_PER_DAY, parse_installed_base
from simulator.channels import channel_platforms, left_out_note, parse_channel
from simulator.errors import ExitCode, InputError, TargetError
from simulator.load import compat, options, pool, schedule, thresholds
from simulator.load.account import RateAccount
from simulator.load.locust_csv import final_csv
from simulator.load.monitor import start_monitor
from simulator.load.recorder import Recorder
from simulator.load.summary import Summary, format_table
from simulator.load.users import DeviceFleet, DeviceUser, Fleet
from simulator.load.world import INSTALL_WINDOW_DAYS, World, WorldSettings, period_days
from simulator.profiles import ProfileSet, load_profiles
from simulator.retries import Pacer, RetryPolicy

_installed: set[int] = set()
_RATE_KEY = "ctvsim_rate"
_FINISHED_KEY = "ctvsim_finished"  # a worker's schedule is over and answered


@dataclass
class Harness:
    """What the users of one process share (hung on `environment.ctvsim`)."""

    profile_set: ProfileSet
    settings: dict[str, Any]
    platforms: list[str]
    recorder: Recorder
    world: World | None = None
    pacer: Pacer | None = None
    users_timeline: list[tuple[float, int]] | None = None
    cpu_at_start: float | None = None  # this process's CPU seconds when the test started
    cpu_seconds: float | None = None  # ... spent during the test (local runs only)
    fleet: Fleet | None = None  # the open model's, on processes that run users
    rate_reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # master: per worker
    finished_workers: set[str] = field(default_factory=set)  # master: schedules answered
    quitting: bool = False  # master: every worker finished, the run is ending

    def measure_from_now(self) -> None:
        """The measured window starts now (after the open model's warm-up): its time and
        CPU figures leave out what came before."""
        self.recorder.mark_started()
        if self.cpu_at_start is not None:
            self.cpu_at_start = _cpu_now()

    def rate(self) -> dict[str, Any] | None:
        """The open model's account of the whole run (workers' latest reports merged), or
        None in the closed model."""
        if self.settings.get("rate_plan") is None:
            return None
        mine = [self.fleet.account.to_dict()] if self.fleet is not None else []
        return RateAccount.merged([*mine, *self.rate_reports.values()]).to_dict()


def install(events: Any = locust_events) -> None:
    if id(events) in _installed:
        return
    _installed.add(id(events))
    events.init_command_line_parser.add_listener(options.add_arguments)
    events.init.add_listener(_on_init)
    events.test_start.add_listener(_on_test_start)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quitting)


def _cpu_now() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _on_test_stop(environment: Any, **_: Any) -> None:
    """The generator's CPU cost of the test itself (startup and reports excluded)."""
    harness: Harness | None = getattr(environment, "ctvsim", None)
    if harness is not None and harness.cpu_at_start is not None:
        harness.cpu_seconds = _cpu_now() - harness.cpu_at_start


def _settings(parsed: Any, host: str | None) -> dict[str, Any]:
    """The options that shape the run, checked; an InputError names what is wrong.

    The target is Locust's host when one is given (`-H`), else `--ctv-target`: the safety
    rules (production opt-in, dev key, rate cap) apply to where requests really go.
    """
    try:
        speed = options.parse_speed(parsed.ctv_speed)
    except ValueError as error:
        raise InputError(f"--ctv-speed {error}") from None
    if parsed.ctv_retries < 0:
        raise InputError("--ctv-retries must be >= 0")
    try:
        installed_base = parse_installed_base(parsed.ctv_installed_base)
    except ValueError as error:
        raise InputError(f"--ctv-installed-base {error}") from None
    try:
        channel = parse_channel(parsed.ctv_channel)
    except ValueError as error:
        raise InputError(f"--ctv-channel {error}") from None
    spec = host or parsed.ctv_target
    target, max_rps = targets.check(spec, parsed.ctv_allow_production, parsed.ctv_max_rps)
    try:
        base_url, prefixes = target.shared_base(channel.channels)
    except TargetError as error:
        raise InputError(str(error)) from None
    plan = _rate_plan(parsed, speed, max_rps)
    return {
        "rate_plan": plan, "max_in_flight": parsed.ctv_max_in_flight,
        "schedule_seconds": parsed.ctv_schedule_seconds or math.inf,
        "run_seconds": parsed.ctv_schedule_seconds or getattr(parsed, "run_time", None),
        "installed_base": installed_base, "warm_up": not parsed.ctv_no_warm_up,
        "target": spec, "base_url": base_url, "app": parsed.ctv_app,
        "channel": channel, "sdk_quirks": parsed.ctv_sdk_quirks == "on",
        "path_prefixes": tuple(prefixes.items()), "loopback": target.local,
        "seed": parsed.ctv_seed, "speed": speed,
        "platforms": options.parse_platforms(parsed.ctv_platforms),
        "retries": parsed.ctv_retries, "max_rps": max_rps,
        "thresholds": thresholds.parse_all(parsed.ctv_threshold),
    }


def _rate_plan(parsed: Any, speed: float | None, max_rps: float) -> schedule.RatePlan | None:
    """The open model's plan from --ctv-ramp or --ctv-rate; None: the closed model."""
    if parsed.ctv_ramp:
        plan = schedule.parse_ramp(parsed.ctv_ramp)
    elif parsed.ctv_rate:
        plan = schedule.RatePlan.constant(schedule.check_rate(str(parsed.ctv_rate)))
    else:
        return None
    if speed is None:
        raise InputError("--ctv-speed max belongs to the closed model: with a rate, the plan "
                         "sets the pace (give a simulated speed such as 1440, or no rate)")
    if parsed.ctv_max_in_flight < 1:
        raise InputError(f"--ctv-max-in-flight {parsed.ctv_max_in_flight}: must be >= 1")
    schedule.check_cap(plan, max_rps)
    return plan


def _allow_open_files(wanted: int) -> None:
    """Each request in flight holds a connection: raise the soft open-files limit toward the
    hard one so the in-flight cap, not the kernel, is what limits."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _on_init(environment: Any, **_: Any) -> None:
    parsed = environment.parsed_options
    if parsed is None:  # Locust used as a library without our options: nothing to do
        return
    for problem in compat.problems():  # before any traffic: a changed Locust fails at once
        sys.stderr.write(f"ctvsim: error: {problem}\n")
        sys.exit(ExitCode.FAILED)
    try:
        settings = _settings(parsed, environment.host)
        profile_set = load_profiles(Path(parsed.ctv_profiles) if parsed.ctv_profiles else None)
        app = profile_set.app(settings["app"])
        platforms, left_out = channel_platforms(profile_set, app, settings["platforms"],
                                                settings["channel"])
        targets.dev_key(settings["target"], app)  # no key for a remote target: stop here
    except InputError as error:
        for line in str(error).splitlines():
            sys.stderr.write(f"ctvsim: error: {line}\n")
        sys.exit(2)
    open_model = settings["rate_plan"] is not None
    _choose_user_classes(environment, profile_set, platforms, open_model)
    if open_model:
        _allow_open_files(settings["max_in_flight"] + 1024)
    # The base URL both channels' paths are under (the channel's own base when one).
    environment.host = settings["base_url"]
    if left_out and not isinstance(environment.runner, WorkerRunner):
        sys.stderr.write(left_out_note(left_out) + "\n")
    recorder = Recorder()
    recorder.attach(environment)
    harness = environment.ctvsim = Harness(profile_set, settings, platforms, recorder)
    environment.events.report_to_master.add_listener(
        lambda client_id, data: _report_rate(harness, data))
    environment.events.worker_report.add_listener(
        lambda client_id, data: _on_worker_report(environment, harness, client_id, data))
    if not isinstance(environment.runner, WorkerRunner):
        environment.ctvsim.users_timeline = []
        start_monitor(environment, environment.ctvsim.users_timeline, parsed.ctv_progress_fd)


def _report_rate(harness: Harness, data: dict[str, Any]) -> None:
    """A worker's whole rate account, and whether its schedule is over and answered."""
    if harness.fleet is not None:
        data[_RATE_KEY] = harness.fleet.account.to_dict()
        data[_FINISHED_KEY] = harness.fleet.finished


def _on_worker_report(environment: Any, harness: Harness, client_id: str,
                      data: dict[str, Any]) -> None:
    """The master keeps each worker's latest account; once every worker's schedule is over
    and answered, it ends the run (so a distributed --duration is the schedules' length too,
    however long the workers took to start and warm up)."""
    if _RATE_KEY in data:
        harness.rate_reports[client_id] = data[_RATE_KEY]
    if data.get(_FINISHED_KEY):
        harness.finished_workers.add(client_id)
    runner = environment.runner
    if (isinstance(runner, MasterRunner) and not harness.quitting and harness.finished_workers
            and len(harness.finished_workers) >= runner.worker_count):
        harness.quitting = True
        gevent.spawn(runner.quit)


def _choose_user_classes(environment: Any, profile_set: ProfileSet, platforms: list[str],
                         open_model: bool) -> None:
    """The open model runs the fleet only; the closed one the device classes of the chosen
    platforms, weighted by the mix (any other user class of the locustfile is kept)."""
    mix = profile_set.mix(platforms)
    shares = {profile.platform: weight for profile, weight in zip(mix.values, mix.weights,
                                                                  strict=True)}
    chosen = [c for c in environment.user_classes
              if (issubclass(c, DeviceFleet) and open_model)
              or (issubclass(c, DeviceUser) and not open_model and c.platform in shares)
              or not issubclass(c, (DeviceUser, DeviceFleet))]
    for user_class in chosen:
        if issubclass(user_class, DeviceUser):
            user_class.weight = max(1, round(shares[user_class.platform] * 1000))
    environment.user_classes[:] = chosen


def _on_test_start(environment: Any, **_: Any) -> None:
    harness: Harness | None = getattr(environment, "ctvsim", None)
    if harness is None or isinstance(environment.runner, MasterRunner):
        return
    if isinstance(environment.runner, WorkerRunner):
        # A worker runs with the master's options, which reach it only when the test starts;
        # the target is the master's -H as given (its `host` is the base both channels
        # share, which names no channel).
        parsed = environment.parsed_options
        harness.settings = _settings(parsed, getattr(parsed, "host", None) or environment.host)
    _build(environment, harness)
    _tune_gc()
    if isinstance(environment.runner, LocalRunner):
        harness.cpu_at_start = _cpu_now()


def _build(environment: Any, harness: Harness) -> None:
    """The world, retry policy, rate cap and fleet of a process that runs users, at test
    start: a worker learns its index only then."""
    settings = harness.settings
    worker = max(0, getattr(environment.runner, "worker_index", 0))
    app = harness.profile_set.app(settings["app"])
    harness.platforms, _ = channel_platforms(harness.profile_set, app, settings["platforms"],
                                             settings["channel"])
    world_settings = WorldSettings(
        settings["seed"], worker, settings["speed"], tuple(harness.platforms),
        settings["installed_base"], settings["warm_up"],
        period_days(settings["run_seconds"], settings["speed"]), settings["channel"],
        settings["sdk_quirks"], settings["loopback"], settings["path_prefixes"])
    relay_retry = RetryPolicy(
        retries=settings["retries"],
        rng=random.Random(f"ctvsim-load-retries:{settings['seed']}:{worker}"),
    )
    harness.world = World(harness.profile_set, app, targets.dev_key(settings["target"], app),
                          world_settings, relay_retry)
    processes = max(1, getattr(environment.parsed_options, "processes", 1) or 1)
    max_rps = settings["max_rps"] / processes
    harness.pacer = Pacer(max_rps) if max_rps > 0 else None
    if settings["rate_plan"] is not None:
        harness.fleet = _fleet(environment, harness, app, worker, processes)


def _fleet(environment: Any, harness: Harness, app: Any, worker: int, processes: int) -> Fleet:
    """This process's share of the open model: of the plan, the in-flight cap and the pool."""
    settings = harness.settings
    plan = settings["rate_plan"].share(worker, processes)
    max_in_flight = max(1, settings["max_in_flight"] // processes)
    per_day = pool.events_per_day(harness.profile_set, app, harness.platforms)
    devices = pool.pool_size(plan.peak, settings["speed"], per_day, max_in_flight)
    mix = harness.profile_set.mix(harness.platforms)
    for user_class in environment.user_classes:
        if issubclass(user_class, DeviceFleet):  # one connection per request in flight
            user_class.concurrency = max_in_flight
    world = harness.world
    assert world is not None  # built just before
    devices_pool = pool.DevicePool(
        lambda platform, installed, at: world.life(platform, 0.0, installed, at),
        [profile.platform for profile in mix.values], list(mix.weights), devices,
        random.Random(f"ctvsim-load-pool:{settings['seed']}:{worker}"),
        world.period.start_ms, world.period.end_ms, INSTALL_WINDOW_DAYS * MS_PER_DAY,
        {platform: world.base_share(platform) for platform in harness.platforms})
    return Fleet(plan, worker / processes, max_in_flight, devices_pool,
                 settings["schedule_seconds"])


def _tune_gc() -> None:
    """Fewer, cheaper garbage collections while users run.

    Each request allocates a few short-lived objects (body, headers, ids); with the default
    gen0 threshold of 700 the collector runs every few requests and its full passes walk
    Locust's, gevent's and our long-lived objects again and again (measured: about a tenth of
    the generator's CPU). Freezing what exists at test start and collecting young objects
    less often keeps memory bounded while halving that cost (bench/harness.py).
    """
    collector.tune_for_long_runs()


def results(environment: Any) -> dict[str, Any]:
    """The raw figures of the whole run (all workers merged), as `ctvsim load` reads them."""
    harness: Harness = environment.ctvsim
    recorder = harness.recorder
    stopped = recorder.stopped or time.time()
    return {
        "started": recorder.started,
        "seconds": max(0.0, stopped - (recorder.started or stopped)),
        "entries": recorder.report(),
        "users_timeline": harness.users_timeline or [],
        "generator_cpu_s": harness.cpu_seconds,
        "platforms": harness.platforms,
        "rate": harness.rate(),
    }


def _on_quitting(environment: Any, **_: Any) -> None:
    harness: Harness | None = getattr(environment, "ctvsim", None)
    if harness is None or isinstance(environment.runner, WorkerRunner):
        return
    if environment.runner.state in (STATE_SPAWNING, STATE_RUNNING):
        # Interrupted (Ctrl-C): Locust fires `quitting` before it stops the users, so stop
        # them now, as the end of --run-time does: requests under way finish (or count as
        # in flight at the stop) before the figures are taken.
        environment.runner.stop()
    final_csv(environment)
    data = results(environment)
    path = environment.parsed_options.ctv_results
    if path:
        Path(path).write_text(json.dumps(data), encoding="utf-8")
        return
    recorder = Recorder()
    recorder.merge_report(data["entries"])
    rate = RateAccount.from_dict(data["rate"]) if data["rate"] is not None else None
    summary = Summary(recorder, data["seconds"], rate=rate)
    summary.verdicts = thresholds.evaluate_all(harness.settings["thresholds"], summary.select)
    sys.stdout.write(format_table(summary.to_dict()) + "\n")
    if not all(v.passed for v in summary.verdicts):
        environment.process_exit_code = ExitCode.THRESHOLD
