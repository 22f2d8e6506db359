"""`ctvsim load --channel c2s|mixed`, run for real: short headless Locust runs of devices that
send as their SDKs do, against the real mock on loopback, reconciled per channel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.mock.server import MockServer

pytestmark = [pytest.mark.xdist_group("load"), pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parent.parent


def ctvsim_load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", "load", *args],
                          capture_output=True, text=True, timeout=110, cwd=ROOT)


def test_a_c2s_run_sends_what_the_sdks_send_and_reconciles(tmp_path: Path) -> None:
    with MockServer() as mock:
        done = ctvsim_load("--target", mock.url, "--rate", "200", "--duration", "4s",
                           "--channel", "c2s", "--report-dir", str(tmp_path),
                           "--threshold", "error_rate[c2s]<=0%", "--threshold", "count[c2s]>0")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "leaves out vega" in done.stderr
        summary = json.loads((tmp_path / "summary.json").read_text())
        assert summary["run"]["channel"] == "c2s"
        assert set(summary["per_channel"]) == {"c2s"}
        assert summary["reconciliation"]["passed"]
        assert set(summary["reconciliation"]["per_channel"]) == {"c2s"}
        stats = mock.stats()
        assert set(stats["by_channel"]) == {"c2s"}
        assert stats["warnings"].get("sdk_deviation", 0) > 0  # Roku's and others' quirks
        entries = mock.requests(channel="c2s", limit=500)
        roku = [e for e in entries if e["platform"] == "roku"]
        assert roku and all(e["user_agent"].startswith("Roku/DVP-") for e in roku)
        # Each device's public IPv4 travelled in X-Forwarded-For, not 127.0.0.1.
        assert all(not e["address"].startswith("127.") for e in entries)
        assert "vega" not in {e["platform"] for e in entries}


def test_a_mixed_run_under_faults_reconciles_each_channel(tmp_path: Path) -> None:
    """Half the devices on C2S: Roku's and the HTML5 SDK's devices go on to sessions after a
    first_open that failed (their counters move whatever the answer), so the mock sees some
    sessions before any first_open: counted as the SDKs' doing, never as lost or misordered."""
    done = ctvsim_load("--rate", "300", "--duration", "5s", "--channel", "mixed",
                       "--mock-fault", "status=500,probability=0.1", "--retries", "1",
                       "--report-dir", str(tmp_path))
    summary = json.loads((tmp_path / "summary.json").read_text())
    reconciliation = summary["reconciliation"]
    assert reconciliation["passed"], reconciliation["problems"]
    assert done.returncode in (0, 1)  # final failures are the faults' (no threshold)
    assert set(summary["per_channel"]) == {"s2s", "c2s"}
    per_channel = reconciliation["per_channel"]
    assert all(c["harness_attempts"] == c["mock_journaled"] > 0 for c in per_channel.values())
    assert reconciliation["lost"] == 0 and reconciliation["misordered"] == 0
    assert reconciliation["mock_ordering_warnings"] <= reconciliation["sent_before_first_open"]
    names = {row["platform"] for row in summary["rows"]}
    assert "vega" in names  # vega's devices are all S2S in a mixed run
    assert "by channel: c2s " in done.stdout and "; s2s " in done.stdout


def test_sdk_quirks_off_sends_no_sdk_deviation(tmp_path: Path) -> None:
    with MockServer() as mock:
        done = ctvsim_load("--target", mock.url, "--rate", "200", "--duration", "3s",
                           "--channel", "c2s", "--sdk-quirks", "off")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        assert "SDK quirks off" in done.stdout
        stats = mock.stats()
        assert stats["by_channel"]["c2s"]["202"] > 0
        assert "sdk_deviation" not in stats["warnings"]


def test_a_mixed_run_needs_a_target_that_serves_both_channels() -> None:
    done = ctvsim_load("--target", "http://127.0.0.1:9/relay/", "--channel", "mixed",
                       "--duration", "1s")
    assert done.returncode == 2
    assert "one channel's base URL: sending on both needs a base ending in /v1.0/s2s/" \
        in done.stderr and "Traceback" not in done.stderr


def test_a_distributed_c2s_run_counts_exactly_across_workers(tmp_path: Path) -> None:
    """Workers learn the target from the master's options, not its shared base URL (which
    names no channel): every worker's C2S requests reach /v1.0/c2s/ and reconcile."""
    done = ctvsim_load("--rate", "300", "--duration", "4s", "--channel", "mixed",
                       "--processes", "2", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["reconciliation"]["passed"]
    assert summary["rate"]["scheduled"] == 1200
    assert {c for c, v in summary["reconciliation"]["per_channel"].items()
            if v["mock_journaled"]} == {"s2s", "c2s"}
