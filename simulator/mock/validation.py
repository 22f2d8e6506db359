"""``contract.inspect`` with a memo, because most of a body repeats from request to request.

A device sends the same ip, model, user agent, ids and versions every time; only the
*volatile* fields change (``request_id``, ``timestamp``: fields checked alone, with no
cross-field rule). So the verdict on the rest of the body is remembered under a 64-bit hash
of (channel, operation, platform, the body's bytes without the volatile fields), and only
the volatile fields are checked again, each with its own rule from ``contract.field_rules``
(and, where the channel requires one, for its presence). Every verdict still comes from
``contract.py``; the memo is bounded (it is simply cleared when full) and a test checks that
it agrees with ``contract.inspect``.
"""

from __future__ import annotations

from typing import Any

import orjson

from simulator import contract

DEFAULT_SIZE = 100_000
_MISSING = object()


VOLATILE = ("request_id", "timestamp")
_UNCHECKED = frozenset(VOLATILE)


class Inspector:
    """Findings of a body for (operation, platform) on a channel, as ``contract.inspect``
    gives them."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self._memo: dict[int, contract.Findings] = {}
        # Per (channel, operation): the volatile fields' rules and whether each is required,
        # looked up once instead of per body.
        self._volatile_rules = {
            (channel, operation): tuple(
                (name, rules[name], name in contract.required_fields(channel)[operation])
                for name in VOLATILE)
            for channel in contract.CHANNELS
            for operation, rules in contract.field_rules(channel).items()}
        self._scratch = contract.Findings()

    def __call__(self, operation: str, platform: str, document: Any,
                 channel: str = contract.S2S) -> contract.Findings:
        if type(document) is not dict:
            return contract.inspect(operation, document, platform=platform, channel=channel)
        # A copy to cut the volatile fields from: popping them from the document and putting
        # them back would make the dict grow its table on every request.
        rest = document.copy()
        volatile = [(name, rest.pop(name, _MISSING)) for name in VOLATILE]
        try:
            key = hash((channel, operation, platform, orjson.dumps(rest)))
        except TypeError:  # an integer beyond 64 bits: rare, checked without the memo
            key = None
        stable = self._memo.get(key) if key is not None else None
        if stable is None:
            stable = _shared_if_clean(contract.inspect(
                operation, rest, platform=platform, channel=channel, unchecked=_UNCHECKED))
            if key is not None:
                if len(self._memo) >= self.size:
                    self._memo.clear()
                self._memo[key] = stable
        return self._with_volatile((channel, operation), volatile, stable)

    def _with_volatile(
        self, where: tuple[str, str], volatile: list[tuple[str, Any]],
        stable: contract.Findings,
    ) -> contract.Findings:
        extra = self._scratch  # reused (one event loop) and left empty: no allocation per body
        for (name, rule, required), (_, value) in zip(self._volatile_rules[where], volatile,
                                                      strict=True):
            if value is not _MISSING:
                rule.check(name, value, extra)
            elif required:
                extra.violations.append(contract.Violation(name, "required", "is required"))
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
