"""The open model, run for real: `ctvsim load --rate/--ramp` against the embedded mock on
loopback, short headless Locust runs; the mock's journal is the witness of what was sent."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.xdist_group("load"), pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parent.parent


def rate_run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "load", *args, "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=110, cwd=ROOT)
    summary_file = tmp_path / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else {}
    return done, summary


def assert_every_request_accounted_for(rate: dict[str, Any]) -> None:
    assert rate["scheduled"] == rate["on_time"] + rate["late"] + rate["dropped"], rate
    assert rate["sent"] == rate["on_time"] + rate["late"] and rate["unaccounted"] == 0
    assert rate["dropped"] == sum(rate["dropped_reasons"].values())
    rows = rate["series"]["rows"]
    assert sum(row[1] for row in rows) == rate["scheduled"]
    assert sum(row[2] for row in rows) == rate["sent"]
    assert sum(row[4] for row in rows) == rate["dropped"]


@pytest.mark.parametrize("rps", [100, 400])
def test_the_rate_asked_for_is_the_rate_sent(tmp_path: Path, rps: int) -> None:
    done, summary = rate_run(tmp_path, "--rate", str(rps), "--duration", "6s",
                             "--threshold", "dropped<=0", "--threshold", "achieved_rps>0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rate = summary["rate"]
    assert_every_request_accounted_for(rate)
    assert rate["target_rps"] == pytest.approx(rps, rel=0.01)
    assert rate["achieved_rps"] == pytest.approx(rps, rel=0.02), rate
    assert rate["dropped"] == 0 and rate["late"] <= rate["sent"] * 0.05
    assert summary["totals"]["requests"] == rate["sent"]  # every send has its final answer
    recon = summary["reconciliation"]
    assert recon["passed"] and recon["lost"] == 0 and recon["unexpected"] == 0
    assert summary["run"]["model"] == "open" and "rate: target" in done.stdout


def test_a_slow_target_gets_more_in_flight_not_a_lower_rate(tmp_path: Path) -> None:
    """Every answer 250 ms late: 50 closed-model users would manage 200/s; at 400/s the plan
    holds with about 100 requests in flight, lateness stays near zero, and the latency from
    the scheduled send shows the 250 ms the target took."""
    done, summary = rate_run(tmp_path, "--rate", "400", "--duration", "6s",
                             "--mock-fault", "latency=250")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rate = summary["rate"]
    assert_every_request_accounted_for(rate)
    assert rate["achieved_rps"] == pytest.approx(400, rel=0.02), rate
    assert rate["dropped"] == 0 and rate["in_flight_peak"] >= 80
    assert rate["lateness_ms"]["p50"] < 10
    assert rate["latency_from_schedule_ms"]["p50"] >= 250


def test_over_capacity_the_shortfall_is_reported_and_dropped_fails_the_run(
        tmp_path: Path) -> None:
    """Far past what the machine can send: the shortfall is reported as dropped or late, and
    a dropped<=0 threshold fails the run with exit 3."""
    done, summary = rate_run(tmp_path, "--rate", "50000", "--duration", "3s",
                             "--threshold", "dropped<=0")
    assert done.returncode == 3, done.stdout[-2000:] + done.stderr[-2000:]
    rate = summary["rate"]
    assert_every_request_accounted_for(rate)
    assert rate["dropped"] + rate["late"] > 0 and rate["achieved_rps"] < 50000
    assert rate["dropped"] > 0 and rate["late"] > 0  # it fell behind, and says by how much
    assert rate["lateness_ms"]["p99"] > 10
    assert "threshold dropped<=0: FAIL" in done.stdout


def test_the_in_flight_cap_drops_and_names_the_reason(tmp_path: Path) -> None:
    # A launch (no installed base): a warm-up at 5 requests per 200 ms would take minutes.
    done, summary = rate_run(tmp_path, "--rate", "200", "--duration", "3s",
                             "--max-in-flight", "5", "--mock-fault", "latency=200",
                             "--installed-base", "0")
    assert done.returncode == 0, done.stderr[-2000:]
    rate = summary["rate"]
    assert_every_request_accounted_for(rate)
    assert rate["in_flight_peak"] <= 5 and rate["dropped_reasons"]["in_flight_cap"] > 0
    assert summary["reconciliation"]["passed"]


def test_a_ramp_follows_its_points(tmp_path: Path) -> None:
    done, summary = rate_run(tmp_path, "--ramp", "0s:50,4s:250")
    assert done.returncode == 0, done.stderr[-2000:]
    rate = summary["rate"]
    assert_every_request_accounted_for(rate)
    rows = rate["series"]["rows"]
    assert summary["run"]["duration_s"] == 4
    # the plan's count in each whole second: 50 + 50 t, integrated
    for second, expected in enumerate([75, 125, 175, 225]):
        if second < len(rows) and second + 1 < rate["window_s"]:
            assert rows[second][1] == pytest.approx(expected, abs=2), rows


def test_the_day_shape_with_a_rate_peaks_at_prime_time(tmp_path: Path) -> None:
    """24 hours of the profiles' diurnal curve in 8 s, 300/s at the top: quiet small hours,
    the busiest second late in the run (evening), and the plan's mean well below its peak."""
    done, summary = rate_run(tmp_path, "--shape", "day", "--rate", "300", "--duration", "8s")
    assert done.returncode == 0, done.stderr[-2000:]
    rate = summary["rate"]
    assert_every_request_accounted_for(rate)
    per_second = [row[1] for row in rate["series"]["rows"]]
    assert per_second.index(max(per_second)) >= 5 and min(per_second[:3]) < max(per_second) / 2
    assert rate["peak_rps"] == 300 and rate["target_rps"] < 250
    assert rate["achieved_rps"] == pytest.approx(rate["target_rps"], rel=0.02)


