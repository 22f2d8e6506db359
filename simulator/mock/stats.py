"""The mock's stats document (``GET /__admin/stats``), defined once: the journal emits it, the
admin client returns it, and the load harness's reconciliation reads it. The README shows an
example; the counting rules are in ``journal.py``."""

from __future__ import annotations

from typing import TypedDict

# app id -> platform -> operation -> (status, or fault label) -> requests
ByApp = dict[str, dict[str, dict[str, dict[str, int]]]]


class Ring(TypedDict):
    size: int  # recent requests kept for /__admin/requests (0: the ring is off)
    held: int


class JournalFile(TypedDict):
    file: str
    state: str  # "ok" or "failed"
    rows_written: int
    rows_lost: int
    error: str | None


class Counts(TypedDict):
    """What reconciliation compares with the harness (also as a difference of two Stats)."""

    by_app: ByApp  # contract outcomes by status ("202", "400", ...)
    injected_by_app: ByApp  # injected faults by label ("503", "reset", "latency", ...)
    by_channel_app: dict[str, ByApp]  # by_app, per channel ("s2s", "c2s")
    injected_by_channel_app: dict[str, ByApp]  # injected_by_app, per channel
    duplicates: int
    warnings: dict[str, int]  # soft findings by rule ("ordering", ...)


class Stats(Counts):
    requests: int  # every request to a public path (404/405 included, admin calls not)
    accepted: int  # 202s: unique + duplicates
    unique: int
    rejected: dict[str, int]  # by status
    by_channel: dict[str, dict[str, int]]  # contract outcomes by status, per channel
    injected: dict[str, int]  # by fault label
    delayed: int  # accepted after an injected latency (counted in accepted too)
    devices: int  # distinct (app, custom id) with a first_open
    since: str  # ISO 8601 UTC: the start, or the last reset
    ring: Ring
    journal_file: JournalFile | None  # the --journal SQLite file, if any
