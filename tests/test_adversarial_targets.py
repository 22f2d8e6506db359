"""Hostile and careless spellings of where to send and how to sign (issue: hardening).

Every decision about AppsFlyer's hosts is checked in-process, with every remote resolution
or connection refused and recorded: nothing here can leave the machine, and a test fails if
a command so much as tried.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from _loopback import Loopback
from _network import remote_connections_refused

from simulator import signing, targets
from simulator.cli import main
from simulator.errors import TargetError
from simulator.profiles import load_profiles

PROD, SANDBOX, LOOP, REMOTE = targets.PRODUCTION, targets.SANDBOX, targets.LOOPBACK, targets.REMOTE

SPELLINGS = [
    ("https://events.appsflyer.com/v1.0/s2s/", PROD),
    ("https://events.appsflyer.com./v1.0/s2s/", PROD),  # a trailing dot resolves the same
    ("https://events.appsflyer.com../v1.0/s2s/", PROD),
    ("https://EVENTS.AppsFlyer.COM/v1.0/s2s/", PROD),
    ("https://user:pass@events.appsflyer.com/v1.0/s2s/", PROD),
    ("https://events.appsflyer.com:443/v1.0/s2s/", PROD),
    ("http://events.appsflyer.com:80/v1.0/s2s/", PROD),
    ("https://events.appsflyer.com/v1.0/c2s/", PROD),
    ("https://events.appsflyer.com/some/prefix/", PROD),
    ("https://events%2Eappsflyer.com/v1.0/s2s/", PROD),
    ("https://\uff45\uff56\uff45\uff4e\uff54\uff53.appsflyer.com/v1.0/s2s/", PROD),  # full-width

    ("https://events\u3002appsflyer\u3002com/v1.0/s2s/", PROD),  # ideographic full stops
    ("https://other.appsflyer.com/v1.0/s2s/", PROD),  # any live AppsFlyer host: opt-in
    ("https://appsflyer.com./", PROD),
    ("https://sandbox-events.appsflyer.com/v1.0/s2s/", SANDBOX),
    ("https://SANDBOX-EVENTS.appsflyer.com.:443/v1.0/c2s/", SANDBOX),
    ("https://u@sandbox-events.appsflyer.com./v1.0/s2s/", SANDBOX),
    # lookalikes that are somebody else's hosts
    ("https://events.appsflyer.com.example.org/v1.0/s2s/", REMOTE),
    ("https://eventsappsflyer.com/v1.0/s2s/", REMOTE),
    ("https://appsflyer.com.evil/", REMOTE),
    ("https://events.appsflyer.co/v1.0/s2s/", REMOTE),
    ("https://events.appsflyer.com@example.org/v1.0/s2s/", REMOTE),  # userinfo, not the host
    ("https://example.org/events.appsflyer.com/", REMOTE),
    ("https://10.0.0.1/v1.0/s2s/", REMOTE),
    # this machine
    ("http://127.0.0.1:8080/v1.0/s2s/", LOOP),
    ("http://127.9.9.9:1/v1.0/s2s/", LOOP),
    ("http://localhost:8080/v1.0/s2s/", LOOP),
    ("http://LOCALHOST.:8080/v1.0/s2s/", LOOP),
    ("http://[::1]:8080/v1.0/s2s/", LOOP),
    ("http://localhost.example.org/", REMOTE),
]


@pytest.mark.parametrize(("url", "kind"), SPELLINGS)
def test_every_spelling_of_a_host_gets_the_same_decision(url: str, kind: str) -> None:
    if kind == PROD:
        with pytest.raises(TargetError, match="without --allow-production"):
            targets.resolve_target(url)
    target = targets.resolve_target(url, allow_production=True)
    assert target.kind == kind
    assert targets.rate_cap(target, None) == (targets.PRODUCTION_DEFAULT_RATE
                                              if kind == PROD else None)


@pytest.mark.parametrize("url", [u for u, kind in SPELLINGS if kind in (PROD, SANDBOX)])
def test_appsflyer_hosts_never_sign_with_mock_keys(url: str) -> None:
    app = load_profiles().app()
    target = targets.resolve_target(url, allow_production=True)
    with pytest.raises(TargetError, match=r"set \$CTVSIM_DEV_KEY"):
        targets.signing_key(app, target, environ={})
    with pytest.raises(TargetError, match="never sign"):
        targets.signing_key(app, target, environ={"CTVSIM_KEY_SOURCE": "apps"})
    assert targets.signing_key(app, target, environ={"CTVSIM_DEV_KEY": "realkey"}) == "realkey"


def test_one_key_rule_for_every_target_and_its_overrides() -> None:
    app = load_profiles().app()
    loop = targets.resolve_target("http://127.0.0.1:9/v1.0/s2s/")
    remote = targets.resolve_target("https://mock.example.org/v1.0/s2s/")
    env = {"CTVSIM_DEV_KEY": "realkey"}
    table = [
        (None, env, app.dev_key),  # generate: traffic for the mock
        (loop, env, app.dev_key),
        (remote, env, "realkey"),
        (loop, {**env, "CTVSIM_KEY_SOURCE": "env"}, "realkey"),
        (None, {**env, "CTVSIM_KEY_SOURCE": "env"}, "realkey"),
        (remote, {**env, "CTVSIM_KEY_SOURCE": "apps"}, app.dev_key),  # a mock on another host
        (remote, {**env, "CTVSIM_KEY_SOURCE": "auto"}, "realkey"),
    ]
    for target, environ, key in table:
        assert targets.signing_key(app, target, environ=environ) == key, (target, environ)
    with pytest.raises(TargetError, match="CTVSIM_KEY_SOURCE must be one of auto, env, apps"):
        targets.signing_key(app, loop, environ={"CTVSIM_KEY_SOURCE": "both"})


@pytest.mark.parametrize("key", ["clé-non-ascii", "tab\there", "line\nbreak", " padded ", "\x7f"])
def test_a_dev_key_that_is_not_printable_ascii_is_a_usage_error_that_never_quotes_it(
        key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    traffic = _traffic(tmp_path)
    monkeypatch.setenv("CTVSIM_DEV_KEY", key)
    with remote_connections_refused(monkeypatch) as attempts:
        code = main(["send", str(traffic), "--target", "sandbox"])
    err = capsys.readouterr().err
    assert code == 2 and attempts == []
    assert "CTVSIM_DEV_KEY must be printable ASCII" in err and key.strip() not in err
    assert "Traceback" not in err


def _traffic(tmp_path: Path, devices: int = 3) -> Path:
    out = tmp_path / "traffic.jsonl"
    assert main(["generate", "--devices", str(devices), "--seed", "5", "-o", str(out)]) == 0
    return out


@pytest.mark.parametrize("spec", [
    "sandbox", "production", "https://sandbox-events.appsflyer.com./v1.0/s2s/",
    "https://events.appsflyer.com./v1.0/s2s/", "https://mock.example.org/v1.0/s2s/",
])
@pytest.mark.parametrize("extra", [[], ["--allow-production"], ["--rebase-time"]])
def test_send_without_a_key_refuses_before_any_connection(
        spec: str, extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    traffic = _traffic(tmp_path)
    monkeypatch.delenv("CTVSIM_DEV_KEY", raising=False)
    with remote_connections_refused(monkeypatch) as attempts:
        code = main(["send", str(traffic), "--target", spec, "--retries", "0", *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    assert attempts == []
    production = spec == "production" or spec.startswith("https://events.")
    refused_for = ("without --allow-production" if production and "--allow-production" not in extra
                   else "set $CTVSIM_DEV_KEY")
    assert refused_for in err, err


def test_load_with_a_trailing_dot_production_host_is_refused_before_any_connection(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CTVSIM_DEV_KEY", "realkey")
    with remote_connections_refused(monkeypatch) as attempts:
        code = main(["load", "--target", "https://events.appsflyer.com./v1.0/s2s/",
                     "--duration", "1s"])
    assert code == 2 and attempts == []
    assert "without --allow-production" in capsys.readouterr().err


def test_send_to_a_remote_target_re_signs_every_line_with_the_environment_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What arrives at a non-loopback target is signed with the real key, same bytes."""
    traffic = _traffic(tmp_path)
    monkeypatch.setenv("CTVSIM_DEV_KEY", "realkey")
    monkeypatch.setenv("CTVSIM_KEY_SOURCE", "env")  # the loopback server stands in for it
    with Loopback() as server:
        assert main(["send", str(traffic), "--target", server.url]) == 0
    lines = [orjson.loads(line) for line in traffic.read_bytes().splitlines()]
    assert sorted(r.body for r in server.received) == sorted(line["body"].encode()
                                                              for line in lines)
    for received in server.received:
        assert signing.verify(received.body, "realkey", received.headers["authorization"])


