"""Fixtures shared by the mock's tests (module-scoped variants override them where a test
module shares one server)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from _mock_support import APPS

from simulator.mock import MockServer


@pytest.fixture
def mock() -> Iterator[MockServer]:
    """A fresh mock with the test apps, on a free loopback port, stopped afterwards."""
    with MockServer(apps=APPS) as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A plain HTTP client that ignores proxy settings (all traffic is loopback)."""
    with httpx.Client(trust_env=False, timeout=10) as http:
        yield http
