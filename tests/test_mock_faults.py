"""Injected faults, seen by a real httpx client: error statuses with seeded probabilities,
latency distributions on event-loop timers, reset/empty/hang, first N, outage windows,
auto-revert, the X-Mock-Fault header, the admin API and the YAML file."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest
from _mock_support import APPS, body, path, post, raw, root

from simulator import contract
from simulator.mock import FaultError, MockAdminError, MockServer, parse_rule

SE, IN = contract.SESSION, contract.INAPP


def hit(mock, client, operation=SE, **headers) -> httpx.Response:
    return post(client, root(mock.url), path(operation), raw(body(operation)), **headers)


def statuses(mock, client, n, operation=SE) -> list[int]:
    return [hit(mock, client, operation).status_code for _ in range(n)]


# ------------------------------------------------------------------ error statuses


def test_seeded_probability_is_within_tolerance_and_repeatable(mock, client):
    mock.set_faults("status=503,probability=0.3", seed=11)
    first = statuses(mock, client, 600)
    assert set(first) == {202, 503}
    share = first.count(503) / len(first)
    assert abs(share - 0.3) < 0.06  # > 5 standard deviations of a binomial(600, 0.3)
    mock.set_faults("status=503,probability=0.3", seed=11)
    assert statuses(mock, client, 600) == first  # the same seed, the same sequence
    stats = mock.stats()
    assert stats["injected"] == {"503": 2 * first.count(503)}
    assert stats["accepted"] == 2 * first.count(202)


def test_429_carries_retry_after(mock, client):
    mock.set_faults("status=429")
    response = hit(mock, client)
    assert response.status_code == 429 and response.headers["retry-after"] == "1"
    mock.set_faults({"status": 503, "retry_after": 30})
    response = hit(mock, client)
    assert response.status_code == 503 and response.headers["retry-after"] == "30"
    assert response.json() == {"message": "injected fault 503"}


def test_faults_are_scoped_by_operation_app_and_platform(mock, client):
    mock.set_faults("status=500,operation=inapp", "status=503,platform=tizen")
    assert hit(mock, client, SE).status_code == 202
    assert hit(mock, client, IN).status_code == 500
    tizen = post(client, root(mock.url), path(SE, "tizen"), raw(body(SE)))
    assert tizen.status_code == 503
    mock.set_faults({"status": 500, "app": "com.other"})
    assert hit(mock, client, IN).status_code == 202


def test_fail_first_n_then_recover(mock, client):
    mock.set_faults("status=500,first=3")
    assert statuses(mock, client, 6) == [500, 500, 500, 202, 202, 202]
    assert mock.admin.faults()["rules"][0]["fired"] == 3


def test_an_outage_window_opens_and_closes(mock, client):
    mock.set_faults("status=503,after=0.5,for=1.0")
    assert hit(mock, client).status_code == 202
    time.sleep(0.8)
    assert hit(mock, client).status_code == 503
    time.sleep(1.0)
    assert hit(mock, client).status_code == 202


def test_faults_revert_by_themselves_after_their_duration(mock, client):
    mock.set_faults("status=503", duration=1.0)
    assert hit(mock, client).status_code == 503
    assert mock.admin.faults()["rules"][0]["remaining_s"] <= 1.0
    time.sleep(1.1)
    assert hit(mock, client).status_code == 202
    assert mock.admin.faults()["rules"] == []


def test_validation_comes_before_faults(mock, client):
    mock.set_faults("status=503")
    bad = post(client, root(mock.url), path(SE), raw(body(SE, ip="")))
    assert bad.status_code == 400
    unsigned = post(client, root(mock.url), path(SE), raw(body(SE)), key="WRONG")
    assert unsigned.status_code == 401
    assert mock.stats()["injected"] == {}


# ------------------------------------------------------------------ latency


def _timed(mock, client, n) -> list[float]:
    durations = []
    for _ in range(n):
        start = time.perf_counter()
        assert hit(mock, client).status_code == 202
        durations.append((time.perf_counter() - start) * 1000)
    return durations


@pytest.mark.parametrize(("spec", "median", "low", "high"), [
    ("latency=60", 60, 55, 95),
    ("latency=uniform:20:80", 50, 35, 80),
    ("latency=lognormal:40:0.5:120", 40, 28, 65),
])
def test_latency_medians_are_within_tolerance(mock, client, spec, median, low, high):
    mock.set_faults(spec, seed=5)
    durations = _timed(mock, client, 31)
    assert low <= statistics.median(durations) <= high, (median, durations)
    stats = mock.stats()
    assert stats["delayed"] == 31 and stats["accepted"] == 31 and stats["injected"] == {}


def test_lognormal_latency_is_capped(mock, client):
    import random

    latency = parse_rule("latency=lognormal:30:2.0:60").latency
    rng = random.Random(1)
    samples = [latency.sample(rng) for _ in range(10_000)]
    assert max(samples) == 0.060 and min(samples) > 0  # sigma 2 reaches the cap often
    mock.set_faults("latency=lognormal:30:2.0:60", seed=3)
    durations = sorted(_timed(mock, client, 25))
    assert durations[20] < 60 + 40  # 80th percentile: the cap plus loopback and GIL slack


def test_hundreds_of_delayed_requests_wait_concurrently(mock):
    mock.set_faults("latency=1000")
    content = [raw(body(SE)) for _ in range(100)]

    def one(data: bytes) -> int:
        with httpx.Client(trust_env=False, timeout=10) as http:
            return post(http, root(mock.url), path(SE), data).status_code

    start = time.perf_counter()
    with ThreadPoolExecutor(100) as pool:
        results = Counter(pool.map(one, content))
    elapsed = time.perf_counter() - start
    assert results == {202: 100}
    assert elapsed < 10.0  # 100 x 1 s would take 100 s if each delay held the server


# ------------------------------------------------------------------ connection faults


def test_reset_empty_and_hang_are_seen_by_a_real_client(mock, client):
    with pytest.raises(httpx.ReadError):
        hit(mock, client, **{"x-mock-fault": "reset"})
    with pytest.raises(httpx.RemoteProtocolError):
        hit(mock, client, **{"x-mock-fault": "empty"})
    with httpx.Client(trust_env=False, timeout=0.4) as impatient:
        start = time.perf_counter()
        with pytest.raises(httpx.ReadTimeout):
            hit(mock, impatient, **{"x-mock-fault": "hang"})
        assert time.perf_counter() - start >= 0.35
    assert hit(mock, client).status_code == 202  # still serving
    assert mock.stats()["injected"] == {"empty": 1, "hang": 1, "reset": 1}
    assert {e["fault"] for e in mock.requests(outcome="injected")} == {"reset", "empty", "hang"}


def _stop_with_one_request_pending(fault: str) -> tuple[float, Future[httpx.Response]]:
    """Seconds that stopping took while a request held by ``fault`` waited; its outcome."""
    with MockServer(apps=APPS) as server, httpx.Client(trust_env=False, timeout=30) as http:
        server.set_faults(fault)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(hit, server, http)
            time.sleep(0.3)
            start = time.perf_counter()
            server.stop()
            stopping = time.perf_counter() - start
            pending.exception(timeout=10)  # settled before the client closes
    return stopping, pending


def test_a_hanging_request_is_released_when_the_server_stops():
    stopping, pending = _stop_with_one_request_pending("hang")
    assert stopping < 5
    with pytest.raises(httpx.HTTPError):
        pending.result()


def test_a_delayed_request_is_answered_at_once_when_the_server_stops(caplog):
    stopping, pending = _stop_with_one_request_pending("latency=fixed:60000")
    assert stopping < 1.0  # not uvicorn's graceful-shutdown timeout
    assert pending.result().status_code == 202
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


# ------------------------------------------------------------------ header, admin API, files


def test_the_x_mock_fault_header_targets_one_request(mock, client):
    response = hit(mock, client, **{"x-mock-fault": "429,retry_after=7"})
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert hit(mock, client).status_code == 202
    slow = time.perf_counter()
    assert hit(mock, client, **{"x-mock-fault": "latency=150"}).status_code == 202
    assert time.perf_counter() - slow >= 0.14


def test_a_malformed_x_mock_fault_header_is_400_and_says_why(mock, client):
    response = hit(mock, client, **{"x-mock-fault": "status=418"})
    assert response.status_code == 400
    assert "X-Mock-Fault" in response.json()["message"]
    assert mock.stats()["injected"] == {"invalid_fault_header": 1}


def test_admin_faults_get_put_delete(mock, client):
    url = mock.admin_url + "faults"
    assert client.get(url).json() == {"seed": None, "rules": []}
    plan = {"seed": 4, "rules": [{"status": 503, "probability": 0.5, "operation": "session"},
                                 {"latency": {"distribution": "uniform", "lower_ms": 1,
                                              "upper_ms": 2}}]}
    described = client.put(url, json=plan).json()
    assert described["seed"] == 4
    assert [r["action"] for r in described["rules"]] == ["error", "latency"]
    response = client.put(url, json={"rules": [{"status": 503, "probability": 2}]})
    assert response.status_code == 400
    assert "probability" in response.json()["message"]
    assert client.get(url).json()["seed"] == 4  # a refused plan changes nothing
    assert client.delete(url).json()["rules"] == []
    with pytest.raises(MockAdminError, match=r"rules\[0\]\.colour: unknown key"):
        mock.set_faults({"colour": "red"})


def test_admin_reset_forgets_journal_counters_and_faults_like_wiremock(mock, client):
    assert hit(mock, client).status_code == 202
    mock.set_faults("status=503")
    assert hit(mock, client).status_code == 503
    assert client.post(mock.admin_url + "reset").status_code == 200
    assert mock.stats()["requests"] == 0 and mock.admin.faults()["rules"] == []
    assert hit(mock, client).status_code == 202


def test_a_yaml_fault_file_configures_the_mock(tmp_path, client):
    faults = tmp_path / "faults.yaml"
    faults.write_text("seed: 1\nrules:\n  - status: 500\n    first: 2\n  - action: reset\n"
                      "    operation: inapp\n")
    with MockServer(apps=APPS, faults=faults) as server:
        assert statuses(server, client, 3) == [500, 500, 202]
        with pytest.raises(httpx.ReadError):
            hit(server, client, IN)


@pytest.mark.parametrize(("spec", "expected"), [
    ("503", {"action": "error", "status": 503}),
    ("status=429", {"action": "error", "status": 429, "retry_after": 1}),
    ("reset,probability=0.25", {"action": "reset", "probability": 0.25}),
    ("latency=uniform:10:50", {"action": "latency", "latency": {
        "distribution": "uniform", "lower_ms": 10.0, "upper_ms": 50.0}}),
    ("latency=lognormal:80:0.4:200,operation=session", {"action": "latency", "operation": "session",
     "latency": {"distribution": "lognormal", "median_ms": 80.0, "sigma": 0.4, "max_ms": 200.0}}),
    ("hang,platform=roku,duration=5", {"action": "hang", "platform": "roku", "duration": 5.0}),
])
def test_the_string_form_parses(spec, expected):
    described = parse_rule(spec).describe(0.0)
    for key, value in expected.items():
        assert described[key] == value


@pytest.mark.parametrize(("spec", "message"), [
    ("status=404", "status: must be one of"),
    ("probability=0.5", "needs a status"),
    ("503,probability=1.5", "probability: must be from 0 to 1"),
    ("probability=2", "probability: must be from 0 to 1"),  # not "needs a status"
    ("503,probability=0.1,probability=0.9", "probability: given twice"),
    ("503,503", "status: given twice"),
    ("latency=1e308", "latency.ms: must be from 0 to 300000"),
    ("latency=lognormal:80:0.4:1e9", "latency.max_ms: must be from 0 to 300000"),
    ("latency=uniform:0:nan", "latency.upper_ms: must be a finite number"),
    ("503,retry_after=99999", "retry_after: must be from 0 to 3600"),
    ("latency=gamma:1:2", "latency: write fixed:MS"),
    ("latency=uniform:50:10", "upper_ms: must be >= lower_ms"),
    ("503,operation=install", "'install' is not one of"),
    ("503,platform=android", "'android' is not one of"),
    ("explode", "is not key=value"),
    ("503,first=-1", "first: must be >= 0"),
])
def test_bad_fault_specs_say_what_is_allowed(spec, message):
    with pytest.raises(FaultError, match=message.replace("(", r"\(")):
        parse_rule(spec)


def test_a_plan_times_its_windows_by_the_clock_it_is_given() -> None:
    """An outage window and a duration stepped through without sleeping."""
    from simulator import contract
    from simulator.mock.faults import FaultPlan

    now = [100.0]
    plan = FaultPlan.from_spec({"rules": [{"status": 503, "after": 10, "for": 5},
                                          {"status": 500, "duration": 30}]},
                               clock=lambda: now[0])
    route = contract.Route("s2s", "session", "roku", "com.test.app")
    seen = {}
    for age in (0, 9.9, 10, 14.9, 15, 29.9, 30, 100):
        now[0] = 100.0 + age
        decision = plan.decide(route)
        seen[age] = decision.status if decision else None
    assert seen == {0: 500, 9.9: 500, 10: 503, 14.9: 503, 15: 500, 29.9: 500, 30: None,
                    100: None}
