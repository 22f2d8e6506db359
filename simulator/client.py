"""An httpx client for the S2S API: targets, dev keys, retries, pacing, production safety.

The sync ``AppsFlyerClient`` and the async ``AsyncAppsFlyerClient`` share everything but the
waiting: target resolution, the retry policy (exponential backoff with full jitter, honouring
``Retry-After``), the pacer that caps the request rate and the outcome classification live in
small public pieces that the load harness reuses too. A retry re-sends the same bytes, so the
same ``request_id`` and signature: the receiver can recognise it as a retry.

Dev keys come from the environment (``CTVSIM_DEV_KEY``) or, for local targets only, from the
apps file's mock keys. They are never printed, logged or shown by ``repr``.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import math
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import httpx

from simulator import contract
from simulator.errors import TargetError, UsageError
from simulator.payloads import CONTENT_TYPE
from simulator.profiles import App
from simulator.signing import Signer

__all__ = [
    "DEV_KEY_ENV", "MOCK_BASE_URL", "PRODUCTION_DEFAULT_RATE", "AppsFlyerClient",
    "AsyncAppsFlyerClient", "Pacer", "RetryPolicy", "SendResult", "Target", "resolve_dev_key",
    "resolve_target",
]

MOCK_BASE_URL: Final = "http://127.0.0.1:8080/v1.0/s2s/"
DEV_KEY_ENV: Final = "CTVSIM_DEV_KEY"
# Requests per second to production unless the caller raises it explicitly: enough to check
# an integration, far from a load test against a live account.
PRODUCTION_DEFAULT_RATE: Final = 5.0
NAMED_TARGETS: Final[Mapping[str, str]] = {
    "production": contract.PRODUCTION_BASE_URL,
    "sandbox": contract.SANDBOX_BASE_URL,
    "mock": MOCK_BASE_URL,
}
_PRODUCTION_HOST: Final = urlsplit(contract.PRODUCTION_BASE_URL).hostname
NO_RETRY_STATUSES: Final = frozenset({400, 401, 403, 413})
TOO_MANY_REQUESTS: Final = 429


# --------------------------------------------------------------------------- targets and keys


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # "production", "sandbox", "mock", or the URL as given
    base_url: str  # always ends with "/"
    production: bool
    local: bool  # loopback host: the apps file's mock keys may sign for it

    def url(self, path: str) -> str:
        """``base + path``: a base URL's own path prefix is kept, never replaced."""
        return self.base_url + path.lstrip("/")


def resolve_target(spec: str, *, allow_production: bool = False) -> Target:
    """A target by name (production, sandbox, mock) or any http(s) base URL.

    Production, by name or by its host in a URL, is refused without ``allow_production``.
    """
    name = spec.strip()
    base = NAMED_TARGETS.get(name, name)
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(
            f"unknown target {spec!r}: use production, sandbox, mock or an http(s):// base URL"
        )
    if not base.endswith("/"):
        base += "/"
    production = parts.hostname == _PRODUCTION_HOST
    if production and not allow_production:
        raise TargetError(
            "refusing to send to production without --allow-production "
            "(allow_production=True); try --target sandbox first"
        )
    return Target(name, base, production, _is_loopback(parts.hostname))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_dev_key(app: App | None, target: Target | None = None, *,
                    env_var: str = DEV_KEY_ENV, environ: Mapping[str, str] | None = None,
                    ) -> str:
    """The key to sign with: ``$CTVSIM_DEV_KEY`` when set, else the app's mock key.

    The apps file's keys are for the local mock only, so a non-local target without the
    environment variable is an error rather than a silently wrong signature.
    """
    key = (os.environ if environ is None else environ).get(env_var)
    if key:
        return key
    if app is not None and (target is None or target.local):
        return app.dev_key
    where = "the target" if target is None else target.name
    raise TargetError(f"set ${env_var} to the app's dev key to send to {where}")


# --------------------------------------------------------------------------- retries, pacing


