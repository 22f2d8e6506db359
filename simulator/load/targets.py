"""Where a load test sends, with which key, and the safety rules around real endpoints.

`sandbox` and `production` need the dev key in the environment (CTVSIM_DEV_KEY); production
also needs an explicit opt-in and runs under a rate cap. A local target (the mock, or any URL)
uses the environment's key when one is set, else the app's mock-only key from the apps file.
The key is read where the requests are signed, never passed on a command line or printed.
"""

from __future__ import annotations

import os

from simulator import contract
from simulator.errors import UsageError

DEV_KEY_ENV = "CTVSIM_DEV_KEY"
LOCAL_MOCK_URL = "http://127.0.0.1:8080/v1.0/s2s/"
PRODUCTION_DEFAULT_MAX_RPS = 10.0
REMOTE = {"production": contract.PRODUCTION_BASE_URL, "sandbox": contract.SANDBOX_BASE_URL}


def base_url(target: str) -> str:
    if target in REMOTE:
        return REMOTE[target]
    if target == "mock":
        return LOCAL_MOCK_URL
    if not target.startswith(("http://", "https://")):
        raise UsageError(
            f"--target {target!r}: use production, sandbox, mock or a base URL (http://...)"
        )
    return target if target.endswith("/") else target + "/"


def check_safety(target: str, allow_production: bool, max_rps: float) -> float:
    """The rate cap to apply (0: none); refuses what the safety rules forbid."""
    if target in REMOTE and not os.environ.get(DEV_KEY_ENV):
        raise UsageError(f"--target {target} needs the app's dev key in ${DEV_KEY_ENV}")
    if target == "production":
        if not allow_production:
            raise UsageError(
                "--target production sends real events to AppsFlyer; add --allow-production "
                "to confirm (use --target sandbox to test without affecting dashboards)"
            )
        return max_rps or PRODUCTION_DEFAULT_MAX_RPS
    return max_rps


def dev_key(target: str, mock_key: str) -> str:
    key = os.environ.get(DEV_KEY_ENV, "")
    if target in REMOTE:
        if not key:
            raise UsageError(f"--target {target} needs the app's dev key in ${DEV_KEY_ENV}")
        return key
    return key or mock_key
