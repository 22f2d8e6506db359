"""`ctvsim load` and the locustfile, run for real: short headless Locust runs over loopback.

Every run here is a real Locust process sending signed requests to the real mock on
127.0.0.1; the mock's own journal is the independent witness of what was sent.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from simulator.mock.server import MockServer
from simulator.profiles import load_profiles

pytestmark = [pytest.mark.xdist_group("load"), pytest.mark.timeout(90)]

ROOT = Path(__file__).resolve().parent.parent
APP = load_profiles().apps["com.example.ctvstream"]
NAME = re.compile(r"^(warm-up first_open|first_open|session|inapp) \[[a-z]+\]( retried)?$")


def ctvsim_load(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simulator", "load", *args], capture_output=True, text=True,
        timeout=80, env=env, cwd=ROOT,
    )


def assert_no_key(texts: list[str], key: str = APP.dev_key) -> None:
    for text in texts:
        assert key not in text


def report_texts(directory: Path) -> list[str]:
    return [p.read_text(errors="replace") for p in directory.iterdir() if p.is_file()]


@pytest.fixture
def mock():
    with MockServer() as server:
        yield server


def sent_per_operation(summary: dict) -> dict[str, int]:
    """What the summary says was sent per operation: the measured requests and, apart from
    them, the installed base's warm-up first_opens."""
    counts = dict(summary["per_operation"])
    if summary["warm_up"] is not None:
        counts["first_open"] = counts.get("first_open", 0) + summary["warm_up"]["requests"]
    return counts


def mock_per_operation(stats: dict) -> dict[str, int]:
    counts: dict[str, int] = {}
    for operations in stats["by_app"].get(APP.app_id, {}).values():
        for operation, statuses in operations.items():
            counts[operation] = counts.get(operation, 0) + sum(statuses.values())
    return counts


