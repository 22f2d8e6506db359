"""Where a load test sends, with which key, under which rate cap: client.py's rules, applied.

`sandbox` and `production` need the dev key in the environment (CTVSIM_DEV_KEY); production
also needs `--allow-production` and runs under the client's default rate cap unless
`--max-rps` sets another. Local targets use the environment's key when set, else the app's
mock-only key. The key is read where requests are signed, never put on a command line.
"""

from __future__ import annotations

from simulator.client import (
    PRODUCTION_DEFAULT_RATE,
    Target,
    resolve_dev_key,
    resolve_target,
)
from simulator.profiles import App


def check(target: str, allow_production: bool, max_rps: float) -> tuple[Target, float]:
    """The resolved target and the rate cap to apply (0: none); refuses what is unsafe."""
    resolved = resolve_target(target, allow_production=allow_production)
    if not resolved.local:
        resolve_dev_key(None, resolved)  # raises unless the environment has a key
    if resolved.production and not max_rps:
        return resolved, PRODUCTION_DEFAULT_RATE
    return resolved, max_rps


def dev_key(target: str, app: App) -> str:
    """The key to sign with for `target` (resolved where the requests are built)."""
    return resolve_dev_key(app, resolve_target(target, allow_production=True))
