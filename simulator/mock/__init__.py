"""The local AppsFlyer mock: strict contract checks, an exact journal, injected faults.

Public API: ``MockServer`` (embed the real mock in a thread or a subprocess),
``AdminClient`` (talk to a running mock's ``/__admin/`` API), ``build_app`` (the ASGI app
for your own server), ``FaultPlan`` and ``parse_rule`` (fault specifications), and the
errors ``FaultError`` and ``MockAdminError``. They load on first use, so that importing one
module of the mock (``ctvsim``'s option defaults, say) does not import httpx and uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator import lazy

if TYPE_CHECKING:
    from simulator.errors import FaultError, MockAdminError
    from simulator.mock.admin_client import AdminClient
    from simulator.mock.faults import FaultPlan, parse_rule
    from simulator.mock.server import MockServer, build_app

__all__ = [
    "AdminClient", "FaultError", "FaultPlan", "MockAdminError", "MockServer", "build_app",
    "parse_rule",
]

_DEFINED_IN = {
    "AdminClient": "simulator.mock.admin_client", "FaultError": "simulator.errors",
    "FaultPlan": "simulator.mock.faults", "MockAdminError": "simulator.errors",
    "MockServer": "simulator.mock.server", "build_app": "simulator.mock.server",
    "parse_rule": "simulator.mock.faults",
}


__getattr__, __dir__ = lazy.exports(__name__, _DEFINED_IN, __all__)
