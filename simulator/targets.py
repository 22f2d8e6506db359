"""Where requests go and which key signs them: named targets, base URLs, production safety.

Dev keys come from the environment (``CTVSIM_DEV_KEY``) or, for local targets only, from the
apps file's mock keys; they are read where requests are signed and never printed, logged or
put on a command line. Production is refused without an explicit opt-in, and then runs under
a modest rate cap unless the caller sets another.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from simulator import contract
from simulator.errors import TargetError
from simulator.profiles import App

__all__ = [
    "DEV_KEY_ENV", "MOCK_BASE_URL", "PRODUCTION_DEFAULT_RATE", "Target", "check", "dev_key",
    "rate_cap", "resolve_dev_key", "resolve_target",
]

MOCK_BASE_URL: Final = "http://127.0.0.1:8080/v1.0/s2s/"
DEV_KEY_ENV: Final = "CTVSIM_DEV_KEY"
# Requests per second to production unless the caller raises it explicitly: enough to check
# an integration, far from a load test against a live account.
PRODUCTION_DEFAULT_RATE: Final = 5.0
NAMED_TARGETS: Final[Mapping[str, str]] = {
    "production": contract.PRODUCTION_BASE_URL,
    "sandbox": contract.SANDBOX_BASE_URL,
    "mock": MOCK_BASE_URL,
}
_PRODUCTION_HOST: Final = urlsplit(contract.PRODUCTION_BASE_URL).hostname


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # "production", "sandbox", "mock", or the URL as given
    base_url: str  # always ends with "/"
    production: bool
    local: bool  # loopback host: the apps file's mock keys may sign for it

    def url(self, path: str) -> str:
        """``base + path``: a base URL's own path prefix is kept, never replaced."""
        return self.base_url + path.lstrip("/")


def resolve_target(spec: str, *, allow_production: bool = False) -> Target:
    """A target by name (production, sandbox, mock) or any http(s) base URL.

    Production, by name or by its host in a URL, is refused without ``allow_production``.
    """
    name = spec.strip()
    base = NAMED_TARGETS.get(name, name)
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetError(
            f"unknown target {spec!r}: use production, sandbox, mock or an http(s):// base URL"
        )
    if not base.endswith("/"):
        base += "/"
    production = parts.hostname == _PRODUCTION_HOST
    if production and not allow_production:
        raise TargetError(
            "refusing to send to production without --allow-production "
            "(allow_production=True); try --target sandbox first"
        )
    return Target(name, base, production, _is_loopback(parts.hostname))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_dev_key(app: App | None, target: Target | None = None, *,
                    env_var: str = DEV_KEY_ENV, environ: Mapping[str, str] | None = None,
                    ) -> str:
    """The key to sign with: ``$CTVSIM_DEV_KEY`` when set, else the app's mock key.

    The apps file's keys are for the local mock only, so a non-local target without the
    environment variable is an error rather than a silently wrong signature.
    """
    key = (os.environ if environ is None else environ).get(env_var)
    if key:
        return key
    if app is not None and (target is None or target.local):
        return app.dev_key
    where = "the target" if target is None else target.name
    raise TargetError(f"set ${env_var} to the app's dev key to send to {where}")


def rate_cap(target: Target, requested: float | None) -> float | None:
    """Requests/s to cap at: ``requested`` when given (not 0), else production's default."""
    if requested:
        return requested
    return PRODUCTION_DEFAULT_RATE if target.production else None


def check(spec: str, allow_production: bool, max_rps: float) -> tuple[Target, float]:
    """A target checked before anything is sent: resolved (production only when allowed), a
    key in the environment when it is not local, and its rate cap (0: none)."""
    resolved = resolve_target(spec, allow_production=allow_production)
    if not resolved.local:
        resolve_dev_key(None, resolved)  # raises unless the environment has a key
    return resolved, rate_cap(resolved, max_rps) or 0.0


def dev_key(spec: str, app: App) -> str:
    """The key to sign with for the target ``spec`` (already checked by ``check``)."""
    return resolve_dev_key(app, resolve_target(spec, allow_production=True))
