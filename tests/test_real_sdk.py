"""AppsFlyer's own published HTML5 CTV SDK (npm `appsflyer-html5-ctv-sdk`), run in Node as a
Samsung Tizen app would run it (tests/sdk/html5_tizen.mjs stubs the TV's APIs and points the
SDK's hard-coded host at the mock on loopback), against the real mock: its first_open, in-app
event and session are all accepted. Skipped, saying why, where Node or the package is not to
be had."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.mock import MockServer
from simulator.profiles import load_profiles

pytestmark = pytest.mark.timeout(180)

SDK_PACKAGE = "appsflyer-html5-ctv-sdk@0.0.5"  # pinned: the SDK version these facts are of
SCRIPT = Path(__file__).resolve().parent / "sdk" / "html5_tizen.mjs"


@pytest.fixture(scope="module")
def html5_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SDK's package directory, installed from the npm registry for this test run."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js and npm are needed to run AppsFlyer's HTML5 SDK; not installed")
    prefix = tmp_path_factory.mktemp("html5-sdk")
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix",
                           str(prefix), SDK_PACKAGE], capture_output=True, text=True,
                          timeout=150)
    package = prefix / "node_modules" / "appsflyer-html5-ctv-sdk"
    if done.returncode != 0 or not package.is_dir():
        pytest.skip(f"npm could not install {SDK_PACKAGE}: {done.stderr.strip()[-300:]}")
    return package


@pytest.fixture
def bundled_mock() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


def test_the_html5_sdk_gets_202_for_first_open_inapp_and_session(
        html5_sdk: Path, bundled_mock: MockServer) -> None:
    app = load_profiles().app("com.example.ctvstream")
    root = bundled_mock.url.split("/v1.0/")[0]
    done = subprocess.run(["node", str(SCRIPT), str(html5_sdk), root, app.app_id,
                           app.dev_key], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    sent = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [(r["url"].split("/")[3], r["status"]) for r in sent] == [
        ("first_open", 202), ("inapp", 202), ("session", 202)]
    assert app.dev_key not in done.stdout + done.stderr
    entries = {e["operation"]: e for e in bundled_mock.requests(channel="c2s")}
    assert {op: e["outcome"] for op, e in entries.items()} == {
        "first_open": "accepted", "inapp": "accepted", "session": "accepted"}
    assert entries["first_open"]["warnings"] == [] and entries["session"]["warnings"] == []
    [warning] = entries["inapp"]["warnings"]
    assert "event_custom_parameters" in warning and "HTML5" in warning
    stats = bundled_mock.stats()
    assert stats["by_channel"] == {"c2s": {"202": 3}}
    assert "ordering" not in stats["warnings"]  # the first_open came first