@dataclass(frozen=True, slots=True)
class SendResult:
    """The final outcome of one request after its retries."""

    status: int | None  # the last HTTP status; None when no response came
    attempts: int
    latency_s: float  # from the first attempt to the final outcome, backoff included
    error: str | None  # why it finally failed (None on success)

    @property
    def ok(self) -> bool:
        return self.status in contract.SUCCESS_STATUSES


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Which outcomes are retried and how long to wait before each retry.

    Retried: connection errors, timeouts, 5xx and 429; never 400, 401, 403, 413 (the same
    bytes would get the same answer). Waits are exponential with full jitter
    (uniform in ``[0, min(max_backoff_s, backoff_s * 2**n)]``); a ``Retry-After`` in
    seconds or as an HTTP date is honoured instead, up to ``max_retry_after_s``.
    """

    retries: int = 2
    backoff_s: float = 0.2
    max_backoff_s: float = 10.0
    max_retry_after_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def retryable(self, status: int | None) -> bool:
        """Whether an outcome may be retried (``None``: a connection error or timeout)."""
        if status is None:
            return True
        if status in NO_RETRY_STATUSES:
            return False
        return status == TOO_MANY_REQUESTS or status >= 500

    def delay(self, retry: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (0 for the first)."""
        honoured = _retry_after_seconds(retry_after)
        if honoured is not None:
            return min(honoured, self.max_retry_after_s)
        return self.rng.uniform(0, min(self.max_backoff_s, self.backoff_s * 2 ** retry))

    def after(self, attempts: int, status: int | None, retry_after: str | None) -> float | None:
        """The wait before the next attempt, or None when the outcome is final."""
        done = status in contract.SUCCESS_STATUSES or attempts > self.retries
        if done or not self.retryable(status):
            return None
        return self.delay(attempts - 1, retry_after)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


class Pacer:
    """Spaces calls evenly at most ``rate`` per second; ``reserve`` says how long to wait."""

    def __init__(self, rate: float) -> None:
        if not rate > 0:
            raise UsageError(f"rate must be > 0 requests/s, got {rate}")
        self.interval = 1.0 / rate
        self._next = 0.0

    def reserve(self, now: float) -> float:
        start = max(now, self._next)
        self._next = start + self.interval
        return start - now


# --------------------------------------------------------------------------- the clients


class _ClientBase:
    """Everything the sync and async clients share; they differ only in how they wait."""

    def __init__(self, target: str | Target, *, dev_key: str | None, allow_production: bool,
                 retry: RetryPolicy | None, timeout: float, max_rate: float | None) -> None:
        self.target = (target if isinstance(target, Target)
                       else resolve_target(target, allow_production=allow_production))
        if self.target.production and not allow_production:
            raise TargetError("refusing to send to production without allow_production=True")
        if self.target.production and max_rate is None:
            max_rate = PRODUCTION_DEFAULT_RATE
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_rate = max_rate
        self._pacer = Pacer(max_rate) if max_rate is not None else None
        self._signer = Signer(dev_key) if dev_key else None

    def _headers(self, body: bytes, authorization: str | None) -> dict[str, str]:
        if authorization is None:
            if self._signer is None:
                raise TargetError("no dev key to sign with: pass dev_key or an authorization")
            authorization = self._signer(body)
        return {"authorization": authorization, "content-type": CONTENT_TYPE}

    def _limits(self, max_connections: int) -> dict[str, Any]:
        return {
            "timeout": httpx.Timeout(self.timeout),
            "limits": httpx.Limits(max_connections=max_connections,
                                   max_keepalive_connections=max_connections),
        }

    def _pace(self) -> float:
        return 0.0 if self._pacer is None else self._pacer.reserve(time.monotonic())

    def __repr__(self) -> str:
        key = "<hidden>" if self._signer is not None else None
        return (f"{type(self).__name__}(target={self.target.name!r}, "
                f"base_url={self.target.base_url!r}, dev_key={key})")


