"""HMAC-SHA256 request signatures, as AppsFlyer computes them over the exact raw body bytes."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["Signer", "Verifier", "sign", "verify"]


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


class Signer:
    """``sign`` for one dev key, with the HMAC key schedule computed once.

    HMAC-SHA256 is ``H(key ^ opad || H(key ^ ipad || body))`` (RFC 2104): the two keyed hash
    states are built here and copied per body, which roughly halves the cost of a signature
    for code that signs or checks many bodies with one key (the generator, the load users,
    the mock). Same answers as ``sign``; the key is not kept, and ``repr`` shows nothing of it.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, dev_key: str) -> None:
        key = dev_key.encode("ascii")
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def __call__(self, body: bytes) -> str:
        inner = self._inner.copy()
        inner.update(body)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<dev key hidden>)"


class Verifier:
    """``verify`` for one dev key, on a ``Signer``; the same answers as ``verify``."""

    __slots__ = ("_sign",)

    def __init__(self, dev_key: str) -> None:
        self._sign = Signer(dev_key)

    def __call__(self, body: bytes, signature: str | bytes) -> bool:
        """``signature`` may also be the raw header bytes (read as latin-1, HTTP's default):
        the usual exact lowercase hex then needs no decoding."""
        expected = self._sign(body).encode("ascii")
        if isinstance(signature, bytes):
            if hmac.compare_digest(expected, signature):
                return True
            signature = signature.decode("latin-1")
        given = signature.strip().lower().encode("utf-8", "surrogateescape")
        return hmac.compare_digest(expected, given)

    def __repr__(self) -> str:
        return "Verifier(<dev key hidden>)"


_BLOCK = 64  # SHA-256's block size in bytes
