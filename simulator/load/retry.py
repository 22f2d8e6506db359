"""The client's retry policy, seen from a Locust user (TEMPORARY until client.py lands)."""

from __future__ import annotations


class NoRetry:
    retries = 0

    def delay_before_retry(self, attempt: int, status: int | None, retry_after: str | None):
        return None


def policy(retries: int) -> NoRetry:
    return NoRetry()
