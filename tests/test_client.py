"""The httpx client over real HTTP on loopback: targets, retries, keys, production safety."""

from __future__ import annotations

import asyncio
import random
import socket
import time

import pytest
from _loopback import Loopback, Reply

from simulator import client, retries, signing, targets
from simulator.errors import InputError, TargetError
from simulator.profiles import load_profiles

PATH = "session/app/roku/com.example.ctvstream"
BODY = b'{"timestamp":1,"request_id":"0878c17b-1a15-4570-8c2d-551cb0aef7b5","ip":"8.8.8.8"}'
FAST = retries.RetryPolicy(retries=2, backoff_s=0.01, max_backoff_s=0.05, rng=random.Random(1))


def test_500_then_202_is_one_success_in_two_attempts_with_the_same_bytes() -> None:
    with Loopback([Reply(500)]) as server, client.AppsFlyerClient(
        server.url, retry=FAST
    ) as http:
        result = http.send(PATH, BODY, "sig")
    assert (result.ok, result.status, result.attempts, result.error) == (True, 202, 2, None)
    assert [r.body for r in server.received] == [BODY, BODY]
    assert [r.headers["authorization"] for r in server.received] == ["sig", "sig"]


@pytest.mark.parametrize("status", [400, 401, 403, 413])
def test_client_errors_are_final(status: int) -> None:
    with Loopback([Reply(status)]) as server, client.AppsFlyerClient(
        server.url, retry=FAST
    ) as http:
        result = http.send(PATH, BODY, "sig")
    assert (result.ok, result.status, result.attempts) == (False, status, 1)
    assert result.error == f"HTTP {status}"
    assert len(server.received) == 1


def test_a_timeout_is_retried() -> None:
    with Loopback([Reply(202, delay_s=1.0)]) as server, client.AppsFlyerClient(
        server.url, retry=FAST, timeout=0.2
    ) as http:
        result = http.send(PATH, BODY, "sig")
    assert (result.ok, result.attempts) == (True, 2)
    assert len(server.received) == 2


def test_retries_run_out_and_the_last_error_is_reported() -> None:
    with Loopback([Reply(503)] * 5) as server, client.AppsFlyerClient(
        server.url, retry=FAST
    ) as http:
        result = http.send(PATH, BODY, "sig")
    assert (result.ok, result.status, result.attempts, result.error) == (
        False, 503, 3, "HTTP 503")
    assert len(server.received) == 3


def test_429_honours_retry_after() -> None:
    with Loopback([Reply(429, {"Retry-After": "0.4"})]) as server, client.AppsFlyerClient(
        server.url, retry=FAST
    ) as http:
        started = time.monotonic()
        result = http.send(PATH, BODY, "sig")
        elapsed = time.monotonic() - started
    assert (result.ok, result.attempts) == (True, 2)
    assert elapsed >= 0.4
    assert result.latency_s >= 0.4


def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with client.AppsFlyerClient(f"http://127.0.0.1:{port}/v1.0/s2s/", retry=FAST) as http:
        result = http.send(PATH, BODY, "sig")
    assert (result.ok, result.status, result.attempts) == (False, None, 3)
    assert result.error is not None and result.error.startswith("ConnectError")


def test_a_base_url_keeps_its_own_path_prefix() -> None:
    with Loopback(prefix="/gateway/af/v1.0/s2s/") as server, client.AppsFlyerClient(
        server.url
    ) as http:
        assert http.send(PATH, BODY, "sig").ok
    assert server.received[0].path == "/gateway/af/v1.0/s2s/" + PATH


def test_the_client_signs_with_its_dev_key_and_hides_it() -> None:
    key = "w8sZzy8EaPaxFKfaoTqUi6"
    with Loopback() as server, client.AppsFlyerClient(server.url, dev_key=key) as http:
        assert http.send(PATH, BODY).ok
        assert key not in repr(http)
    received = server.received[0]
    assert received.headers["content-type"] == "application/json"
    assert signing.verify(received.body, key, received.headers["authorization"])


