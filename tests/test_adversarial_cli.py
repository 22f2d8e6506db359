"""Every subcommand under hostile argument lists (issue: hardening): whatever the arguments,
no traceback, an exit code from the documented table, and nothing sent anywhere but loopback.

The fuzz runs the real CLI in-process. The one step that would run for long once every
check has passed is replaced (Locust's run, the mock's serving loop); everything before it,
which is where bad input must be caught, is real.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from _network import remote_connections_refused
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import main

EXIT_CODES = {0, 1, 2, 3, 4, 130}

# Values that try every edge: signs, exponents, non-finite, non-ASCII digits, blanks, huge.
NASTY = ["", " ", "-", "--", "0", "-0", "-1", "-5s", "1e308", "-1e308", "nan", "inf", "-inf",
         "0x10", "1_000", "\u0661", "1.5", "abc", "\x00", "\u00e9", "99999999999999999999",
         "99999999999h", "0.5s", "1,2", "max", "MAX"]
SMALL = ["1", "2"]  # valid sizes that keep a run short
FUZZ_EXAMPLES = int(os.environ.get("CTVSIM_FUZZ_EXAMPLES", "40"))  # more for a deeper hunt


def _values(extra: list[str]) -> st.SearchStrategy[str]:
    """Mostly the flag's own meaningful values, so that runs get past parsing to the
    deeper checks, and often a nasty one."""
    if not extra:
        return st.sampled_from(NASTY)
    return st.one_of(st.sampled_from(extra), st.sampled_from(extra), st.sampled_from(NASTY))


def _arguments(flags: dict[str, list[str] | None],
               required: tuple[str, ...] = ()) -> st.SearchStrategy[list[str]]:
    """Lists of flags (each with a value from its own list, or none) in any order; the
    required ones are there more often than not."""
    def one(flag: str) -> st.SearchStrategy[list[str]]:
        values = flags[flag]
        if values is None:
            return st.just([flag])
        return _values(values).map(lambda value: [flag, value])
    needed = [st.one_of(one(flag), one(flag), st.just([])) for flag in required]
    others = st.lists(st.sampled_from(sorted(flags)).flatmap(one), max_size=5)
    return st.tuples(st.tuples(*needed), others).map(
        lambda both: [token for part in (*both[0], *both[1]) for token in part])


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a small traffic file and a broken one; nothing long runs."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CTVSIM_DEV_KEY", raising=False)
    monkeypatch.delenv("CTVSIM_KEY_SOURCE", raising=False)
    assert main(["generate", "--devices", "1", "--days", "0.1", "-o", "t.jsonl"]) == 0
    Path("bad.jsonl").write_text('{"time": 1}\n')
    Path("dir").mkdir()
    monkeypatch.setattr("simulator.load.runner._execute", lambda *_: 0)
    monkeypatch.setattr("simulator.mock.server.run_forever", lambda *_: None)
    return tmp_path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str],
         monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    with remote_connections_refused(monkeypatch) as attempts:
        try:
            code = main(argv)
        except SystemExit as done:  # --help, and only --help, exits this way
            assert "-h" in argv or "--help" in argv, argv
            code = done.code or 0
    err = capsys.readouterr().err
    assert attempts == [], (argv, attempts)
    assert "Traceback" not in err, (argv, err)
    assert code in EXIT_CODES, (argv, code, err)
    if code == 2:
        assert err.startswith("ctvsim: error: "), (argv, err)
    return code, err


TARGETS = ["mock", "sandbox", "production", "http://127.0.0.1:9/v1.0/s2s/",
           "https://events.appsflyer.com./v1.0/s2s/", "ftp://x/", "http://[::1", "http://h:x/"]
REQUIRED = {"generate": ("-o",), "send": ("--target",), "devices": ("--platform",)}
COMMANDS: dict[str, dict[str, list[str] | None]] = {
    "generate": {"--devices": SMALL, "--days": ["0.01", "1"], "--start": [
        "2026-01-05T00:00:00Z", "yesterday", "9999-12-31T23:59:59Z", "0000-01-01"],
        "--platforms": ["roku", "amiga", ",", "roku,vega"], "--mix": None,
        "--app": ["com.example.ctvstream", "nope"], "--seed": SMALL,
        "--profiles": ["dir", "missing", "t.jsonl"], "-o": ["out.jsonl", "dir", "-",
                                                           "missing/x", "t.jsonl"]},
    "send": {"FILE": ["t.jsonl", "bad.jsonl", "missing", "dir", "-"], "--target": TARGETS,
             "--rate": SMALL, "--concurrency": SMALL, "--retries": ["0"], "--timeout": ["0.5"],
             "--rebase-time": None, "--results": ["r.jsonl", "dir", "t.jsonl", "missing/x"],
             "--allow-production": None, "--allow-failures": None, "--profiles": ["dir"]},
    "load": {"--target": TARGETS, "--users": SMALL, "--spawn-rate": SMALL,
             "--duration": ["1s", "30s", "1h30m"], "--platforms": ["roku", "amiga"],
             "--shape": ["day", "wave"], "--speed": ["1440", "max"], "--processes": SMALL,
             "--web": None, "--web-port": ["0", "65536", "8089"], "--report-dir": [
                 "reports", "t.jsonl", "t.jsonl/x"], "--threshold": ["p99<50ms", "p99<<1",
                                                                     "bogus>1"],
             "--seed": SMALL, "--retries": SMALL, "--allow-production": None,
             "--max-rps": SMALL, "--profiles": ["dir", "missing"],
             "--mock-fault": ["status=500,probability=0.1", "probability=2", "reset,hang"],
             "--no-reconcile": None},
    "mock": {"--host": ["127.0.0.1", "::1", "999.1.1.1", "bad host", "a\x00",
                        "\u00e9\u00e9"], "--port": ["0", "70000"],
             "--apps": ["missing", "t.jsonl"], "--faults": ["missing", "t.jsonl"],
             "--fault": ["503", "latency=1e308", "colour=red"], "--fault-seed": SMALL,
             "--journal": ["dir", "t.jsonl"], "--ring-size": SMALL, "--dedup-window": SMALL,
             "--workers": SMALL},
    "devices": {"--platform": ["roku", "amiga"], "--mix": None, "-n": SMALL, "--seed": SMALL,
                "--format": ["table", "json", "xml"], "--profiles": ["dir", "missing"]},
    "profiles": {"--profiles": ["dir", "missing"]},
}


SUBCOMMANDS = {"profiles": ["list"]}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_any_argument_list_gets_a_documented_exit_code_and_no_traceback(
        command: str, sandbox: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    flags = dict(COMMANDS[command])
    positional = flags.pop("FILE", None)

    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(arguments=_arguments(flags, REQUIRED.get(command, ())),
           first=st.sampled_from(positional) if positional else st.just(None),
           junk=st.one_of(st.just([]), st.just([]), st.lists(_values([]), max_size=2)))
    def check(arguments: list[str], first: str | None, junk: list[str]) -> None:
        words = SUBCOMMANDS.get(command, [])
        argv = [command, *words[:1], *([first] if first else []), *arguments, *junk]
        if "-" in argv:
            monkeypatch.setattr("sys.stdin", open("t.jsonl"))  # noqa: SIM115 (pytest closes)
        _run(argv, capsys, monkeypatch)

    check()


@pytest.mark.parametrize(("argv", "message"), [
    (["load", "--speed", "0"], "--speed '0': a number > 0 and <= 1e+09, or 'max'"),
    (["load", "--speed", "nan"], "--speed 'nan': a number > 0"),
    (["load", "--speed", "inf"], "--speed 'inf': a number > 0"),
    (["load", "--speed", "-3"], "--speed '-3': a number > 0"),
    (["load", "--duration", "0.5s"], "--duration '0.5s': must be a whole number of seconds"),
    (["load", "--duration", "99999999999h"], "from 1s to 720h"),
    (["load", "--duration", "-5s"], "--duration '-5s': use a whole number of seconds"),
    (["load", "--duration", "0"], "--duration '0': must be a whole number"),
    (["load", "--users", "-5"], "--users/-u: must be > 0, got -5"),
    (["load", "--max-rps", "-1e3"], "--max-rps: must be >= 0, got -1e3"),
    (["generate", "--devices", "-1", "-o", "x"], "--devices: must be > 0, got -1"),
    (["generate", "-o", "dir"], "-o dir: is a directory"),
    (["generate", "-o", "missing/x"], "directory 'missing' does not exist"),
    (["send", "t.jsonl", "--target", "mock", "--results", "dir"], "--results dir: is a dir"),
    (["load", "--report-dir", "t.jsonl/x"], "--report-dir t.jsonl/x: cannot write there"),
    (["load", "--report-dir", "t.jsonl"], "exists and is not a directory"),
    (["generate", "-o", "a\x00b"], "-o/--output: a path cannot contain a NUL byte"),
    (["send", "\x00", "--target", "mock"], "FILE|-: a path cannot contain a NUL byte"),
    (["mock", "--journal", "\x00"], "--journal: a path cannot contain a NUL byte"),
    (["load", "--profiles", "\x00"], "--profiles: a path cannot contain a NUL byte"),
    (["mock", "--host", "a\x00"], "cannot listen on 'a\\x00': not a host name or address"),
    (["mock", "--ring-size", "9" * 20], "--ring-size: must be <= 1e+08"),  # was an OverflowError
    (["mock", "--dedup-window", "9" * 20], "--dedup-window: must be <= 1e+09"),
])
def test_each_flag_accepts_exactly_what_it_documents(argv: list[str], message: str,
                                                     sandbox: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, err = _run(argv, capsys, monkeypatch)
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in sandbox.iterdir()) == ["bad.jsonl", "dir", "t.jsonl"]


def test_a_load_run_whose_every_request_is_refused_as_unauthenticated_fails(
        ctv_mock: Any, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong key must not read as a pass: with the override pointing at a key the mock
    does not know, every request gets 401 and the run exits 1."""
    monkeypatch.setenv("CTVSIM_DEV_KEY", "not-the-mock-key")
    monkeypatch.setenv("CTVSIM_KEY_SOURCE", "env")
    code = main(["load", "--target", ctv_mock.url, "--duration", "2s", "--users", "2",
                 "--speed", "max", "--platforms", "roku"])
    err = capsys.readouterr().err
    assert code == 1 and "refused every request as unauthenticated (401)" in err, err


def test_load_against_a_loopback_mock_signs_with_the_apps_key_despite_an_exported_key(
        ctv_mock: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CTVSIM_DEV_KEY", "a-real-key-for-sandbox")
    code = main(["load", "--target", ctv_mock.url, "--duration", "2s", "--users", "2",
                 "--speed", "max", "--platforms", "roku", "--report-dir", str(tmp_path)])
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["totals"]["outcomes"]) == {"202"}
    assert ctv_mock.stats()["accepted"] > 0
