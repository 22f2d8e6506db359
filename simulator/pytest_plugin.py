"""The ``ctv_mock`` pytest fixture, installed with ctv-simulator (``pytest11`` entry point).

Any project that installs ctv-simulator can write::

    def test_my_sender_is_accepted(ctv_mock):
        my_sender.send(base_url=ctv_mock.url, ...)        # http://127.0.0.1:PORT/v1.0/s2s/
        assert ctv_mock.stats()["accepted"] == 1
        assert ctv_mock.requests(status=400) == []

The fixture starts the real mock (strict contract checks, signatures, journal) in a background
thread on a free loopback port with the bundled demo apps (``ctv_mock.apps``: ids, fake dev
keys, platforms), yields the ``MockServer`` (``.url``, ``.admin_url``, ``.stats()``,
``.requests(**filters)``, ``.count(**filters)``, ``.warnings()``, ``.set_faults(...)``,
``.clear_faults()``, ``.reset()``) and stops it after the test. Other apps: override the
``ctv_mock_apps`` fixture to return a mapping or list of ``simulator.profiles.App``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def ctv_mock_apps() -> Any:
    """The apps the mock knows; None means the bundled ``profiles/apps.yaml``."""
    return None


@pytest.fixture
def ctv_mock(ctv_mock_apps: Any) -> Iterator[Any]:
    """A running local AppsFlyer mock for one test."""
    from simulator.mock import MockServer

    with MockServer(apps=ctv_mock_apps) as server:
        yield server
