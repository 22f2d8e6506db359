"""Where ctv-simulator relies on another library's internals, a changed library fails with
what is needed, instead of quietly behaving differently."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from _mock_support import APPS, body, path, raw

from simulator import signing
from simulator.mock.server import build_app


def _problems(before: str = "") -> list[str]:
    """compat.problems() in a process of its own: importing Locust monkey-patches with gevent,
    which the test process must not be."""
    code = (f"import json\nfrom locust.stats import StatsCSV\n{before}\n"
            "from simulator.load import compat\nprint(json.dumps(compat.problems()))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.splitlines()[-1])


def test_the_locust_internals_we_use_are_there() -> None:
    assert _problems() == []


def test_a_missing_locust_internal_names_the_versions_needed() -> None:
    [problem] = _problems("del StatsCSV._requests_data_rows")
    assert problem.startswith("locust.stats.StatsCSV._requests_data_rows is not there: "
                              "ctv-simulator needs locust>=2.30,<3 (installed: ")


def _drive(app: Any, fault: str) -> list[dict[str, Any]]:
    """One signed request through the ASGI app with no server under it (no connection)."""
    content = raw(body())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": content, "more_body": False}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    scope = {"type": "http", "method": "POST", "path": path(), "query_string": b"",
             "headers": [(b"authorization", signing.sign(content, APPS[0].dev_key).encode()),
                         (b"x-mock-fault", fault.encode())]}
    asyncio.run(app(scope, receive, send))
    return sent


@pytest.mark.parametrize("fault", ["reset", "empty"])
def test_a_fault_below_http_says_it_needs_the_connection_off_uvicorn(fault: str) -> None:
    app = build_app(apps=APPS)
    start, answer = _drive(app, fault)
    assert start["status"] == 500
    assert b"needs the connection, which this server does not expose" in answer["body"]
    assert b"uvicorn>=0.30,<1" in answer["body"]
    assert app.journal.stats()["injected"] == {fault: 1}
