"""`ctvsim load`: check everything, start the mock if needed, run Locust, judge, report.

Locust runs as a child process (`python -m locust -f <bundled locustfile>`), not as a library
in this process: gevent's monkey-patching stays out of the CLI (which also drives the mock
subprocess, a thread and httpx), Locust's own `--processes` master/worker mode works as is,
and the child costs one more interpreter start per run (tens of milliseconds; importing
Locust, about 1.3 s on a busy 2-core VM, is paid either way; `ctvsim load --duration 1s`
takes about 4 s end to end, mock start-up included). The child writes its
raw figures (`--ctv-results`); this process builds the summary, applies thresholds,
reconciles with the mock, writes the reports and chooses the exit code. It takes a
``LoadOptions``, never the command line's own objects: `cli/load.py` maps flags to it.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from simulator import children, targets
from simulator.behaviour import AUTO, parse_installed_base
from simulator.bundled import bundled_directory
from simulator.channels import channel_platforms, left_out_note, parse_channel
from simulator.contract import STATUS_UNAUTHORIZED
from simulator.errors import ExitCode, InputError
from simulator.load import options, pool, reports, schedule, thresholds
from simulator.load.account import RateAccount
from simulator.load.reconcile import difference, reconcile
from simulator.load.recorder import Recorder
from simulator.load.schedule import RatePlan
from simulator.load.shapes import SHAPES, platform_curve
from simulator.load.summary import Summary, format_table
from simulator.mock.stats import Counts, Stats
from simulator.progress import PipedProgress
from simulator.retries import RetryPolicy
from simulator.targets import DEV_KEY_ENV, KEY_SOURCE_ENV

STOP_TIMEOUT_S = 10  # let in-flight requests finish, so every request sent is counted
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?$")
MAX_DURATION_S = 30 * 86_400  # Locust takes whole seconds; 30 days is past any soak test
LOCUSTFILES = bundled_directory("locustfiles")
LOCUSTFILE = LOCUSTFILES / "ctv.py"  # the users, as plain `locust -f` runs them too
SHAPEFILE = LOCUSTFILES / "shapes.py"
MAX_IN_FLIGHT = 1_000_000
OPEN_MODEL_ALLOWANCE_S = 10  # Locust's start-up (workers' too), beyond the schedule's length


def parse_duration(text: str) -> float:
    """`30s`, `5m`, `1h30m`, `90` (seconds) -> whole seconds from 1 to 30 days; anything
    else is a usage error."""
    allowed = "a whole number of seconds from 1s to 720h, e.g. 30s, 5m, 1h30m or 90"
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or not match or not any(match.groups()):
        raise InputError(f"--duration {text!r}: use {allowed}")
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total != int(total) or not 1 <= total <= MAX_DURATION_S:
        raise InputError(f"--duration {text!r}: must be {allowed}")
    return total


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """What a load run is asked to do, as the command line (or a caller) says it; ``prepare``
    checks every field. Text fields keep the user's spelling, so errors can quote it."""

    target: str | None = None  # None: start the embedded mock
    app: str | None = None
    users: int | None = None  # given: the closed model (options.DEFAULT_USERS with --speed max)
    spawn_rate: float | None = None  # None: all users at once
    duration: str | None = None  # None: the ramp's length, else options.DEFAULT_DURATION
    rate: str | None = None  # the open model (the default, at options.DEFAULT_RATE)
    ramp: str | None = None
    max_in_flight: int | None = None  # None: options.DEFAULT_MAX_IN_FLIGHT
    platforms: str | None = None  # comma-separated; None: the app's mix
    shape: str | None = None  # None: constant users
    speed: str = "1440"
    processes: int = 1
    web: bool = False
    web_port: int = 8089
    report_dir: str | None = None
    thresholds: tuple[str, ...] = ()
    seed: int = 1
    retries: int = 0
    allow_production: bool = False
    max_rps: float = 0.0
    profiles: str | None = None
    mock_faults: tuple[str, ...] = ()
    reconcile: bool = True
    installed_base: str = "auto"
    warm_up: bool = True
    channel: str = "s2s"  # s2s, c2s, mixed or mixed:SHARE (channels.py)
    sdk_quirks: bool = True


