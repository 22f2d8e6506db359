"""Pure parts of the load harness: histogram, thresholds, shapes, summary and JUnit."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from simulator.errors import InputError
from simulator.load import shapes, thresholds
from simulator.load.histogram import Histogram, bucket_index, bucket_upper
from simulator.load.reconcile import reconcile
from simulator.load.recorder import Recorder, parse_name, request_name
from simulator.load.reports import junit_xml
from simulator.load.summary import Summary, format_table
from simulator.mock.stats import ByApp, Counts
from simulator.profiles import load_profiles


def test_histogram_is_exact_below_128us_and_within_1_6_percent_above() -> None:
    for value in range(128):
        assert bucket_upper(bucket_index(value)) == value
    for value in (128, 129, 1000, 12_345, 999_999, 3_600_000_000):
        upper = bucket_upper(bucket_index(value))
        assert value <= upper <= value * (1 + 1 / 64)


def test_histogram_percentiles_match_sorted_values() -> None:
    rng = random.Random(3)
    values = [int(rng.lognormvariate(6, 1)) for _ in range(20_000)]
    histogram = Histogram()
    for value in values:
        histogram.record(value)
    ordered = sorted(values)
    for fraction in (0.5, 0.9, 0.99, 0.999):
        true = ordered[-(-int(fraction * len(values)) // 1) - 1]
        assert true <= histogram.percentile(fraction) <= true * (1 + 1 / 64) + 1
    assert histogram.percentile(1.0) == max(values)
    assert histogram.min == min(values) and histogram.count == len(values)


def test_histogram_merge_equals_recording_everything_in_one() -> None:
    one, two, both = Histogram(), Histogram(), Histogram()
    for value in range(0, 50_000, 7):
        (one if value % 2 else two).record(value)
        both.record(value)
    one.merge(Histogram.from_dict(two.to_dict()))
    assert one.counts == both.counts
    assert (one.count, one.total, one.min, one.max) == (both.count, both.total, both.min, both.max)


def test_empty_histogram_reports_zero() -> None:
    assert Histogram().percentile(0.99) == 0 and Histogram().mean == 0.0


@pytest.mark.parametrize(
    ("text", "metric", "percentile", "operation", "platform", "op", "limit"),
    [
        ("p99<50ms", "latency", 0.99, None, None, "<", 50_000),
        ("p95[session]<20ms", "latency", 0.95, "session", None, "<", 20_000),
        ("p99[session, roku] < 30ms", "latency", 0.99, "session", "roku", "<", 30_000),
        ("p99.9[tizen]<=800us", "latency", 0.999, None, "tizen", "<=", 800),
        ("max<1s", "latency", 1.0, None, None, "<", 1_000_000),
        ("mean<2", "latency", None, None, None, "<", 2000),
        ("error_rate<0.5%", "error_rate", None, None, None, "<", 0.005),
        ("error_rate[inapp]<=0.01", "error_rate", None, "inapp", None, "<=", 0.01),
        ("rps>2000", "rps", None, None, None, ">", 2000),
        ("count[first_open]>=1", "count", None, "first_open", None, ">=", 1),
    ],
)
def test_threshold_grammar(text, metric, percentile, operation, platform, op, limit) -> None:
    parsed = thresholds.parse(text)
    assert (parsed.metric, parsed.percentile, parsed.operation, parsed.platform, parsed.op) == (
        metric, percentile, operation, platform, op,
    )
    assert parsed.limit == pytest.approx(limit)


@pytest.mark.parametrize(
    "text",
    ["p99", "p99<", "p99<50xs", "p100<5ms", "p0<5ms", "p99[login]<5ms", "p99[roku,tizen]<5ms",
     "error_rate<150%", "error_rate<5ms", "rps>20/s", "latency<5ms", "p99>>5", ""],
)
def test_malformed_thresholds_are_usage_errors_that_say_what_is_allowed(text: str) -> None:
    with pytest.raises(InputError, match="threshold"):
        thresholds.parse(text)


def _recorder() -> Recorder:
    recorder = Recorder()

    class Response:
        def __init__(self, status: int, content: bytes = b"") -> None:
            self.status_code, self.content = status, content

    for i in range(100):
        recorder.on_request(name=request_name("session", "roku"), response_time=0.2 + i / 100,
                            response=Response(202))
    recorder.on_request(name=request_name("session", "roku"), response_time=3.0,
                        response=Response(500, b'{"message": "injected fault"}'),
                        exception=RuntimeError("500"))
    recorder.on_request(name=request_name("session", "roku", retried=True), response_time=1.0,
                        response=Response(500), exception=RuntimeError("500"))
    recorder.on_request(name=request_name("first_open", "tizen"), response_time=0.5,
                        response=Response(0), exception=ConnectionRefusedError("refused"))
    recorder.on_request(name="unrelated", response_time=1.0, response=Response(200))
    return recorder


def test_thresholds_evaluate_against_the_summary() -> None:
    summary = Summary(_recorder(), seconds=2.0)
    verdicts = thresholds.evaluate_all(
        thresholds.parse_all(
            ["p50[session]<1ms", "p99[session,roku]<1ms", "error_rate<5%", "rps>60",
             "count[first_open]>0", "p99[inapp]<1s"]
        ),
        summary.select,
    )
    assert [v.passed for v in verdicts] == [True, False, True, False, True, False]
    assert verdicts[2].actual == pytest.approx(2 / 102)
    assert verdicts[5].message == "no requests in scope"


def test_summary_counts_finals_apart_from_retried_attempts_and_breaks_errors_down() -> None:
    data = Summary(_recorder(), seconds=2.0).to_dict()
    assert data["per_operation"] == {"first_open": 1, "session": 101}
    assert data["totals"]["attempts"] == 103 and data["totals"]["retried_attempts"] == 1
    assert data["totals"]["outcomes"] == {"202": 100, "500": 1, "connection_error": 1}
    errors = {(e["outcome"], e["operation"]): e for e in data["errors"]}
    assert errors[("500", "session")]["reasons"] == ["injected fault"]
    assert "ConnectionRefusedError" in errors[("connection_error", "first_open")]["reasons"][0]
    row = next(r for r in data["rows"] if r["operation"] == "session")
    assert 0.2 < row["latency_ms"]["p50"] < 0.8  # sub-millisecond resolution
    table = format_table(data)
    assert "session [roku]" in table and "connection_error" in table


def test_recorder_drain_and_merge_round_trip_like_worker_reports() -> None:
    worker = _recorder()
    master = Recorder()
    master.merge_report(worker.drain())
    master.merge_report(_recorder().drain())
    data = Summary(master, seconds=1.0).to_dict()
    assert data["totals"]["requests"] == 204
    assert worker.entries == {}


def test_request_names_round_trip() -> None:
    assert parse_name(request_name("inapp", "webos", retried=True)) == (
        "inapp", "webos", True, False, "s2s")
    assert parse_name(request_name("first_open", "roku", retried=True, warm_up=True)) == (
        "first_open", "roku", True, True, "s2s")
    assert parse_name("inapp [webos]") == ("inapp", "webos", False, False, "s2s")
    name = request_name("first_open", "roku", retried=True, warm_up=True, channel="c2s")
    assert name == "warm-up c2s first_open [roku] retried"
    assert parse_name(name) == ("first_open", "roku", True, True, "c2s")
    assert parse_name("/v1.0/s2s/session") is None


def test_junit_has_one_case_per_threshold_and_one_for_reconciliation() -> None:
    summary = Summary(_recorder(), seconds=2.0)
    summary.verdicts = thresholds.evaluate_all(
        thresholds.parse_all(["p50<1ms", "rps>1000"]), summary.select
    )
    summary.reconciliation = {"passed": False, "problems": ["session [roku]: 3 lost"]}
    root = ET.fromstring(junit_xml(summary.to_dict()))
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["threshold p50<1ms", "threshold rps>1000",
                                              "reconciliation"]
    assert [c.find("failure") is not None for c in cases] == [False, True, True]
    assert root.find("testsuite").get("failures") == "2"


def test_day_shape_peaks_in_prime_time_and_bottoms_out_overnight() -> None:
    curve = [1, 0.6, 0.4, 0.3, 0.3, 0.4, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 5, 6, 8, 9, 10, 8, 4]
    users = [shapes.day_users(curve, t, 240, 100) for t in range(240)]
    assert max(users) == 100 and users.index(100) == 210  # hour 21 of 24
    assert min(users) == users[30]  # hours 3-4 (the curve's low), at least one user
    assert min(users) >= 1


def test_step_and_spike_shapes() -> None:
    steps = [shapes.step_users(t, 100, 50) for t in range(100)]
    assert steps[0] == 10 and steps[99] == 50 and sorted(steps) == steps
    assert len(set(steps)) == shapes.STEPS
    spike = [shapes.spike_users(t, 100, 50) for t in range(100)]
    assert spike[0] == spike[99] == 10 and spike[50] == 50 and spike.count(50) == 10
    with pytest.raises(ValueError):
        shapes.users_function("ramp", curve=[1] * 24)


def _stats(by_platform: ByApp, injected: ByApp | None = None, duplicates: int = 0,
           ordering: int = 0) -> Counts:
    """Counts as the mock emits them: statuses and fault labels are the same strings."""
    app = "com.example.ctvstream"
    return {"by_app": {app: by_platform}, "injected_by_app": {app: injected or {}},
            "by_channel_app": {"s2s": {app: by_platform}},
            "injected_by_channel_app": {"s2s": {app: injected or {}}},
            "duplicates": duplicates, "warnings": {"ordering": ordering} if ordering else {}}


def test_reconciliation_passes_when_the_journal_matches() -> None:
    recorder = _recorder()
    stats = _stats({"roku": {"session": {"202": 100}}, "tizen": {"first_open": {}}},
                   injected={"roku": {"session": {"500": 2}}})
    verdict = reconcile(recorder, stats, "com.example.ctvstream")
    assert verdict["passed"], verdict["problems"]
    assert verdict["harness_attempts"] == 103 and verdict["mock_journaled"] == 102


@pytest.mark.parametrize(
    ("stats", "problem"),
    [
        (_stats({"roku": {"session": {"202": 90}}},
                injected={"roku": {"session": {"500": 2}}}), "lost 10 requests"),
        (_stats({"roku": {"session": {"202": 100}}, "webos": {"inapp": {"202": 5}}},
                injected={"roku": {"session": {"500": 2}}}),
         "inapp [webos]: the mock journaled 5 requests more"),
        (_stats({"roku": {"session": {"202": 100}}},
                injected={"roku": {"session": {"500": 2}}}, duplicates=3),
         "unexpected duplicates"),
        (_stats({"roku": {"session": {"202": 100}}},
                injected={"roku": {"session": {"500": 2}}}, ordering=4),
         "ordering: 4 sessions or in-app events"),
        (_stats({"roku": {"session": {"202": 95, "400": 5}}},
                injected={"roku": {"session": {"500": 2}}}),
         "status 202: the harness got 100, the mock counted 95"),
        ("could not read the mock's journal: refused", "could not read"),
    ],
)
def test_reconciliation_names_each_kind_of_problem(stats: Any, problem: str) -> None:
    verdict = reconcile(_recorder(), stats, "com.example.ctvstream")
    assert not verdict["passed"]
    assert any(problem in line for line in verdict["problems"]), verdict["problems"]
    # The same keys either way: counts when the journal was read, null (unknown) when not.
    assert {"lost", "unexpected", "duplicates", "misordered", "unanswered_in_flight",
            "harness_attempts"} <= set(verdict)
    unknown = isinstance(stats, str)
    assert (verdict["lost"] is None) == unknown and verdict["harness_attempts"] > 0
    summary = Summary(_recorder(), seconds=1.0)
    summary.reconciliation = verdict
    line = format_table(summary.to_dict()).splitlines()[-len(verdict["problems"]) - 1]
    assert line.startswith("reconciliation with the mock: FAILED")
    assert ("every count unknown" in line) == unknown


def test_targets_apply_the_clients_safety_rules_to_urls_too(monkeypatch) -> None:
    from simulator import targets
    from simulator.errors import InputError as Refused

    monkeypatch.delenv("CTVSIM_DEV_KEY", raising=False)
    with pytest.raises(Refused, match="allow-production"):
        targets.check("https://events.appsflyer.com/v1.0/s2s/", False, 0.0)
    app = load_profiles().app()
    with pytest.raises(Refused, match="CTVSIM_DEV_KEY"):
        targets.dev_key("production", app)
    with pytest.raises(Refused, match="CTVSIM_DEV_KEY"):
        targets.dev_key("https://sandbox-events.appsflyer.com/v1.0/s2s/", app)
    monkeypatch.setenv("CTVSIM_DEV_KEY", "k" * 22)
    target, cap = targets.check("production", True, 0.0)
    assert target.production and 0 < cap <= 10
    assert targets.check("http://127.0.0.1:9/v1.0/s2s/", False, 0.0)[1] == 0.0


def test_reconciliation_of_a_running_mock_uses_what_the_run_added() -> None:
    from simulator.load.reconcile import difference

    before = _stats({"roku": {"session": {"202": 40}}}, duplicates=2, ordering=1)
    after = _stats({"roku": {"session": {"202": 140}}},
                   injected={"roku": {"session": {"500": 2}}}, duplicates=2, ordering=1)
    delta = difference(after, before)
    assert delta["by_app"]["com.example.ctvstream"]["roku"]["session"] == {"202": 100}
    assert delta["duplicates"] == 0 and delta["warnings"] == {"ordering": 0}
    assert reconcile(_recorder(), delta, "com.example.ctvstream")["passed"]


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"message":"say \\"hi\\" \\\\ now"}', 'say "hi" \\ now'),
    (b'{"message": "unicode \\u00e9t\\u00e9"}', "unicode \u00e9t\u00e9"),
    (b'{"other":1,"message":"second key"}', "second key"),
    (b'{"message": 42}', '{"message": 42}'),
    (b'{"message":"cut', '{"message":"cut'),
])
def test_an_error_message_is_read_as_json_not_cut_at_a_quote(content: bytes, reason: str,
                                                             ) -> None:
    from types import SimpleNamespace

    from simulator.load.recorder import reason_of

    assert reason_of(SimpleNamespace(content=content, status_code=400), None) == reason


def test_an_attempt_in_flight_at_the_stop_explains_one_journaled_request_never_a_lost_one(
        ) -> None:
    """The phantom request: the mock journaled (and held) a request whose user the run then
    stopped; the harness counts that attempt as sent and unanswered."""
    journaled_one_more = _stats({"roku": {"session": {"202": 100}}},
                                injected={"roku": {"session": {"500": 2, "hang": 1}}})
    recorder = _recorder()
    before = reconcile(recorder, journaled_one_more, "com.example.ctvstream")
    assert not before["passed"] and before["unexpected"] == 1
    recorder.in_flight_at_stop(request_name("session", "roku"))
    after = reconcile(recorder, journaled_one_more, "com.example.ctvstream")
    assert after["passed"], after["problems"]
    assert (after["lost"], after["unexpected"], after["unanswered_in_flight"]) == (0, 0, 1)
    assert after["unanswered_by_kind"] == {"connection_error": 1, "in_flight_at_stop": 1}
    short = _stats({"roku": {"session": {"202": 99}}},
                   injected={"roku": {"session": {"500": 2}}})
    assert reconcile(recorder, short, "com.example.ctvstream")["lost"] == 1


def test_reconciliation_counts_each_discrepancy() -> None:
    stats = _stats({"roku": {"session": {"202": 100}}, "webos": {"inapp": {"202": 5}}},
                   injected={"roku": {"session": {"500": 2}}}, duplicates=3, ordering=4)
    verdict = reconcile(_recorder(), stats, "com.example.ctvstream")
    assert (verdict["lost"], verdict["unexpected"], verdict["misordered"]) == (0, 5, 4)
    assert verdict["duplicates"] == {"explained": 0, "unexplained": 3}


def test_the_summary_says_how_much_user_time_went_waiting_on_unanswered_requests() -> None:
    recorder = Recorder()
    name = request_name("session", "roku")
    for _ in range(90):
        recorder.on_request(name=name, response_time=1.0, response=SimpleResponse(202))
    for _ in range(3):  # hangs that ended in a timeout after 10 s each
        recorder.on_request(name=name, response_time=10_000.0, response=None,
                            exception=TimeoutError("timed out"))
    summary = Summary(recorder, 20.0, run={"users_timeline": [(t, 3) for t in range(1, 11)]})
    data = summary.to_dict()
    assert data["totals"]["blocked"] == {"user_seconds": 30.0, "share": 0.5}
    assert "users blocked: 50.0 % of user time (30.0 user-seconds)" in format_table(data)
    quiet = Summary(Recorder(), 20.0, run={"users_timeline": [(1, 3)]}).to_dict()
    assert quiet["totals"]["blocked"]["share"] == 0.0
    assert "users blocked" not in format_table(quiet)


class SimpleResponse:
    def __init__(self, status: int) -> None:
        self.status_code, self.content = status, b""
