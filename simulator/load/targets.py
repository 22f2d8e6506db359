"""Targets (TEMPORARY until client.py lands)."""

from __future__ import annotations


def dev_key(target: str, mock_key: str) -> str:
    return mock_key