def test_two_processes_split_the_rate_and_their_counts_merge_exactly(tmp_path: Path) -> None:
    done, summary = rate_run(tmp_path, "--rate", "300", "--duration", "5s", "--processes", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rate = summary["rate"]
    assert_every_request_accounted_for(rate)
    assert rate["achieved_rps"] == pytest.approx(300, rel=0.03), rate
    assert summary["totals"]["requests"] == rate["sent"]  # both workers' answers, merged
    assert summary["reconciliation"]["passed"] and summary["run"]["processes"] == 2
    # The schedules' own length, however long the workers took to start and warm up: the
    # master ends the run once every worker's schedule is answered.
    assert rate["window_s"] == pytest.approx(5.0, abs=0.05) and rate["scheduled"] == 1500
    assert summary["warm_up"]["requests"] > 0


KINDS = {
    "500": ["status=500,probability=0.1"],
    "503": ["status=503,probability=0.05,retry_after=0"],
    "429": ["status=429,probability=0.05,retry_after=0"],
    "reset": ["reset,probability=0.03"],
    "empty": ["empty,probability=0.03"],
    "hang": ["hang,probability=0.01"],
    "latency": ["latency=uniform:0:50,probability=0.3"],
}
KINDS["all"] = [rule for rules in KINDS.values() for rule in rules]


@pytest.mark.parametrize("retries", ["0", "3"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_the_fault_matrix_reconciles_in_the_open_model(tmp_path: Path, kind: str,
                                                      retries: str) -> None:
    seed = str(5 + list(KINDS).index(kind) + 10 * int(retries))
    faults = [arg for rule in KINDS[kind] for arg in ("--mock-fault", rule)]
    done, summary = rate_run(tmp_path, "--rate", "300", "--duration", "3s", "--retries",
                             retries, "--seed", seed, *faults)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    assert_every_request_accounted_for(summary["rate"])
    recon = summary["reconciliation"]
    assert recon["passed"] and recon["lost"] == 0 and recon["unexpected"] == 0, recon
    assert recon["duplicates"]["unexplained"] == 0 and recon["misordered"] == 0
    if kind in ("reset", "empty", "hang"):
        assert recon["unanswered"] > 0  # the fault was really there
    # a wait blocks one device, never the plan: the closed model's "users blocked" is absent
    assert summary["totals"]["blocked"] is None and "users blocked" not in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--rate", "0"], "--rate '0': requests per second, a number above 0"),
    (["--rate", "nan"], "--rate 'nan': requests per second"),
    (["--rate", "1e9"], "at most 1e+06"),
    (["--rate", "100", "--users", "5"], "--rate (the open model: a rate) cannot go with --users"),
    (["--rate", "100", "--speed", "max"], "cannot go with --speed max"),
    (["--ramp", "0s:1,10s:5", "--rate", "3"], "--ramp gives the rates itself: drop --rate"),
    (["--ramp", "5s:100"], "the first point must be at 0s"),
    (["--ramp", "0s:100,5s"], "'5s' is not TIME:RATE"),
    (["--ramp", "0s:100,10s:5,5s:1"], "'5s:1' goes back in time"),
    (["--ramp", "0s:0,9s:0"], "the rate is 0 throughout"),
    (["--ramp", "0s:-1"], "'0s:-1' is not TIME:RATE"),
    (["--ramp", "0s:100"], "lasts 0 s: give a point at 1s or later, or a --duration"),
    (["--max-in-flight", "0"], "--max-in-flight: must be > 0, got 0"),
    (["--max-in-flight", "5", "--users", "2"], "--max-in-flight (the open model"),
    (["--users", "2", "--threshold", "dropped<=0"], "judges the open model's rate"),
    (["--threshold", "dropped[session]<1"], "dropped takes no scope"),
    (["--installed-base", "1.5"], "--installed-base 'auto' or a share from 0 to 1, got '1.5'"),
    (["--installed-base", "all"], "--installed-base 'auto' or a share from 0 to 1"),
    (["--no-warm-up"], "--no-warm-up: the embedded mock starts empty and knows no device"),
])
def test_bad_rate_arguments_are_usage_errors_before_anything_is_sent(args: list[str],
                                                                     message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "simulator", "load", *args],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) <= 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def _new_install_share() -> float:
    """The share of a live app's requests that are first_opens: per device and simulated day,
    the new installs that balance churn (one per mean lifetime), each sending first_open on
    its install and, for a profile share of them, on its second launch too; over the
    requests a device sends a day."""
    import math

    from simulator.load.pool import events_per_day
    from simulator.profiles import load_profiles

    profiles = load_profiles()
    app = profiles.app(None)
    mix = profiles.mix(profiles.app_platforms(app))
    installs = sum(weight * math.log(2) / profile.behaviour.retention_half_life_days
                   * (1 + profile.behaviour.second_first_open_share)
                   for profile, weight in zip(mix.values, mix.weights, strict=True))
    return installs / events_per_day(profiles, app, profiles.app_platforms(app))


