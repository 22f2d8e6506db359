"""When to send again and how fast to send: the retry policy and the rate pacer.

Shared by the httpx clients (``client.py``) and the Locust users (``load/users.py``), so both
retry the same outcomes with the same waits. A retry re-sends the same bytes, so the same
``request_id`` and signature: the receiver can recognise it as a retry.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from dataclasses import dataclass, field
from typing import Final

from simulator import contract
from simulator.errors import InputError

__all__ = ["FixedRetry", "Pacer", "Retry", "RetryPolicy", "SendResult"]

NO_RETRY_STATUSES: Final = frozenset({400, 401, 403, 413})
TOO_MANY_REQUESTS: Final = 429


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


@dataclass(frozen=True, slots=True)
class FixedRetry:
    """An AppsFlyer SDK's own re-sends (``profiles/sdks.yaml``): up to ``retries`` more
    attempts, ``delay_s`` apart, for the listed statuses and (``connection``) for a request
    that got no answer; ``Retry-After`` is not read (no SDK reads it)."""

    retries: int
    delay_s: float
    statuses: frozenset[int]
    connection: bool

    def after(self, attempts: int, status: int | None, retry_after: str | None) -> float | None:
        if attempts > self.retries or status in contract.SUCCESS_STATUSES:
            return None
        retried = self.connection if status is None else status in self.statuses
        return self.delay_s if retried else None


Retry = RetryPolicy | FixedRetry


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
            raise InputError(f"rate must be > 0 requests/s, got {rate}")
        self.interval = 1.0 / rate
        self._next = 0.0

    def reserve(self, now: float) -> float:
        start = max(now, self._next)
        self._next = start + self.interval
        return start - now
