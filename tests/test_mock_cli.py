"""`ctvsim mock` as a user runs it: URLs printed, requests served, graceful SIGINT/SIGTERM
with the SQLite journal flushed, and bad flags or files refused in one line with exit 2."""

from __future__ import annotations

import signal
import socket
import sqlite3
import subprocess
import sys

import httpx
import pytest
from _mock_support import APP, body, path, post, raw, root, write_apps_yaml

from simulator import contract
from simulator.cli import main
from simulator.mock import MockServer


def start(*args: str) -> tuple[subprocess.Popen[bytes], str, str]:
    process = subprocess.Popen([sys.executable, "-m", "simulator", "mock", "--port", "0", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
    base, admin = MockServer._read_urls(process)
    return process, base, admin


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_mock_prints_urls_serves_and_stops_gracefully_flushing_the_journal(
        tmp_path, stop_signal):
    database = tmp_path / "journal.db"
    process, base, admin = start("--apps", write_apps_yaml(tmp_path), "--journal", str(database))
    try:
        assert base.startswith("http://127.0.0.1:") and base.endswith("/v1.0/s2s/")
        assert admin == base.replace("/v1.0/s2s/", "/__admin/")
        with httpx.Client(trust_env=False, timeout=10) as client:
            for _ in range(30):
                assert post(client, root(base), path(), raw(body())).status_code == 202
            assert client.get(admin + "stats").json()["accepted"] == 30
    finally:
        process.send_signal(stop_signal)
        assert process.wait(timeout=15) == 0
    stderr = process.stderr.read().decode()
    assert "Traceback" not in stderr and APP.dev_key not in stderr
    rows = sqlite3.connect(database).execute("SELECT count(*) FROM requests").fetchone()
    assert rows == (30,)


def test_flags_and_a_fault_file_configure_the_process(tmp_path):
    faults = tmp_path / "faults.yaml"
    faults.write_text("rules:\n  - {status: 500, first: 1}\n")
    process, base, admin = start("--apps", write_apps_yaml(tmp_path), "--faults", str(faults),
                                 "--fault", "status=503,operation=inapp", "--ring-size", "0")
    try:
        with httpx.Client(trust_env=False, timeout=10) as client:
            assert post(client, root(base), path(), raw(body())).status_code == 500
            assert post(client, root(base), path(), raw(body())).status_code == 202
            inapp = contract.INAPP
            assert post(client, root(base), path(inapp), raw(body(inapp))).status_code == 503
            assert client.get(admin + "requests").json()["requestJournalDisabled"] is True
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_mock_server_in_a_subprocess_with_a_fault_mapping(tmp_path):
    with MockServer(apps_file=write_apps_yaml(tmp_path), subprocess=True, cpus={0},
                    faults={"rules": [{"status": 429, "first": 1}]}) as server, \
            httpx.Client(trust_env=False) as client:
        first = post(client, root(server.url), path(), raw(body()))
        assert (first.status_code, first.headers["retry-after"]) == (429, "1")
        assert post(client, root(server.url), path(), raw(body())).status_code == 202
        assert server.stats()["injected"] == {"429": 1}
        assert APP.app_id in {app.app_id for app in server.apps}


def _busy_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize(("args", "message"), [
    (["--workers", "2"], "--workers > 1 is not supported"),
    (["--port", "70000"], "--port: must be <= 65535, got 70000"),
    (["--ring-size", "-1"], "--ring-size: must be >= 0, got -1"),
    (["--dedup-window", "0"], "--dedup-window: must be > 0, got 0"),
    (["--port", "http"], "--port: 'http' is not a whole number"),
    (["--faults", "/nonexistent/faults.yaml"], "faults.yaml:1:1: (file): cannot read"),
    (["--fault", "status=418"], "status: must be one of"),
    (["--fault", "latency=gamma:1"], "write fixed:MS"),
    (["--journal", "/nonexistent/dir/journal.db"], "cannot open as SQLite"),
    (["--apps", "/nonexistent/apps.yaml"], "apps.yaml"),
])
def test_bad_flags_and_files_exit_2_with_one_clear_line(capsys, args, message):
    assert main(["mock", "--port", "0", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ctvsim: error:")
    assert message in err[0]


def test_a_broken_fault_file_names_the_file(tmp_path, capsys):
    broken = tmp_path / "faults.yaml"
    broken.write_text("rules: [ {status: 503\n")
    assert main(["mock", "--port", "0", "--faults", str(broken)]) == 2
    assert str(broken) in capsys.readouterr().err
    broken.write_text("rules:\n  - {status: 503, colour: red}\n")
    assert main(["mock", "--port", "0", "--faults", str(broken)]) == 2
    assert "faults.yaml:2:27: faults.rules[0].colour: unknown key" in capsys.readouterr().err


def test_a_port_in_use_is_a_usage_error(capsys):
    sock, port = _busy_port()
    with sock:
        assert main(["mock", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