def test_a_rate_run_plays_a_live_app_after_warming_up_its_installed_base(tmp_path: Path,
                                                                         ) -> None:
    """The installed base's first_opens go out in the warm-up (counted apart, reconciled);
    in the measured window first_opens are only the new installs', at the rate that balances
    churn (under 1 % of the requests), where a launch would make every device's first
    request one."""
    done, summary = rate_run(tmp_path / "live", "--rate", "800", "--duration", "10s",
                             "--seed", "4")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    rate, warm_up = summary["rate"], summary["warm_up"]
    assert warm_up["outcomes"] == {"202": warm_up["requests"]}
    assert 0.9 * rate["devices"] < warm_up["requests"] < rate["devices"]
    assert warm_up["seconds"] > 0 and "warm-up (not in the figures above)" in done.stdout
    assert summary["totals"]["requests"] == rate["sent"] == rate["scheduled"]
    assert summary["reconciliation"]["passed"]
    assert summary["reconciliation"]["harness_attempts"] == rate["sent"] + warm_up["requests"]
    share = summary["per_operation"]["first_open"] / rate["sent"]
    expected = _new_install_share()
    assert 0.5 * expected < share < 1.6 * expected, (share, expected)

    done, launch = rate_run(tmp_path / "launch", "--rate", "800", "--duration", "3s",
                            "--seed", "4", "--installed-base", "0")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert launch["warm_up"] is None
    assert launch["per_operation"]["first_open"] / launch["rate"]["sent"] > 10 * expected


@pytest.fixture
def bundled_mock() -> Any:
    """A ctvsim mock with the bundled apps on a free loopback port, stopped afterwards."""
    from simulator.mock import MockServer

    with MockServer() as server:
        yield server


def test_no_warm_up_for_a_target_that_knows_the_installed_base(bundled_mock: Any,
                                                               tmp_path: Path) -> None:
    """A second run with the same seed against the same mock: its installed base was
    introduced by the first run's warm-up, so without one the mock sees no session before a
    first_open, and the run reconciles."""
    mock = bundled_mock
    first, _ = rate_run(tmp_path / "first", "--target", mock.url, "--rate", "300",
                        "--duration", "2s", "--seed", "9")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    done, summary = rate_run(tmp_path / "second", "--target", mock.url, "--rate", "300",
                             "--duration", "3s", "--seed", "9", "--no-warm-up")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert summary["warm_up"] is None and summary["rate"]["sent"] > 0
    recon = summary["reconciliation"]
    assert recon["passed"] and recon["misordered"] == 0, recon