@dataclass
class Plan:
    """Everything `ctvsim load` will do, checked before any process starts."""

    args: LoadOptions
    seconds: float
    thresholds: list[thresholds.Threshold]
    app_id: str
    platforms: list[str]
    max_rps: float
    target: targets.Target | None  # None: the embedded mock
    report_dir: Path | None
    rate_plan: RatePlan | None  # None: the closed model
    users: int  # the closed model's users (the open model's: one per process)
    max_in_flight: int
    warm_up_devices: int = 0  # the open model's installed base, per process
    # The longest a device's request can take, every attempt timing out: the relay's policy,
    # or on C2S the slowest SDK's (`_locust_seconds`).
    longest_request_s: float = 0.0
    extra: list[str] = field(default_factory=list)

    @property
    def embedded(self) -> bool:
        return self.target is None


def _closed_model(args: LoadOptions, speed: float | None) -> bool:
    """--users or --speed max ask for the closed model; --rate, --ramp and --max-in-flight
    for the open one (the default); asking for both is a usage error."""
    closed = [flag for flag, given in (("--users", args.users is not None),
                                       ("--speed max", speed is None)) if given]
    open_ = [flag for flag, given in (("--rate", args.rate is not None),
                                      ("--ramp", args.ramp is not None),
                                      ("--max-in-flight", args.max_in_flight is not None))
             if given]
    if closed and open_:
        raise InputError(f"{' and '.join(open_)} (the open model: a rate) cannot go with "
                         f"{' and '.join(closed)} (the closed model: a number of users); "
                         "drop one side")
    if args.rate is not None and args.ramp is not None:
        raise InputError("--ramp gives the rates itself: drop --rate")
    if args.ramp is not None and args.shape is not None:
        raise InputError("--ramp is a shape of its own: drop --shape")
    return bool(closed)


def _rate_plan(args: LoadOptions, profile_set: Any, platforms: list[str],
               ) -> tuple[RatePlan, float]:
    """The open model's plan and the run's length in seconds."""
    if args.ramp is not None:
        plan = schedule.parse_ramp(args.ramp)
        if args.duration is not None:
            return plan, parse_duration(args.duration)
        if plan.length_s < 1:
            raise InputError(f"--ramp {args.ramp!r} lasts {plan.length_s:g} s: give a point at "
                             "1s or later, or a --duration")
        return plan, float(math.ceil(plan.length_s))
    seconds = parse_duration(args.duration or options.DEFAULT_DURATION)
    rate = schedule.check_rate(args.rate) if args.rate is not None \
        else options.DEFAULT_RATE
    if args.shape is None:
        return schedule.RatePlan.constant(rate), seconds
    curve = platform_curve(profile_set, platforms)
    return schedule.shape_plan(args.shape, curve, rate, seconds), seconds


