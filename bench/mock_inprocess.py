"""Benchmark: the mock's own Python work per request, with no sockets and no server.

    .venv/bin/python bench/mock_inprocess.py [--requests 50000]

Drives the real ``MockApp`` (``build_app()``, the bundled apps, journal ring on) as uvicorn
would, one valid signed session per request with a new request id each, and prints the
microseconds per request. The collector is tuned as ``ctvsim mock`` tunes it (start-up
objects frozen, young collections every 100,000 allocations), because the journal's entries
are what it would otherwise scan. Comparing two versions of the code: run both, alternating,
in one session, and take the median of the paired ratios (bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import uuid
from typing import Any

import _common
import orjson

from simulator import contract, signing
from simulator.mock.server import build_app
from simulator.profiles import load_apps

APP_ID = "com.example.ctvstream"


def requests(n: int) -> list[tuple[bytes, bytes]]:
    key = load_apps()[APP_ID].dev_key
    made = []
    for i in range(n):
        body = orjson.dumps({
            "timestamp": int(time.time() * 1000), "request_id": str(uuid.UUID(int=i)),
            "ip": "93.184.216.34", "device_model": "3941X", "device_os_version": "12.5.0",
            "app_version": "3.5.0",
            "device_ids": [{"type": "custom", "value": str(uuid.UUID(int=i % 1000))}],
        })
        made.append((body, signing.sign(body, key).encode()))
    return made


async def drive(app: Any, made: list[tuple[bytes, bytes]]) -> float:
    path = "/v1.0/s2s/" + contract.relative_path("session", "roku", APP_ID)

    async def send(_: Any) -> None:
        return None

    started = time.perf_counter()
    for body, signature in made:
        message = {"type": "http.request", "body": body, "more_body": False}

        async def receive(message: dict[str, Any] = message) -> dict[str, Any]:
            return message

        scope = {"type": "http", "path": path, "method": "POST", "query_string": b"",
                 "headers": [(b"authorization", signature),
                             (b"content-length", str(len(body)).encode())]}
        await app(scope, receive, send)
    return (time.perf_counter() - started) / len(made) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    args = _common.parse(parser, {"requests": 2_000})
    made = requests(args.requests)
    app = build_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    micros = asyncio.run(drive(app, made))
    print(f"{micros:.2f} us per request")
    _common.record(args, __file__, {"requests": args.requests, "us_per_request": round(micros, 3)})


if __name__ == "__main__":
    main()
