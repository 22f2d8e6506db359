"""`ctvsim generate` through the real CLI: ordered, valid, signed, repeatable, atomic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from simulator import contract, signing
from simulator.cli import main
from simulator.outputs import atomic_output
from simulator.profiles import load_profiles

ARGS = ["generate", "--devices", "300", "--days", "2", "--seed", "7",
        "--start", "2026-03-02T00:00:00Z"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generate") / "traffic.jsonl"
    assert main([*ARGS, "-o", str(out)]) == 0
    return out


def test_lines_are_sorted_valid_and_signed(generated: Path) -> None:
    apps = load_profiles().apps
    lines = [orjson.loads(line) for line in generated.read_bytes().splitlines()]
    assert len(lines) > 1000
    assert [line["time"] for line in lines] == sorted(line["time"] for line in lines)
    seen_first_open: set[str] = set()
    for line in lines:
        assert list(line) == ["time", "channel", "operation", "platform", "app_id", "path",
                              "headers", "body"]
        body = orjson.loads(line["body"])
        assert contract.validate(line["operation"], body, platform=line["platform"]) == []
        assert line["path"] == contract.relative_path(line["operation"], line["platform"],
                                                      line["app_id"])
        assert body["timestamp"] == line["time"]
        key = apps[line["app_id"]].dev_key
        assert signing.verify(line["body"].encode(), key, line["headers"]["authorization"])
        device = contract.custom_id(body)
        if line["operation"] == contract.FIRST_OPEN:
            seen_first_open.add(device)
        else:
            assert device in seen_first_open, "a device's first_open comes first"


def test_same_arguments_give_identical_bytes_and_another_seed_does_not(
        generated: Path, tmp_path: Path) -> None:
    again = subprocess.run(
        [sys.executable, "-m", "simulator", *ARGS, "-o", "-"], capture_output=True, check=True,
    )
    assert again.stdout == generated.read_bytes()
    other = tmp_path / "other.jsonl"
    assert main([*ARGS[:-4], "--seed", "8", "--start", "2026-03-02T00:00:00Z",
                 "-o", str(other)]) == 0
    assert other.read_bytes() != generated.read_bytes()


def test_summary_counts_every_request(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      ) -> None:
    out = tmp_path / "t.jsonl"
    assert main(["generate", "--devices", "40", "--platforms", "roku,tizen",
                 "-o", str(out)]) == 0
    err = capsys.readouterr().err
    lines = out.read_bytes().splitlines()
    assert f"generated {len(lines):,} requests from 40 devices" in err
    assert "2026-01-05T00:00:00Z .. 2026-01-06T00:00:00Z" in err
    total_row = next(row for row in err.splitlines() if row.strip().startswith("total"))
    assert total_row.split()[-1] == f"{len(lines):,}"
    assert {orjson.loads(line)["platform"] for line in lines} <= {"roku", "tizen"}
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_the_mock_key_signs_even_with_an_environment_key_unless_told(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """generate's traffic is made for the mock: an exported dev key does not sign it (every
    request would get 401 there) unless CTVSIM_KEY_SOURCE=env asks for it."""
    app = load_profiles().app()
    monkeypatch.setenv("CTVSIM_DEV_KEY", "envkey123")
    out = tmp_path / "t.jsonl"
    for source, key in (("", app.dev_key), ("env", "envkey123")):
        monkeypatch.setenv("CTVSIM_KEY_SOURCE", source)
        assert main(["generate", "--devices", "5", "-o", str(out)]) == 0
        line = orjson.loads(out.read_bytes().splitlines()[0])
        assert signing.verify(line["body"].encode(), key, line["headers"]["authorization"])
        assert b"envkey123" not in out.read_bytes()


@pytest.mark.parametrize(("args", "message"), [
    (["--start", "yesterday"], "--start: 'yesterday' is not an ISO-8601 instant"),
    (["--platforms", "roku,amiga"], "unknown platform 'amiga'"),
    (["--app", "com.example.arcadegame", "--platforms", "roku"], "does not run on roku"),
    (["--app", "nope"], "unknown app 'nope'"),
    (["--devices", "0"], "must be > 0"),
    (["--days", "-1"], "must be > 0"),
    (["--days", "inf"], "must be a finite number"),
    (["--days", "0.0000001"], "at least one minute"),
    (["--start", "9999-12-31"], "between 1970 and 9000"),
    (["--platforms", "roku", "--mix"], "not allowed with argument"),
    (["--installed-base", "1.5"], "'auto' or a share from 0 to 1, got '1.5'"),
    (["--installed-base", "-0.1"], "'auto' or a share from 0 to 1"),
    (["--installed-base", "most"], "'auto' or a share from 0 to 1, got 'most'"),
])
def test_bad_arguments_are_one_line_usage_errors(
        args: list[str], message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.jsonl"
    assert main(["generate", *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_missing_output_directory_is_a_usage_error(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate", "--devices", "2", "-o", str(tmp_path / "no" / "t.jsonl")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), atomic_output(target, "-o") as out:
        out.write(b"half a line")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_output(target, "-o") as out:
        out.write(b"new, half")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"old" and list(tmp_path.iterdir()) == [target]


def test_the_installed_base_introduces_itself_in_the_hour_before_the_period(
        generated: Path, tmp_path: Path) -> None:
    """By default part of the devices are installed already: their first_opens open the file,
    in the hour before the period; the new installs' first_opens fall inside it. Without the
    warm-up those devices start with sessions; with no installed base nothing precedes the
    period."""
    start = 1772409600000  # 2026-03-02T00:00:00Z, ARGS' start

    def first_requests(path: Path) -> dict[str, dict[str, object]]:
        firsts: dict[str, dict[str, object]] = {}
        for line in path.read_bytes().splitlines():
            record = orjson.loads(line)
            firsts.setdefault(contract.custom_id(orjson.loads(record["body"])) or "", record)
        return firsts

    firsts = first_requests(generated)
    before = [r for r in firsts.values() if int(str(r["time"])) < start]
    assert all(r["operation"] == contract.FIRST_OPEN for r in firsts.values())
    assert all(start - 3_600_000 <= int(str(r["time"])) for r in before)
    assert 0.3 < len(before) / len(firsts) < 0.99

    cold = tmp_path / "cold.jsonl"
    assert main([*ARGS, "--no-warm-up", "-o", str(cold)]) == 0
    cold_firsts = first_requests(cold)
    assert min(int(str(r["time"])) for r in cold_firsts.values()) >= start
    assert sum(r["operation"] == contract.SESSION for r in cold_firsts.values()) > 0.3 * len(
        cold_firsts)

    launch = tmp_path / "launch.jsonl"
    assert main([*ARGS, "--installed-base", "0", "-o", str(launch)]) == 0
    launch_firsts = first_requests(launch)
    assert min(int(str(r["time"])) for r in launch_firsts.values()) >= start
    assert all(r["operation"] == contract.FIRST_OPEN for r in launch_firsts.values())