def prepare(args: LoadOptions) -> Plan:
    """Checks every argument; an InputError (exit 2) here means nothing was sent."""
    from simulator.profiles import load_profiles

    parsed_thresholds = thresholds.parse_all(args.thresholds)
    if args.shape is not None and args.shape not in SHAPES:
        raise InputError(f"--shape {args.shape!r}; allowed: {', '.join(SHAPES)}")
    try:
        speed = options.parse_speed(args.speed)
    except ValueError as error:
        raise InputError(f"--speed {error}") from None
    closed = _closed_model(args, speed)
    try:
        installed_base = parse_installed_base(args.installed_base)
    except ValueError as error:
        raise InputError(f"--installed-base {error}") from None
    max_in_flight = options.DEFAULT_MAX_IN_FLIGHT if args.max_in_flight is None \
        else args.max_in_flight
    if not 1 <= max_in_flight <= MAX_IN_FLIGHT:
        raise InputError(f"--max-in-flight {max_in_flight}: a whole number from 1 to "
                         f"{MAX_IN_FLIGHT:,}")
    if args.mock_faults:
        if args.target is not None:
            raise InputError("--mock-fault configures the embedded mock: drop --target")
        from simulator.mock.faults import FaultPlan

        FaultPlan.from_spec({"rules": list(args.mock_faults)})  # a bad rule says what is allowed
    max_rps, target = args.max_rps, None
    if args.target is not None:
        target, max_rps = targets.check(args.target, args.allow_production, args.max_rps)
    elif not args.warm_up:
        raise InputError("--no-warm-up: the embedded mock starts empty and knows no device; "
                         "it is for a --target that has seen this seed's devices already")
    profile_set = load_profiles(Path(args.profiles) if args.profiles else None)
    app = profile_set.app(args.app)
    if target is not None:
        targets.signing_key(app, target)  # a key that can sign for the target, or stop here
    try:
        channel = parse_channel(args.channel)
    except ValueError as error:
        raise InputError(f"--channel {error}") from None
    if target is not None:
        target.shared_base(channel.channels)  # a URL of one channel cannot serve both
    platforms, left_out = channel_platforms(
        profile_set, app, options.parse_platforms(args.platforms or ""), channel)
    if left_out:
        print(left_out_note(left_out), file=sys.stderr)
    plan: RatePlan | None = None
    warm_up_devices = 0
    if closed:
        seconds = parse_duration(args.duration or options.DEFAULT_DURATION)
        for threshold in parsed_thresholds:
            if threshold.open_model:
                raise InputError(f"--threshold {threshold.text!r}: judges the open model's "
                                 "rate; this run is closed (--users or --speed max)")
    else:
        plan, seconds = _rate_plan(args, profile_set, platforms)
        if args.processes > max_in_flight:
            raise InputError(f"--max-in-flight {max_in_flight} is below --processes "
                             f"{args.processes}: each process needs at least one")
        schedule.check_cap(plan, max_rps)
        if args.warm_up:  # at most: auto's share is below 1
            share = 1.0 if installed_base == AUTO else float(installed_base)
            warm_up_devices = round(share * pool.pool_size(
                plan.peak / args.processes, speed or 0.0,
                pool.events_per_day(profile_set, app, platforms),
                max(1, max_in_flight // args.processes)))
    report_dir = Path(args.report_dir) if args.report_dir else None
    if report_dir is not None:
        _check_report_dir(report_dir)
    if args.web:
        _check_web_port(args.web_port)
    users = args.processes if plan is not None else (args.users or options.DEFAULT_USERS)
    relay = _longest_request_s(args.retries, RetryPolicy().max_backoff_s)
    sdks = [sdk.retry for sdk in (profile_set.profiles[name].sdk for name in platforms)
            if sdk is not None and channel.c2s_share > 0]
    longest = max([relay, *(_longest_request_s(r.retries, r.delay_s) for r in sdks)])
    return Plan(args, seconds, parsed_thresholds, app.app_id, platforms, max_rps, target,
                report_dir, plan, users, max_in_flight, warm_up_devices, longest)


def _longest_request_s(retries: int, wait_s: float) -> float:
    return (retries + 1) * options.NETWORK_TIMEOUT_S + retries * wait_s


def _check_report_dir(directory: Path) -> None:
    """The report directory exists (made now) and takes files, or the run never starts."""
    if directory.exists() and not directory.is_dir():
        raise InputError(f"--report-dir {directory}: exists and is not a directory")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        raise InputError(f"--report-dir {directory}: cannot write there: "
                         f"{error.strerror or type(error).__name__}") from None


def _check_web_port(port: int) -> None:
    """The web UI's port is free on 127.0.0.1 now, or the run never starts (Locust itself
    would fail to serve it and end the run empty)."""
    if port == 0:
        raise InputError("--web-port 0: the web UI needs a port you can open; give one")
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", port))
    except OSError as error:
        raise InputError(f"--web-port {port}: 127.0.0.1:{port} cannot be used "
                         f"({error.strerror}); pick a free port") from None
    finally:
        probe.close()


def _locust_seconds(plan: Plan) -> float:
    """Locust's run time. The open model's fleet times its own schedule (from its first
    request, after Locust's start-up and the warm-up) and ends the run when it is answered;
    Locust's clock is the backstop, later by the start-up allowance, the stop timeout and
    the longest warm-up: every round of --max-in-flight first_opens timing out on every
    attempt, with the longest waits between them. (A run the backstop cuts short still
    fails: `_cut_short`.)"""
    if not _fleet_times_itself(plan):
        return plan.seconds
    rounds = math.ceil(plan.warm_up_devices / max(1, plan.max_in_flight // plan.args.processes))
    return (plan.seconds + OPEN_MODEL_ALLOWANCE_S + STOP_TIMEOUT_S
            + rounds * plan.longest_request_s)


def _fleet_times_itself(plan: Plan) -> bool:
    """An open-model run without the web UI (whose test is Locust's to time): a local
    fleet ends the run when its schedule is answered, a distributed run's master when every
    worker's is."""
    return plan.rate_plan is not None and not plan.args.web


def locust_command(plan: Plan, url: str, results: Path, logs: Path, progress_fd: int,
                   ) -> list[str]:
    args = plan.args
    shaped = args.shape is not None and plan.rate_plan is None  # a rate plan holds its shape
    files = f"{LOCUSTFILE},{SHAPEFILE}" if shaped else str(LOCUSTFILE)
    spawn_rate = plan.users if plan.rate_plan is not None else (args.spawn_rate or plan.users)
    command = [
        sys.executable, "-m", "locust", "-f", files,
        "-u", str(plan.users), "-r", str(spawn_rate),
        "-t", f"{_locust_seconds(plan):g}s", "-H", url, "-s", str(STOP_TIMEOUT_S),
        "--only-summary", "--loglevel", "WARNING", "--exit-code-on-error", "0",
        "--html", str(logs / reports.HTML_FILE), "--csv", str(logs / reports.CSV_PREFIX),
        "--ctv-target", args.target or url, "--ctv-app", plan.app_id,
        "--ctv-platforms", ",".join(plan.platforms), "--ctv-seed", str(args.seed),
        "--ctv-speed", str(args.speed), "--ctv-retries", str(args.retries),
        "--ctv-max-rps", f"{plan.max_rps:g}", "--ctv-results", str(results),
        "--ctv-installed-base", args.installed_base,
        "--ctv-channel", args.channel, "--ctv-sdk-quirks", "on" if args.sdk_quirks else "off",
        "--ctv-progress-fd", str(progress_fd),
    ]
    if args.allow_production:
        command.append("--ctv-allow-production")
    if not args.warm_up:
        command.append("--ctv-no-warm-up")
    if args.profiles:
        command += ["--ctv-profiles", str(args.profiles)]
    if shaped:
        command += ["--ctv-shape", str(args.shape)]
    if plan.rate_plan is not None:
        command += ["--ctv-ramp", schedule.format_ramp(plan.rate_plan),
                    "--ctv-max-in-flight", str(plan.max_in_flight)]
        if _fleet_times_itself(plan):
            command += ["--ctv-schedule-seconds", f"{plan.seconds:g}"]
    if args.processes > 1:
        command += ["--processes", str(args.processes)]
    if args.web:
        command += ["--web-host", "127.0.0.1", "--web-port", str(args.web_port),
                    "--autostart", "--autoquit", "30"]
    else:
        command.append("--headless")
    return command


def _child_env(embedded: bool) -> dict[str, str]:
    env = dict(os.environ)
    if embedded:  # the embedded mock knows only the apps file's mock keys
        env.pop(DEV_KEY_ENV, None)
        env.pop(KEY_SOURCE_ENV, None)
    return env


def _run_locust(command: list[str], log_path: Path, progress: PipedProgress, env: dict[str, str],
                cpus: set[int] | None) -> tuple[int, bool]:
    """Runs Locust to its end; Ctrl+C is passed on so it still writes its results."""
    with open(log_path, "wb") as log:
        child, interrupted = children.spawn(
            command, cpus=cpus, on_parent_death=signal.SIGINT, stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            pass_fds=(progress.fd_for_child,), start_new_session=True)  # Ctrl+C: ours only
        progress.start()
        if interrupted:  # a Ctrl-C while Locust was being started
            child.send_signal(signal.SIGINT)
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:
                interrupted = True
                child.send_signal(signal.SIGINT)
    progress.stop()
    return code, interrupted


def _cpu_split(embedded: bool) -> tuple[set[int] | None, set[int] | None]:
    """(mock cores, Locust cores): the embedded mock gets a core of its own when there are 2+."""
    available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not embedded or len(available) < 2:
        return None, None
    return {available[-1]}, set(available[:-1])


def run(args: LoadOptions) -> int:
    plan = prepare(args)
    with tempfile.TemporaryDirectory(prefix="ctvsim-load-") as scratch:
        logs = Path(scratch)  # Locust's own files; published whole into --report-dir
        return _execute(plan, logs, logs / "results.json")


def _execute(plan: Plan, logs: Path, results_path: Path) -> int:
    mock_cpus, locust_cpus = _cpu_split(plan.embedded)
    stats: Counts | str | None
    if plan.embedded:
        from simulator.mock.server import MockServer

        rules = plan.args.mock_faults
        faults = {"rules": rules, "seed": plan.args.seed} if rules else None
        with MockServer(subprocess=True, cpus=mock_cpus, faults=faults) as mock:
            code, interrupted = _locust(plan, mock.url, logs, results_path, locust_cpus)
            stats = _mock_stats(mock)  # also when interrupted: the mock stops last
    else:
        code, interrupted, stats = _run_against_target(plan, logs, results_path, locust_cpus)
    if not results_path.exists() and interrupted:
        sys.stderr.write("ctvsim: interrupted before the load test had results; nothing "
                         "to report\n")
        return ExitCode.INTERRUPTED
    if not results_path.exists() or (code != 0 and not interrupted):
        # No figures, or Locust itself failed (a greenlet that died, a port it could not
        # serve): whatever figures it left are not a run that can pass.
        log = (logs / reports.LOG_FILE).read_text(errors="replace").splitlines()
        tail = [line for line in log if line.strip() and "|" not in line][-15:]  # no tables
        ended = "without results" if not results_path.exists() else "with an error"
        sys.stderr.write(f"ctvsim: error: the Locust run ended (exit code {code}) {ended}; "
                         + ("last lines of its log:\n" if tail else "its log is empty\n"))
        sys.stderr.write("".join(f"  {line}\n" for line in tail))
        if plan.report_dir is not None:
            reports.publish_locust_files(logs, plan.report_dir)
        return ExitCode.FAILED
    return _judge(plan, json.loads(results_path.read_text()), stats, interrupted, logs)


def _run_against_target(plan: Plan, logs: Path, results_path: Path, cpus: set[int] | None,
                        ) -> tuple[int, bool, Counts | str | None]:
    """Runs Locust against `--target`; when it is a ctvsim mock on loopback, also returns
    what the run added to the mock's counters, for reconciliation."""
    target = plan.target
    assert target is not None  # only called with --target
    admin = _local_mock_admin(target) if plan.args.reconcile else None
    if admin is None:
        return (*_locust(plan, target.base_url, logs, results_path, cpus), None)
    with admin:
        before = admin.stats()
        code, interrupted = _locust(plan, target.base_url, logs, results_path, cpus)
        after = _mock_stats(admin)
    return code, interrupted, after if isinstance(after, str) else difference(after, before)


def _local_mock_admin(target: Any) -> Any:
    """The admin client of a ctvsim mock behind a loopback target, or None if there is none."""
    import httpx

    from simulator.errors import MockAdminError
    from simulator.mock.admin import ADMIN_PREFIX
    from simulator.mock.admin_client import AdminClient

    if not target.local:
        return None
    parts = urlsplit(target.base_url)
    admin = AdminClient(f"{parts.scheme}://{parts.netloc}{ADMIN_PREFIX}", timeout=2.0)
    try:
        admin.health()
    except (httpx.HTTPError, MockAdminError, ValueError):
        admin.close()
        return None
    return admin


def _mock_stats(mock: Any) -> Stats | str:
    """The mock's counters; a mock that died or stopped answering fails reconciliation."""
    import httpx

    from simulator.errors import MockAdminError

    try:
        return mock.stats()
    except (httpx.HTTPError, MockAdminError) as error:
        return f"could not read the mock's journal: {error}"


def _locust(plan: Plan, url: str, logs: Path, results: Path, cpus: set[int] | None,
            ) -> tuple[int, bool]:
    progress = PipedProgress()
    command = locust_command(plan, url, results, logs, progress.fd_for_child)
    return _run_locust(command, logs / reports.LOG_FILE, progress, _child_env(plan.embedded), cpus)


def _explain_silence(plan: Plan) -> None:
    """A run that sent nothing is usually a short run at a realistic speed: a device's first
    launch falls somewhere in its first simulated day. Say so, rather than leave an empty
    table to puzzle over."""
    speed = options.parse_speed(plan.args.speed)
    if speed is None or plan.rate_plan is not None:
        return
    hours = plan.seconds * speed / 3600
    sys.stderr.write(
        f"ctvsim: note: no request was due: at --speed {plan.args.speed} this "
        f"{plan.seconds:g} s run played {hours:.2g} simulated hours, and each device first "
        "launches somewhere in its first simulated day (mostly in the evening); use "
        "--speed max, a higher --speed or a longer --duration\n")


def _cut_short(plan: Plan, data: dict[str, Any]) -> str | None:
    """Why an open-model run that times itself ended before its schedule did (Locust's
    backstop ended it during a warm-up slower than even the backstop allows), or None."""
    rate = data.get("rate")
    if rate is None or not _fleet_times_itself(plan) or rate["window_s"] >= plan.seconds - 1:
        return None
    warm_up = data.get("warm_up") or {}
    return (f"the schedule ran {rate['window_s']:g} s of {plan.seconds:g} s: the run ended "
            f"first (warm-up {warm_up.get('seconds') or 0:g} s for "
            f"{warm_up.get('requests', 0):,} first_opens); the figures cover a shorter window")


def _all_unauthenticated(totals: dict[str, Any]) -> bool:
    """Nothing but 401s: a run with the wrong key, which measured nothing it was meant to."""
    outcomes = totals["outcomes"]
    return bool(outcomes) and set(outcomes) == {str(STATUS_UNAUTHORIZED)}


def _judge(plan: Plan, raw: dict[str, Any], stats: Counts | str | None,
           interrupted: bool, logs: Path) -> int:
    recorder = Recorder()
    recorder.merge_report(raw["entries"])
    args = plan.args
    rate_plan = plan.rate_plan
    summary = Summary(recorder, raw["seconds"], run={
        "target": "embedded mock" if plan.embedded else args.target, "app": plan.app_id,
        "platforms": plan.platforms, "model": "closed" if rate_plan is None else "open",
        "users": plan.users, "shape": args.shape or ("ramp" if args.ramp else "constant"),
        "rate": None if rate_plan is None else (args.ramp or f"{rate_plan.peak:g}/s"),
        "speed": args.speed, "seed": args.seed, "retries": args.retries,
        "channel": args.channel, "sdk_quirks": args.sdk_quirks,
        "processes": args.processes, "duration_s": plan.seconds,
        "users_timeline": raw["users_timeline"], "generator_cpu_s": raw["generator_cpu_s"],
        "interrupted": interrupted,
    }, rate=RateAccount.from_dict(raw["rate"]) if raw.get("rate") else None)
    summary.verdicts = thresholds.evaluate_all(plan.thresholds, summary.select)
    if stats is not None and args.reconcile:
        summary.reconciliation = reconcile(recorder, stats, plan.app_id)
    data = summary.to_dict()
    sys.stdout.write(format_table(data) + "\n")
    sys.stdout.flush()  # shown before the reports are written: a full disk loses none of it
    if plan.report_dir is not None:
        reports.publish_locust_files(logs, plan.report_dir)
        reports.write_reports(plan.report_dir, data)
        sys.stdout.write(f"reports: {plan.report_dir}\n")
    if data["totals"]["requests"] == 0 and not interrupted:
        _explain_silence(plan)
    if interrupted:
        sys.stderr.write("ctvsim: interrupted: the figures above cover the run until then; "
                         "no threshold or reconciliation verdict is a pass\n")
        return ExitCode.INTERRUPTED
    if (short := _cut_short(plan, data)) is not None:
        sys.stderr.write(f"ctvsim: error: {short}\n")
        return ExitCode.FAILED
    if _all_unauthenticated(data["totals"]):
        sys.stderr.write("ctvsim: error: the target refused every request as unauthenticated "
                         "(401): the signing key does not match its key (see the README's "
                         "security section)\n")
        return ExitCode.FAILED
    if summary.reconciliation is not None and not summary.reconciliation["passed"]:
        return ExitCode.RECONCILIATION
    if not all(v.passed for v in summary.verdicts):
        return ExitCode.THRESHOLD
    return ExitCode.OK
