"""HMAC-SHA256 request signatures, as AppsFlyer computes them over the exact raw body bytes."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["sign", "verify"]


def sign(body: bytes, dev_key: str) -> str:
    """The lowercase hex signature for the ``authorization`` header.

    The body must be the bytes that go on the wire: re-serialising after signing changes them.
    """
    return hmac.new(dev_key.encode("ascii"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, dev_key: str, signature: str) -> bool:
    """Whether ``signature`` signs ``body``; constant-time, so it leaks nothing by timing."""
    expected = sign(body, dev_key).encode("ascii")
    given = signature.strip().lower().encode("utf-8", "surrogateescape")
    return hmac.compare_digest(expected, given)
