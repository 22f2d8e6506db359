"""The mock under hostile input over real HTTP (issue: hardening): whatever a client sends, the
answer is a 4xx with a reason and a journal entry (5xx only when injected), bad admin queries
and fault headers are 400 with what is allowed, and the server stays alive; a journal file on
a full disk is reported, never silently truncated."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
from _mock_support import body, path, post, raw, root, write_apps_yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import contract
from simulator.cli import main


@pytest.mark.parametrize("depth", [1, 100, 1023, 1024, 1025, 5_000, 30_000])
def test_deeply_nested_signed_bodies_get_400_and_a_journal_entry(mock, client, depth) -> None:
    content = b'{"a":' + b"[" * depth + b"]" * depth + b"}"
    response = post(client, root(mock.url), path(), content)
    assert response.status_code == 400, response.text
    assert mock.stats()["requests"] == 1
    assert mock.count(status=400) == 1
    if depth >= 1024:
        assert "nested deeper than 1024 levels" in response.json()["message"]


@pytest.mark.parametrize("size", [70_000, 1_000_000, 8_000_000])
def test_an_oversized_body_through_send_gets_413_without_retries(ctv_mock, tmp_path, size,
                                                                 capsys) -> None:
    app = ctv_mock.apps[0]
    line = {"time": 1, "operation": "session", "platform": app.platforms[0],
            "app_id": app.app_id,
            "path": contract.relative_path("session", app.platforms[0], app.app_id),
            "headers": {"authorization": "0" * 64}, "body": json.dumps({"pad": "x" * size})}
    traffic = tmp_path / "big.jsonl"
    traffic.write_text(json.dumps(line) + "\n")
    results = tmp_path / "results.jsonl"
    code = main(["send", str(traffic), "--target", ctv_mock.url, "--retries", "3",
                 "--results", str(results)])
    assert code == 1
    [row] = [json.loads(text) for text in results.read_text().splitlines()]
    assert (row["status"], row["attempts"]) == (413, 1), row
    assert ctv_mock.count(status=413) == 1


BAD_QUERIES = [
    ("requests", "limit=-1", "limit must be a whole number from 0 up"),
    ("requests", "limit=abc", "limit must be a whole number"),
    ("requests", "outcome=weird", "outcome 'weird' is not one of accepted, duplicate"),
    ("requests", "platform=amiga", "platform 'amiga' is not one of roku"),
    ("requests", "operation=install", "operation 'install' is not one of first_open"),
    ("requests", "status=9999", "status must be a whole number from 0 to 599"),
    ("requests", "since=yesterday", "since must be epoch seconds or ISO 8601"),
    ("requests", "colour=red", "unknown parameter 'colour'"),
    ("requests", "limit=1&limit=2", "'limit' given twice"),
    ("requests/count", "platform=amiga", "platform 'amiga'"),
    ("requests/find", "outcome=", "outcome '' is not one of"),
    ("warnings", "limit=-5", "limit must be a whole number from 0 up"),
    ("warnings", "since=1", "unknown parameter 'since': this endpoint takes limit"),
    ("stats", "x=1", "unknown parameter 'x': this endpoint takes no parameters"),
    ("health", "verbose=1", "takes no parameters"),
]


@pytest.mark.parametrize(("route", "query", "message"), BAD_QUERIES)
def test_bad_admin_queries_are_400_with_the_allowed_values(mock, client, route, query,
                                                           message) -> None:
    response = client.get(f"{mock.admin_url}{route}?{query}")
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]
    assert client.get(f"{mock.admin_url}health").status_code == 200


def test_a_post_filter_body_is_checked_like_a_query(mock, client) -> None:
    response = client.post(f"{mock.admin_url}requests/find", json={"limit": -3})
    assert response.status_code == 400 and "limit must be" in response.json()["message"]


def test_put_faults_needs_a_body_and_delete_clears(mock, client) -> None:
    mock.set_faults("503,probability=0.5")
    response = client.put(f"{mock.admin_url}faults", content=b"")
    assert response.status_code == 400
    assert "DELETE /__admin/faults clears" in response.json()["message"]
    assert len(mock.admin.faults()["rules"]) == 1  # the plan is still there
    assert client.delete(f"{mock.admin_url}faults").json()["rules"] == []


@pytest.mark.parametrize(("header", "message"), [
    ("503,probability=0.1,probability=0.9", "probability: given twice"),
    ("reset,hang", "action: given twice"),
    ("latency=1e308", "latency.ms: must be from 0 to 300000"),
    ("latency=lognormal:1:10:1e12", "max_ms: must be from 0 to 300000"),
    ("probability=2", "probability: must be from 0 to 1"),
    ("503,retry_after=1e9", "retry_after: must be an integer"),
    ("colour=red", "unknown key"),
    ("\u00ff\u00fe", "is not key=value"),
])
def test_malformed_fault_headers_are_400_and_journaled(mock, client, header, message) -> None:
    response = post(client, root(mock.url), path(), raw(body()),
                    **{"x-mock-fault": header.encode("latin-1")})  # type: ignore[arg-type]
    assert response.status_code == 400, response.text
    assert message in response.json()["message"]
    assert mock.count(status=400) == 1


def test_a_huge_latency_header_cannot_hang_a_request(mock, client) -> None:
    started = time.monotonic()
    response = post(client, root(mock.url), path(), raw(body()),
                    **{"x-mock-fault": "latency=1e308"})
    assert response.status_code == 400 and time.monotonic() - started < 5


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(query=st.lists(st.tuples(
    st.sampled_from(["limit", "since", "status", "outcome", "platform", "operation", "app",
                     "device", "request_id", "method", "url", "x", "deviceId"]),
    st.one_of(st.text(max_size=12),
              st.sampled_from(["-1", "1e308", "nan", "0", "99999999999999999999"]))),
    max_size=4), route=st.sampled_from(["requests", "requests/count", "requests/find",
                                        "warnings", "stats", "health", "faults"]))
def test_any_admin_query_is_answered_below_500(mock, client, query, route) -> None:
    response = client.get(f"{mock.admin_url}{route}", params=query)
    assert response.status_code < 500, response.text


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(header=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255),
                      max_size=60))
def test_any_fault_header_is_answered_below_500_unless_it_injects_one(mock, client,
                                                                      header) -> None:
    mock.reset()
    try:
        response = post(client, root(mock.url), path(), raw(body()),
                        **{"x-mock-fault": header.strip().encode("latin-1")})
    except httpx.TransportError:  # an injected reset, empty answer or hang: not a 5xx
        return
    if response.status_code >= 500:
        assert mock.stats()["injected"], response.text


def test_huge_headers_are_refused_and_the_server_lives(mock, client) -> None:
    for headers in ({"x-big": "a" * 200_000}, {f"x-h{i}": "v" for i in range(2_000)}):
        try:
            response = post(client, root(mock.url), path(), raw(body()), **headers)
            assert response.status_code < 500
        except httpx.TransportError:
            pass  # the server may close a request whose headers exceed its limits
    assert client.get(f"{mock.admin_url}health").status_code == 200


# --------------------------------------------------------------------------- the journal file


def _limit_file_size(limit: int) -> None:
    """In the child: a disk that fills up after ``limit`` bytes, without privileges."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past it fail with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_a_journal_file_on_a_full_disk_is_reported_and_the_mock_exits_1(tmp_path) -> None:
    apps = write_apps_yaml(tmp_path)
    database = tmp_path / "journal.db"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "mock", "--port", "0", "--apps", apps,
         "--journal", str(database)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        preexec_fn=lambda: _limit_file_size(160_000))
    try:
        assert process.stdout is not None
        base = process.stdout.readline().decode().split()[-1]
        process.stdout.readline()
        admin = base.split("/v1.0/")[0] + "/__admin/"
        with httpx.Client(trust_env=False, timeout=10) as client:
            for _ in range(360):
                padded = body(user_agent="Roku/DVP-12.5 " + "x" * 200)
                assert post(client, base.split("/v1.0/")[0], path(), raw(padded)).status_code == 202
            deadline = time.monotonic() + 10
            while client.get(admin + "health").json()["status"] != "degraded":
                assert time.monotonic() < deadline, "the full disk was never reported"
                time.sleep(0.05)
            health = client.get(admin + "health").json()
            stats = client.get(admin + "stats").json()
        assert stats["requests"] == 360 and stats["accepted"] == 360  # counters stay exact
        assert health["journal_file"]["state"] == "failed"
        assert health["journal_file"]["rows_lost"] > 0
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    text = err.decode()
    assert process.returncode == 1, text
    assert "Traceback" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 2, text  # the moment it failed, and the verdict at the end
    assert "cannot be written" in lines[0] and "requests were not written" in lines[1]
    with sqlite3.connect(database) as connection:
        kept = connection.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
    assert kept < 360 and f"{360 - kept:,} requests were not written" in lines[1]