class _Exchange:
    """One request's attempts: what to wait before the next one, and the final result.

    Both clients drive it the same way (``while (wait := x.next_wait()) is not None``:
    sleep, post, ``record``), so the retry logic exists once, free of any I/O.
    """

    __slots__ = ("_client", "_wait", "attempts", "body", "headers", "result", "started", "url")

    def __init__(self, client: _ClientBase, path: str, body: bytes,
                 authorization: str | None) -> None:
        self._client = client
        self.url = client.target.url(path)
        self.body = body
        self.headers = client._headers(body, authorization)
        self.attempts = 0
        self.started = time.monotonic()
        self.result: SendResult | None = None
        self._wait = 0.0

    def next_wait(self) -> float | None:
        """Seconds to wait before the next attempt (backoff and pacing), or None when done."""
        if self.result is not None:
            return None
        return self._wait + self._client._pace()

    def record(self, response: httpx.Response | None, error: Exception | None) -> None:
        self.attempts += 1
        if response is None:
            status, retry_after = None, None
            failure = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        else:
            status, retry_after = response.status_code, response.headers.get("retry-after")
            failure = None if status in contract.SUCCESS_STATUSES else f"HTTP {status}"
        wait = self._client.retry.after(self.attempts, status, retry_after)
        if wait is None:
            self.result = SendResult(status, self.attempts, time.monotonic() - self.started,
                                     failure)
        else:
            self._wait = wait


class AppsFlyerClient(_ClientBase):
    """Blocking client with keep-alive pooling; use as a context manager or call ``close``."""

    def __init__(self, target: str | Target = "mock", *, dev_key: str | None = None,
                 allow_production: bool = False, retry: RetryPolicy | None = None,
                 timeout: float = 10.0, max_rate: float | None = None,
                 max_connections: int = 100, transport: httpx.BaseTransport | None = None,
                 ) -> None:
        super().__init__(target, dev_key=dev_key, allow_production=allow_production,
                         retry=retry, timeout=timeout, max_rate=max_rate)
        self._http = httpx.Client(transport=transport, **self._limits(max_connections))

    def send(self, path: str, body: bytes, authorization: str | None = None) -> SendResult:
        """POST ``body`` to ``base + path`` (signed with the dev key unless ``authorization``
        is given), retrying per the policy with the same bytes."""
        exchange = _Exchange(self, path, body, authorization)
        while (wait := exchange.next_wait()) is not None:
            if wait > 0:
                time.sleep(wait)
            exchange.record(*self._post(exchange))
        return exchange.result  # type: ignore[return-value]

    def _post(self, exchange: _Exchange) -> tuple[httpx.Response | None, Exception | None]:
        try:
            return self._http.post(exchange.url, content=exchange.body,
                                   headers=exchange.headers), None
        except httpx.RequestError as error:  # transport errors, timeouts, bad responses
            return None, error

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AppsFlyerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncAppsFlyerClient(_ClientBase):
    """The asyncio twin of AppsFlyerClient: same arguments, same results, ``await send``."""

    def __init__(self, target: str | Target = "mock", *, dev_key: str | None = None,
                 allow_production: bool = False, retry: RetryPolicy | None = None,
                 timeout: float = 10.0, max_rate: float | None = None,
                 max_connections: int = 100,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(target, dev_key=dev_key, allow_production=allow_production,
                         retry=retry, timeout=timeout, max_rate=max_rate)
        self._http = httpx.AsyncClient(transport=transport, **self._limits(max_connections))

    async def send(self, path: str, body: bytes, authorization: str | None = None,
                   ) -> SendResult:
        exchange = _Exchange(self, path, body, authorization)
        while (wait := exchange.next_wait()) is not None:
            if wait > 0:
                await asyncio.sleep(wait)
            exchange.record(*await self._post(exchange))
        return exchange.result  # type: ignore[return-value]

    async def _post(self, exchange: _Exchange,
                    ) -> tuple[httpx.Response | None, Exception | None]:
        try:
            return await self._http.post(exchange.url, content=exchange.body,
                                         headers=exchange.headers), None
        except httpx.RequestError as error:  # transport errors, timeouts, bad responses
            return None, error

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncAppsFlyerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