def test_async_client_retries_the_same_way() -> None:
    async def main(url: str) -> retries.SendResult:
        async with client.AsyncAppsFlyerClient(url, retry=FAST) as http:
            return await http.send(PATH, BODY, "sig")

    with Loopback([Reply(500)]) as server:
        result = asyncio.run(main(server.url))
    assert (result.ok, result.attempts) == (True, 2)
    assert [r.body for r in server.received] == [BODY, BODY]


# --------------------------------------------------------------------------- targets, keys


def test_named_targets() -> None:
    assert targets.resolve_target("mock").base_url == "http://127.0.0.1:8080/v1.0/s2s/"
    assert targets.resolve_target("mock").local
    sandbox = targets.resolve_target("sandbox")
    assert sandbox.base_url == "https://sandbox-events.appsflyer.com/v1.0/s2s/"
    assert not sandbox.local and not sandbox.production
    assert targets.resolve_target("http://localhost:9/x").url("a/b") == "http://localhost:9/x/a/b"


@pytest.mark.parametrize("spec", ["production", "https://events.appsflyer.com/v1.0/s2s/"])
def test_production_needs_the_opt_in(spec: str) -> None:
    with pytest.raises(TargetError, match="allow-production"):
        targets.resolve_target(spec)
    with pytest.raises(InputError):
        client.AppsFlyerClient(spec)
    target = targets.resolve_target(spec, allow_production=True)
    assert target.production
    capped = client.AppsFlyerClient(target, allow_production=True)
    assert capped.max_rate == targets.PRODUCTION_DEFAULT_RATE
    raised = client.AppsFlyerClient(target, allow_production=True, max_rate=50)
    assert raised.max_rate == 50
    capped.close()
    raised.close()


@pytest.mark.parametrize("spec", ["prod", "ftp://example.com/", ""])
def test_unknown_targets_are_usage_errors(spec: str) -> None:
    with pytest.raises(TargetError, match="unknown target"):
        targets.resolve_target(spec)


def test_remote_targets_sign_with_the_environment_key_and_loopback_with_the_mock_key() -> None:
    app = load_profiles().apps["com.example.ctvstream"]
    env = {"CTVSIM_DEV_KEY": "fromenv"}
    mock, sandbox = targets.resolve_target("mock"), targets.resolve_target("sandbox")
    assert targets.signing_key(app, sandbox, environ=env) == "fromenv"
    assert targets.signing_key(app, mock, environ=env) == app.dev_key
    assert targets.signing_key(app, mock, environ={}) == app.dev_key
    with pytest.raises(TargetError, match=r"\$CTVSIM_DEV_KEY") as error:
        targets.signing_key(app, sandbox, environ={})
    assert app.dev_key not in str(error.value)


# --------------------------------------------------------------------------- policy, pacing


def test_backoff_is_full_jitter_within_the_exponential_cap() -> None:
    policy = retries.RetryPolicy(backoff_s=0.1, max_backoff_s=0.5, rng=random.Random(3))
    for retry, cap in [(0, 0.1), (1, 0.2), (2, 0.4), (5, 0.5)]:
        delays = [policy.delay(retry) for _ in range(500)]
        assert min(delays) >= 0 and max(delays) <= cap
        assert max(delays) > 0.8 * cap  # spread over the whole range, not a fixed step
    assert policy.delay(0, "7") == 7.0
    assert policy.delay(0, "1000") == policy.max_retry_after_s
    assert policy.delay(0, "Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert 0 <= policy.delay(0, "soon") <= 0.1  # unreadable: ordinary backoff


def test_pacer_spaces_calls_at_the_rate() -> None:
    pacer = retries.Pacer(10)
    waits = [pacer.reserve(100.0) for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert pacer.reserve(200.0) == 0.0
