"""The local AppsFlyer mock: strict contract checks, an exact journal, injected faults.

Public API: ``MockServer`` (embed the real mock in a thread or a subprocess),
``AdminClient`` (talk to a running mock's ``/__admin/`` API), ``build_app`` (the ASGI app
for your own server), ``FaultPlan`` and ``parse_rule`` (fault specifications).
"""

from simulator.errors import FaultError, MockAdminError
from simulator.mock.admin_client import AdminClient
from simulator.mock.faults import FaultPlan, parse_rule
from simulator.mock.server import MockServer, build_app

__all__ = [
    "AdminClient", "FaultError", "FaultPlan", "MockAdminError", "MockServer", "build_app",
    "parse_rule",
]