def test_a_run_matches_the_mock_journal_and_reports_agree(mock, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = ctvsim_load("--target", mock.url, "--duration", "8s", "--users", "30",
                       "--speed", "max", "--report-dir", str(reports), "--seed", "5",
                       "--threshold", "count>0")
    assert done.returncode == 0, done.stderr + done.stdout
    summary = json.loads((reports / "summary.json").read_text())
    stats = mock.stats()
    assert sent_per_operation(summary) == mock_per_operation(stats)
    assert set(summary["per_operation"]) == {"first_open", "session", "inapp"}
    assert stats["warnings"].get("ordering", 0) == 0 and stats["duplicates"] == 0
    assert summary["totals"]["failures"] == 0
    assert summary["reconciliation"]["passed"]  # a ctvsim mock on loopback: reconciled too

    rows = {r["Name"]: r for r in csv.DictReader((reports / "locust_stats.csv").open())}
    assert all(NAME.match(name) for name in rows if name != "Aggregated")
    for row in summary["rows"]:
        name = f"{row['operation']} [{row['platform']}]"
        assert int(rows[name]["Request Count"]) == row["requests"]
        assert row["latency_ms"]["p50"] <= row["latency_ms"]["p99"] <= row["latency_ms"]["max"]
    # Locust's own tables count everything sent: the warm-up too, in rows of its own.
    total = summary["totals"]["requests"]
    warm_up = summary["warm_up"]["requests"]
    assert 20 < warm_up <= 30  # a user's first device is mostly of the installed base
    assert sum(int(row["Request Count"]) for name, row in rows.items()
               if name.startswith("warm-up ")) == warm_up
    assert int(rows["Aggregated"]["Request Count"]) == total + warm_up
    assert f'"num_requests": {total + warm_up}' in (reports / "locust.html").read_text()
    case = ET.parse(reports / "junit.xml").getroot().find("./testsuite/testcase")
    assert case.get("name") == "threshold count>0" and case.find("failure") is None
    assert f"{total}" in done.stdout and "first_open [" in done.stdout
    assert_no_key([done.stdout, done.stderr, *report_texts(reports)])


def test_embedded_mock_reconciles_and_a_breached_threshold_exits_3(tmp_path: Path) -> None:
    done = ctvsim_load("--duration", "5s", "--users", "20", "--speed", "max",
                       "--platforms", "roku,tizen", "--report-dir", str(tmp_path),
                       "--threshold", "p50[session]<1us", "--threshold", "error_rate<1%")
    assert done.returncode == 3, done.stderr + done.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    recon = summary["reconciliation"]
    assert recon["passed"] and recon["harness_attempts"] == recon["mock_journaled"] > 0
    assert {r["platform"] for r in summary["rows"]} == {"roku", "tizen"}
    assert [t["passed"] for t in summary["thresholds"]] == [False, True]
    cases = ET.parse(tmp_path / "junit.xml").getroot().findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == [
        "threshold p50[session]<1us", "threshold error_rate<1%", "reconciliation"]
    assert [c.find("failure") is not None for c in cases] == [True, False, False]
    assert "threshold p50[session]<1us: FAIL" in done.stdout
    assert_no_key([done.stdout, done.stderr, *report_texts(tmp_path)])


def test_malformed_threshold_is_a_usage_error_before_any_traffic(mock, tmp_path) -> None:
    done = ctvsim_load("--target", mock.url, "--duration", "5s", "--threshold", "p99<<5ms",
                       "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.startswith("ctvsim: error: --threshold 'p99<<5ms'")
    assert "Traceback" not in done.stderr and "allowed" in done.stderr
    assert mock.stats()["requests"] == 0 and not (tmp_path / "r").exists()


def test_remote_targets_need_key_and_opt_in_and_never_show_the_key() -> None:
    env = {k: v for k, v in os.environ.items() if k != "CTVSIM_DEV_KEY"}
    done = ctvsim_load("--target", "sandbox", env=env)
    assert done.returncode == 2 and "CTVSIM_DEV_KEY" in done.stderr
    secret = "SECRETdevKEY0123456789"
    done = ctvsim_load("--target", "production", env={**env, "CTVSIM_DEV_KEY": secret})
    assert done.returncode == 2 and "--allow-production" in done.stderr
    assert_no_key([done.stdout, done.stderr], secret)


def test_faults_are_counted_per_status_and_retries_reduce_final_failures(tmp_path) -> None:
    common = ["--duration", "5s", "--users", "20", "--speed", "max", "--platforms", "roku",
              "--mock-fault", "status=500,probability=0.1"]
    plain = ctvsim_load(*common, "--report-dir", str(tmp_path / "plain"))
    retried = ctvsim_load(*common, "--retries", "2", "--report-dir", str(tmp_path / "retry"))
    assert plain.returncode == 0, plain.stderr + plain.stdout
    assert retried.returncode == 0, retried.stderr + retried.stdout
    first = json.loads((tmp_path / "plain" / "summary.json").read_text())
    second = json.loads((tmp_path / "retry" / "summary.json").read_text())

    totals = first["totals"]
    assert 0.05 < totals["failures"] / totals["requests"] < 0.15
    assert totals["outcomes"]["500"] == totals["failures"] and totals["retried_attempts"] == 0
    errors = {(e["outcome"], e["operation"]) for e in first["errors"]}
    assert ("500", "inapp") in errors
    assert all(e["reasons"] for e in first["errors"])
    assert first["reconciliation"]["passed"], first["reconciliation"]

    again = second["totals"]
    assert again["failures"] / again["requests"] < 0.02
    assert again["retried_attempts"] > 0.05 * again["requests"]
    assert again["attempts"] == again["requests"] + again["retried_attempts"]
    assert second["retried"] and second["reconciliation"]["passed"], second["reconciliation"]
    assert "retried attempts" in retried.stdout


def test_day_shape_peaks_in_prime_time(tmp_path: Path) -> None:
    done = ctvsim_load("--duration", "10s", "--users", "30", "--shape", "day", "--speed",
                       "8640", "--platforms", "roku", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr + done.stdout
    timeline = json.loads((tmp_path / "summary.json").read_text())["run"]["users_timeline"]
    users = [count for _, count in timeline]
    peak_at = timeline[users.index(max(users))][0]
    assert peak_at / 10 > 0.75  # prime time: hours 18-23 of the compressed day
    quiet_at = timeline[users.index(min(users))][0]
    assert quiet_at / 10 < 0.35 and min(users) < 0.35 * max(users)  # the small hours


def test_distributed_run_over_two_processes_counts_exactly(mock, tmp_path) -> None:
    done = ctvsim_load("--target", mock.url, "--duration", "6s", "--users", "20",
                       "--speed", "max", "--processes", "2", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr + done.stdout
    summary = json.loads((tmp_path / "summary.json").read_text())
    stats = mock.stats()
    assert sent_per_operation(summary) == mock_per_operation(stats)
    assert stats["duplicates"] == 0 and stats["warnings"].get("ordering", 0) == 0


def test_plain_locust_with_the_locustfile(mock) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "locustfiles/ctv.py", "--headless", "-u", "10",
         "-r", "10", "-t", "3s", "-s", "5", "-H", mock.url, "--only-summary",
         "--ctv-speed", "max", "--ctv-platforms", "webos", "--ctv-threshold", "count>0"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert "threshold count>0: PASS" in done.stdout
    assert "first_open [webos]" in done.stdout
    sent = sum(mock_per_operation(mock.stats()).values())
    warm_up = re.search(r"^warm-up .*: (\d+) first_opens", done.stdout, re.MULTILINE)
    assert warm_up is not None and 5 < int(warm_up[1]) <= 10  # users' first devices
    measured = sent - int(warm_up[1])
    assert measured > 0 and re.search(rf"^Total\s+{measured}\s", done.stdout, re.MULTILINE)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--duration", "soon"], "--duration 'soon'"),
        (["--platforms", "roku,atari"], "platform 'atari'"),
        (["--app", "com.example.nothing"], "unknown app"),
        (["--speed", "-3"], "--speed"),
        (["--mock-fault", "status=999"], "status"),
        (["--shape", "ramp"], "--shape"),
        (["--users", "0"], "--users/-u: must be > 0, got 0"),
        (["--retries", "-1"], "--retries: must be >= 0, got -1"),
        (["--web-port", "70000"], "--web-port: must be <= 65535, got 70000"),
    ],
)
def test_bad_arguments_exit_2_with_one_clear_line(args: list[str], message: str) -> None:
    done = ctvsim_load(*args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_connection_errors_are_counted_and_users_keep_going(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = ctvsim_load("--target", f"http://127.0.0.1:{port}/v1.0/s2s/", "--duration", "3s",
                       "--users", "5", "--speed", "max", "--retries", "1",
                       "--report-dir", str(tmp_path), "--threshold", "error_rate<50%")
    assert done.returncode == 3, done.stderr + done.stdout
    totals = json.loads((tmp_path / "summary.json").read_text())["totals"]
    assert totals["requests"] > 5 and totals["failures"] == totals["requests"]
    assert set(totals["outcomes"]) == {"connection_error"}
    assert totals["retried_attempts"] == totals["requests"]


def test_a_request_the_harness_did_not_send_fails_reconciliation_with_exit_4(mock, tmp_path):
    import httpx

    from simulator import contract

    run = subprocess.Popen(
        [sys.executable, "-m", "simulator", "load", "--target", mock.url, "--duration", "4s",
         "--users", "5", "--speed", "max", "--platforms", "roku", "--report-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    deadline = time.monotonic() + 20
    while mock.stats()["requests"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    path = contract.relative_path(contract.SESSION, "roku", APP.app_id)
    assert httpx.post(mock.url + path, content=b"{}").status_code == 401  # an intruder
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 4, stderr + stdout
    recon = json.loads((tmp_path / "summary.json").read_text())["reconciliation"]
    assert recon["problems"] == [
        "session [roku]: the mock journaled 1 requests more than the harness sent "
        f"({recon['per_operation']['session']['harness_final']})",
        "session [roku]: status 401: the harness got 0, the mock counted 1",
    ]
    case = ET.parse(tmp_path / "junit.xml").getroot().find("./testsuite/testcase")
    assert case.get("name") == "reconciliation" and case.find("failure") is not None
    assert "reconciliation with the mock: FAILED" in stdout


def test_on_the_wire_signed_json_no_compression_no_cookies(tmp_path: Path) -> None:
    """Seen by a plain HTTP server, not the mock: each request's own signature over its exact
    bytes, a JSON content type, no compressed answers asked for, no cookies sent back."""
    from _loopback import Loopback, Reply

    from simulator import contract, signing

    cookie = Reply(headers={"set-cookie": "session=abc; Path=/"})
    with Loopback([cookie] * 50) as target:
        done = ctvsim_load("--target", target.url, "--duration", "2s", "--users", "2",
                           "--speed", "max", "--platforms", "roku",
                           "--report-dir", str(tmp_path))
        received = list(target.received)
    assert done.returncode == 0, done.stderr + done.stdout
    assert len(received) > 10
    for request in received:
        assert "cookie" not in request.headers  # an S2S client keeps no cookies
        assert request.headers["accept-encoding"] == "identity"
        assert request.headers["content-type"] == "application/json"
        assert signing.verify(request.body, APP.dev_key, request.headers["authorization"])
        route = contract.parse_path(request.path)
        assert route is not None and route.platform == "roku"
        assert contract.validate(route.operation, json.loads(request.body)) == []


def test_a_run_with_nothing_due_says_why_instead_of_an_empty_table_alone() -> None:
    done = ctvsim_load("--duration", "2s", "--users", "1", "--platforms", "roku")
    assert done.returncode == 0, done.stderr
    assert re.search(r"^Total\s+0\s", done.stdout, re.MULTILINE)
    assert "ctvsim: note: no request was due: at --speed 1440 this 2 s run played 0.8 " \
        "simulated hours" in done.stderr


FAULT_MIX = ["--mock-fault", "status=500,probability=0.1", "--mock-fault",
             "status=503,probability=0.02,retry_after=0", "--mock-fault", "reset,probability=0.02",
             "--mock-fault", "empty,probability=0.01", "--mock-fault", "hang,probability=0.005",
             "--mock-fault", "latency=uniform:0:20,probability=0.1"]


@pytest.mark.parametrize(("retries", "seed"), [("0", "3"), ("3", "4")])
def test_every_fault_together_reconciles_with_nothing_lost(tmp_path: Path, retries: str,
                                                           seed: str) -> None:
    """Closed model, --speed max: errors, resets, empty answers, hangs and latency at once;
    whatever the harness gave up on is counted, so nothing is lost or unexpected."""
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "load", "--speed", "max", "--users", "20",
         "--duration", "5s", "--retries", retries, "--seed", seed, *FAULT_MIX,
         "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    summary = json.loads((tmp_path / "summary.json").read_text())
    recon = summary["reconciliation"]
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]
    assert recon["passed"] and recon["lost"] == 0 and recon["unexpected"] == 0, recon
    assert recon["duplicates"]["unexplained"] == 0 and recon["misordered"] == 0
    assert recon["unanswered"] > 0  # the resets, empty answers and hangs were really there


def test_a_busy_web_port_is_refused_before_the_run_starts() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "simulator", "load", "--web", "--web-port", str(port),
             "--duration", "3s"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"--web-port {port}: 127.0.0.1:{port} cannot be used" in done.stderr
    assert time.monotonic() - started < 10 and "Traceback" not in done.stderr
