"""`ctvsim send`: a generated file replayed over loopback, against the real mock and a
scripted server; results, rebasing, exit codes and line errors."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from _loopback import Loopback, Reply

from simulator import signing
from simulator.cli import main
from simulator.profiles import load_profiles


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("send") / "traffic.jsonl"
    assert main(["generate", "--devices", "25", "--days", "1", "--seed", "3",
                 "--start", "2026-03-02T00:00:00Z", "-o", str(out)]) == 0
    return out


def _lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_a_generated_file_is_accepted_by_the_real_mock(
        traffic: Path, tmp_path: Path, ctv_mock: Any, capsys: pytest.CaptureFixture[str],
) -> None:
    results = tmp_path / "results.jsonl"
    code = main(["send", str(traffic), "--target", ctv_mock.url, "--rebase-time",
                 "--concurrency", "4", "--results", str(results)])
    sent = _lines(traffic)
    assert code == 0
    stats = ctv_mock.stats()
    assert stats["accepted"] == stats["unique"] == len(sent)
    assert stats["rejected"] == {}
    # Per-device order kept, and rebased timestamps fall inside the 96-hour window.
    assert stats["warnings"] == {}, stats["warnings"]
    rows = _lines(results)
    assert len(rows) == len(sent)
    assert {row["request_id"] for row in rows} == {
        orjson.loads(line["body"])["request_id"] for line in sent}
    assert {row["status"] for row in rows} == {202}
    assert all(row["attempts"] == 1 and row["latency_ms"] > 0 for row in rows)
    err = capsys.readouterr().err
    assert f"sent {len(sent):,} requests" in err and "0 finally failed" in err
    assert err.splitlines()[-1].split()[0] == "202"


def test_replay_sends_the_exact_signed_bytes(traffic: Path) -> None:
    with Loopback() as server:
        assert main(["send", str(traffic), "--target", server.url]) == 0
    sent = _lines(traffic)
    assert sorted(r.body for r in server.received) == sorted(
        line["body"].encode() for line in sent)
    by_body = {line["body"].encode(): line for line in sent}
    for received in server.received:
        line = by_body[received.body]
        assert received.path == "/v1.0/s2s/" + line["path"]
        assert received.headers["authorization"] == line["headers"]["authorization"]


def test_rebase_moves_the_last_request_to_now_keeps_spacing_and_re_signs(
        traffic: Path) -> None:
    key = load_profiles().apps["com.example.ctvstream"].dev_key
    before = time.time() * 1000
    with Loopback() as server:
        assert main(["send", str(traffic), "--target", server.url, "--rebase-time",
                     "--concurrency", "1"]) == 0
    after = time.time() * 1000
    original = sorted(orjson.loads(line["body"])["timestamp"] for line in _lines(traffic))
    rebased = sorted(orjson.loads(r.body)["timestamp"] for r in server.received)
    assert before <= rebased[-1] <= after
    shift = rebased[0] - original[0]
    assert [t - shift for t in rebased] == original
    for received in server.received:
        assert signing.verify(received.body, key, received.headers["authorization"])


def test_final_failures_exit_1_unless_allowed(traffic: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "r.jsonl"
    with Loopback([Reply(400), Reply(500), Reply(500), Reply(500)]) as server:
        code = main(["send", str(traffic), "--target", server.url, "--concurrency", "1",
                     "--retries", "2", "--results", str(results)])
    assert code == 1
    rows = _lines(results)
    assert len(rows) == len(_lines(traffic))
    assert sorted(row["status"] for row in rows if row["status"] != 202) == [400, 500]
    assert max(row["attempts"] for row in rows) == 3
    err = capsys.readouterr().err
    assert "2 finally failed" in err and "2 retries" in err
    with Loopback([Reply(400)]) as server:
        assert main(["send", str(traffic), "--target", server.url, "--allow-failures"]) == 0


def test_a_bad_line_is_a_usage_error_before_anything_is_sent(
        traffic: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = traffic.read_bytes().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"\n".join([lines[0], lines[1], b'{"time": "soon"}', lines[2]]) + b"\n")
    with Loopback() as server:
        assert main(["send", str(broken), "--target", server.url]) == 2
        assert server.received == []
    err = capsys.readouterr().err.strip()
    assert err == (f'ctvsim: error: {broken}:3: "time" must be an integer (expected a line '
                   "written by `ctvsim generate`)")
    broken.write_bytes(lines[0] + b"\nnot json\n")
    assert main(["send", str(broken), "--target", "mock"]) == 2
    assert f"{broken}:2: not a JSON object" in capsys.readouterr().err
    record = orjson.loads(lines[0])
    record["body"] = "[1]"
    broken.write_bytes(lines[0] + b"\n" + orjson.dumps(record) + b"\n")
    assert main(["send", str(broken), "--target", "mock", "--rebase-time"]) == 2
    assert f"{broken}:2: --rebase-time re-stamps the body" in capsys.readouterr().err


def test_an_unsendable_line_is_reported_and_the_rest_still_go(traffic: Path, tmp_path: Path,
                                                               ) -> None:
    lines = traffic.read_bytes().splitlines()
    record = orjson.loads(lines[1])
    record["headers"]["authorization"] = "signé"  # no HTTP header can carry it
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(b"\n".join([lines[0], orjson.dumps(record), *lines[2:5]]) + b"\n")
    results = tmp_path / "r.jsonl"
    with Loopback() as server:
        code = main(["send", str(odd), "--target", server.url, "--results", str(results)])
    assert code == 1
    assert len(server.received) == 4
    failed = [row for row in _lines(results) if row["status"] is None]
    assert [row["line"] for row in failed] == [2] and failed[0]["error"]


def test_reads_stdin(traffic: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(traffic.read_bytes()))
    monkeypatch.setattr(sys, "stdin", stdin)
    with Loopback() as server:
        assert main(["send", "-", "--target", server.url]) == 0
    assert len(server.received) == len(_lines(traffic))


@pytest.mark.parametrize(("args", "message"), [
    (["--target", "production"], "without --allow-production"),
    (["--target", "nowhere"], "unknown target 'nowhere'"),
    (["--target", "mock", "--concurrency", "0"], "must be > 0"),
    (["--target", "sandbox", "--rebase-time"], "$CTVSIM_DEV_KEY"),
])
def test_usage_errors(traffic: Path, args: list[str], message: str,
                      capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTVSIM_DEV_KEY", raising=False)
    assert main(["send", str(traffic), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
