"""ctv-simulator: CTV devices, realistic traffic and a strict local AppsFlyer for load tests."""

from simulator.contract import Findings, Violation, inspect, validate
from simulator.errors import CtvSimError, ProfileError, UsageError
from simulator.signing import sign, verify

__all__ = [
    "CtvSimError",
    "Findings",
    "ProfileError",
    "UsageError",
    "Violation",
    "inspect",
    "sign",
    "validate",
    "verify",
]
__version__ = "0.1.0"
