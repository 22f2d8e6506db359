"""ISO-8601 instants as the command line (``--start``) and the admin API (``since``) take
them, parsed in one place: ``Z`` or an offset, or none at all, which means UTC; and the
default start of a generated period."""

from __future__ import annotations

import datetime as dt

# Where a generated period starts unless told otherwise: a fixed Monday, 00:00 UTC, so that
# generated traffic never depends on the day it is made.
DEFAULT_START = "2026-01-05T00:00:00Z"


def parse_instant(text: str) -> dt.datetime:
    """An aware datetime; ValueError for anything that is not an ISO-8601 instant."""
    moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
