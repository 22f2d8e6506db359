"""ctv-simulator: CTV devices, realistic traffic and a strict local AppsFlyer for load tests.

The supported names, each importable from here (and from the one module that defines it):

- ``MockServer`` and ``AdminClient``: the local AppsFlyer mock and its admin API;
- ``AppsFlyerClient`` and ``AsyncAppsFlyerClient``: send to the mock, sandbox or production;
- ``DeviceFactory`` and ``load_profiles``: simulated devices from the YAML profiles;
- ``contract`` (the API as data) and ``signing`` (HMAC-SHA256 over the exact bytes);
- the exception tree under ``CtvSimError``, and ``ExitCode``.

The classes load on first use, so that ``import simulator`` (which every Locust worker and
``ctvsim`` command does) pulls in neither httpx nor uvicorn until they are wanted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator import contract, lazy, signing
from simulator.errors import (
    CtvSimError,
    ExitCode,
    FaultError,
    InputError,
    MockAdminError,
    OutputError,
    ProfileError,
    TargetError,
)

if TYPE_CHECKING:
    from simulator.client import AppsFlyerClient, AsyncAppsFlyerClient
    from simulator.devices import DeviceFactory
    from simulator.mock.admin_client import AdminClient
    from simulator.mock.server import MockServer
    from simulator.profiles import load_profiles

__all__ = [
    "AdminClient",
    "AppsFlyerClient",
    "AsyncAppsFlyerClient",
    "CtvSimError",
    "DeviceFactory",
    "ExitCode",
    "FaultError",
    "InputError",
    "MockAdminError",
    "MockServer",
    "OutputError",
    "ProfileError",
    "TargetError",
    "contract",
    "load_profiles",
    "signing",
]
__version__ = "0.1.0"

_DEFINED_IN = {
    "AdminClient": "simulator.mock.admin_client",
    "AppsFlyerClient": "simulator.client",
    "AsyncAppsFlyerClient": "simulator.client",
    "DeviceFactory": "simulator.devices",
    "MockServer": "simulator.mock.server",
    "load_profiles": "simulator.profiles",
}


__getattr__, __dir__ = lazy.exports(__name__, _DEFINED_IN, __all__)
