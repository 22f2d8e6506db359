"""``contract.inspect`` with a memo, because most of a body repeats from request to request.

A device sends the same ip, model, user agent, ids and versions every time; only the
*volatile* fields change (``request_id``, ``timestamp``: optional fields checked alone, with no
soft findings and no cross-field rule). So the verdict on the rest of the body is remembered
under a 64-bit hash of (operation, platform, the body's bytes without the volatile fields),
and only the volatile fields are checked again, each with its own rule from
``contract.FIELD_RULES``. Every verdict still comes from ``contract.py``; the memo is bounded
(it is simply cleared when full) and a test checks that it agrees with ``contract.inspect``.
"""

from __future__ import annotations

from typing import Any

import orjson

from simulator import contract

DEFAULT_SIZE = 100_000
_MISSING = object()


def _volatile_fields() -> tuple[str, ...]:
    required = {name for fields in contract.REQUIRED_FIELDS.values() for name in fields}
    volatile = ("request_id", "timestamp")
    assert not required.intersection(volatile), "a required field cannot be checked alone"
    return volatile


VOLATILE = _volatile_fields()


class Inspector:
    """Findings of a body for (operation, platform), as ``contract.inspect`` gives them."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._memo: dict[int, contract.Findings] = {}
        # Per operation, the rules of the volatile fields, looked up once instead of per body.
        self._volatile_rules = {operation: tuple((name, rules[name]) for name in VOLATILE)
                                for operation, rules in contract.FIELD_RULES.items()}
        self._scratch = contract.Findings()

    def __call__(self, operation: str, platform: str, document: Any) -> contract.Findings:
        if type(document) is not dict:
            return contract.inspect(operation, document, platform=platform)
        # A copy to cut the volatile fields from: popping them from the document and putting
        # them back would make the dict grow its table on every request.
        rest = document.copy()
        volatile = [(name, rest.pop(name, _MISSING)) for name in VOLATILE]
        try:
            key = hash((operation, platform, orjson.dumps(rest)))
        except TypeError:  # an integer beyond 64 bits: rare, checked without the memo
            key = None
        stable = self._memo.get(key) if key is not None else None
        if stable is None:
            stable = _shared_if_clean(contract.inspect(operation, rest, platform=platform))
            if key is not None:
                if len(self._memo) >= self.size:
                    self._memo.clear()
                self._memo[key] = stable
        return self._with_volatile(operation, volatile, stable)

    def _with_volatile(
        self, operation: str, volatile: list[tuple[str, Any]], stable: contract.Findings,
    ) -> contract.Findings:
        extra = self._scratch  # reused (one event loop) and left empty: no allocation per body
        for (name, rule), (_, value) in zip(self._volatile_rules[operation], volatile,
                                            strict=True):
            if value is not _MISSING:
                rule.check(name, value, extra)
        if not extra.violations and not extra.warnings:
            return stable  # shared: callers only read findings
        merged = contract.Findings([*stable.violations, *extra.violations],
                                   [*stable.warnings, *extra.warnings])
        extra.violations.clear()
        extra.warnings.clear()
        return merged


_CLEAN = contract.Findings()


def _shared_if_clean(findings: contract.Findings) -> contract.Findings:
    """One shared object for every clean verdict: a full memo then holds 100,000 references
    to it instead of 300,000 small GC-tracked objects (less memory, less for caches and GC)."""
    if findings.violations or findings.warnings:
        return findings
    return _CLEAN