@pytest.mark.parametrize("path", [
    "../../__admin/reset", "session/app/roku/../../../__admin/reset",
    "/v1.0/s2s/session/app/roku/com.example.ctvstream",
    "session/app/roku/com.example.ctvstream?x=1", "session/app/roku/com.example.ctvstream#x",
    "session/app/roku/com.example.ctvstream/", "session/app/roku/com%2Eexample.ctvstream",
    "session%2Fapp%2Froku%2Fcom.example.ctvstream", "http://evil.example.org/session",
    "//evil.example.org/x", "session/app/amiga/com.example.ctvstream", "",
    "inapp/app/roku/com.example.ctvstream",  # a real path, but not this line's operation
])
def test_send_refuses_a_line_whose_path_is_not_exactly_its_operation_path(
        path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = {"time": 1, "operation": "session", "platform": "roku",
              "app_id": "com.example.ctvstream", "path": path,
              "headers": {"authorization": "x"}, "body": "{}"}
    good = orjson.loads(_traffic(tmp_path).read_bytes().splitlines()[0])
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps(record) + b"\n")
    with Loopback() as server:
        code = main(["send", str(bad), "--target", server.url])
    err = capsys.readouterr().err
    assert code == 2 and server.received == []
    assert f"{bad}:2: \"path\" must be exactly an operation path" in err


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "hardlink", "stdin"])
def test_send_never_writes_its_results_over_its_input(
        spelling: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    traffic = _traffic(tmp_path)
    before = traffic.read_bytes()
    results: Any = {
        "same": traffic, "dot": tmp_path / "." / ".." / tmp_path.name / traffic.name,
        "symlink": tmp_path / "link.jsonl", "hardlink": tmp_path / "hard.jsonl",
        "stdin": traffic,
    }[spelling]
    if spelling == "symlink":
        results.symlink_to(traffic)
    if spelling == "hardlink":
        results.hardlink_to(traffic)
    source = str(traffic)
    if spelling == "stdin":
        source = "-"
        monkeypatch.setattr("sys.stdin", open(traffic))  # noqa: SIM115 (closed by pytest)
    with Loopback() as server:
        code = main(["send", source, "--target", server.url, "--results", str(results)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "is one of this command's inputs" in err
    assert server.received == [] and traffic.read_bytes() == before


def test_generate_never_writes_over_a_profile_it_read(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    apps = profiles / "apps.yaml"
    bundled = load_profiles().sources
    apps.write_bytes(next(p for p in bundled if p.name == "apps.yaml").read_bytes())
    before = apps.read_bytes()
    code = main(["generate", "--devices", "2", "--profiles", str(profiles), "-o", str(apps)])
    assert code == 2 and apps.read_bytes() == before
    assert "is one of this command's inputs" in capsys.readouterr().err


def test_send_rebase_time_to_a_loopback_mock_signs_with_the_apps_key_despite_an_exported_key(
        tmp_path: Path, ctv_mock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    traffic = _traffic(tmp_path)
    monkeypatch.setenv("CTVSIM_DEV_KEY", "a-real-key-for-sandbox")
    assert main(["send", str(traffic), "--target", ctv_mock.url, "--rebase-time"]) == 0
    assert ctv_mock.stats()["accepted"] == len(traffic.read_bytes().splitlines())
