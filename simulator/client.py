"""An httpx client for the events API (S2S, or C2S with an SDK's headers), sync and async, on
the shared targets and retry policy.

The sync ``AppsFlyerClient`` and the async ``AsyncAppsFlyerClient`` share everything but the
waiting: target resolution and keys (``targets.py``), the retry policy and the pacer that caps
the request rate (``retries.py``, which the load harness reuses too) and the outcome
classification. The dev key is never printed, logged or shown by ``repr``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import httpx

from simulator import contract
from simulator.errors import TargetError
from simulator.payloads import CONTENT_TYPE
from simulator.retries import Pacer, RetryPolicy, SendResult
from simulator.signing import Signer
from simulator.targets import Target, rate_cap, resolve_target

__all__ = ["AppsFlyerClient", "AsyncAppsFlyerClient"]


class _ClientBase:
    """Everything the sync and async clients share; they differ only in how they wait."""

    def __init__(self, target: str | Target, *, dev_key: str | None, allow_production: bool,
                 retry: RetryPolicy | None, timeout: float, max_rate: float | None) -> None:
        self.target = (target if isinstance(target, Target)
                       else resolve_target(target, allow_production=allow_production))
        if self.target.production and not allow_production:
            raise TargetError("refusing to send to production without allow_production=True")
        max_rate = rate_cap(self.target, max_rate)
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.max_rate = max_rate
        self._pacer = Pacer(max_rate) if max_rate is not None else None
        self._signer = Signer(dev_key) if dev_key else None

    def _headers(self, body: bytes, authorization: str | None,
                 headers: Mapping[str, str] | None) -> dict[str, str]:
        if headers is not None:  # an SDK's own, signature included (a C2S record's)
            return dict(headers)
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
                 authorization: str | None, headers: Mapping[str, str] | None,
                 channel: str) -> None:
        self._client = client
        self.url = client.target.url(path, channel)
        self.body = body
        self.headers = client._headers(body, authorization, headers)
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
        status: int | None
        retry_after: str | None
        failure: str | None
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

    def send(self, path: str, body: bytes, authorization: str | None = None, *,
             headers: Mapping[str, str] | None = None,
             channel: str = contract.S2S) -> SendResult:
        """POST ``body`` to the ``channel``'s base + ``path``, retrying per the policy with
        the same bytes. Signed with the dev key, unless ``authorization`` is given, or
        ``headers``: every header to send, the signature among them."""
        exchange = _Exchange(self, path, body, authorization, headers, channel)
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

    async def send(self, path: str, body: bytes, authorization: str | None = None, *,
                   headers: Mapping[str, str] | None = None,
                   channel: str = contract.S2S) -> SendResult:
        exchange = _Exchange(self, path, body, authorization, headers, channel)
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