def _wait_until_serving(url: str) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(url, trust_env=False, timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "the mock never answered"
            time.sleep(0.05)


def test_a_mock_off_loopback_warns_that_the_admin_api_is_exposed(tmp_path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "mock", "--host", "0.0.0.0", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert process.stdout is not None
        port = process.stdout.readline().decode().split(":")[-1].split("/")[0]
        _wait_until_serving(f"http://127.0.0.1:{port}/__admin/health")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert "warning: listening on 0.0.0.0, not loopback: the admin API" in err.decode()
    assert process.returncode == 0


def test_a_fault_file_with_a_yaml_error_names_line_and_column(tmp_path, capsys) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("rules:\n  - status: 503\n    probability: [0.1\n")
    assert main(["mock", "--port", "0", "--faults", str(faults)]) == 2
    err = capsys.readouterr().err
    assert f"{faults}:4:1: (yaml):" in err, err
    for text, where in [("rules:\n  - {status: 503, probability: 2}\n",
                         ":2:32: faults.rules[0].probability: must be from 0 to 1"),
                        ("rules:\n  - status: 503\n    status: 500\n",
                         ":3:5: rules[0].status: duplicate key"),
                        ("- {latency: {distribution: fixed, ms: 1e9}}\n",
                         ":1:39: faults.rules[0].latency.ms: must be from 0 to 300000")]:
        faults.write_text(text)
        assert main(["mock", "--port", "0", "--faults", str(faults)]) == 2
        assert where in capsys.readouterr().err
