"""The ``ctv_mock`` pytest fixture, installed with ctv-simulator (``pytest11`` entry point).

Any project that installs ctv-simulator can write::

    def test_my_sender_is_accepted(ctv_mock):
        my_sender.send(base_url=ctv_mock.url, ...)        # http://127.0.0.1:PORT/v1.0/s2s/
        # a device-side client: ctv_mock.c2s_url            # http://127.0.0.1:PORT/v1.0/c2s/
        assert ctv_mock.stats()["accepted"] == 1
        assert ctv_mock.requests(status=400) == []

The fixture is the real mock (strict contract checks, signatures, journal) in a background
thread on a free loopback port with the bundled demo apps (``ctv_mock.apps``: ids, fake dev
keys, platforms): the ``MockServer`` (``.url``, ``.c2s_url``, ``.admin_url``, ``.stats()``,
``.requests(**filters)``, ``.count(**filters)``, ``.warnings()``, ``.set_faults(...)``,
``.clear_faults()``, ``.reset()``, ``.reset_all()``).

One server serves the whole session and every test gets it reset (empty journal, no faults),
as pytest-httpserver does: starting a server costs about 0.2 s, a reset a few milliseconds.
Other apps: override the ``ctv_mock_apps`` fixture to return a mapping or list of
``simulator.profiles.App``; those tests get a server of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def ctv_mock_apps() -> Any:
    """The apps the mock knows; None means the bundled ``profiles/apps.yaml``."""
    return None


@pytest.fixture(scope="session")
def ctv_mock_session() -> Iterator[Any]:
    """The mock with the bundled apps, shared by the session's tests (``ctv_mock`` resets it)."""
    from simulator.mock import MockServer

    with MockServer() as server:
        yield server


@pytest.fixture
def ctv_mock(ctv_mock_apps: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running local AppsFlyer mock, as good as new for this test."""
    if ctv_mock_apps is not None:
        from simulator.mock import MockServer

        with MockServer(apps=ctv_mock_apps) as server:
            yield server
        return
    server = request.getfixturevalue("ctv_mock_session")
    server.reset_all()
    yield server
