"""Where requests go and which key signs them: named targets, base URLs, production safety.

A target's host is classified once, by its normalised name (``host_kind``): case, a trailing
dot, userinfo, a port, percent-escapes and IDNA spellings never change what a URL points at,
so they never change the decision either. AppsFlyer's production host (and any other host
under ``appsflyer.com`` but the sandbox) needs an explicit opt-in and runs rate-capped.

One rule chooses the signing key for every command (``signing_key``): the apps file's mock
keys for loopback targets (the embedded mock, a ``ctvsim mock`` on this machine, and
``generate``, whose traffic is made for the mock), ``$CTVSIM_DEV_KEY`` for AppsFlyer's hosts
and any other non-loopback URL. ``$CTVSIM_KEY_SOURCE`` overrides the choice (``env`` or
``apps``), except that mock keys are never sent to AppsFlyer. Keys are read where requests
are signed and never printed, logged or put on a command line.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote, urlsplit

from simulator import contract
from simulator.errors import TargetError
from simulator.profiles import App

__all__ = [
    "DEV_KEY_ENV", "KEY_SOURCE_ENV", "MOCK_BASE_URL", "PRODUCTION_DEFAULT_RATE", "Target",
    "check", "dev_key", "host_kind", "rate_cap", "resolve_target", "signing_key",
    "signs_with_mock_keys",
]

MOCK_BASE_URL: Final = "http://127.0.0.1:8080/v1.0/s2s/"
DEV_KEY_ENV: Final = "CTVSIM_DEV_KEY"
KEY_SOURCE_ENV: Final = "CTVSIM_KEY_SOURCE"
KEY_SOURCES: Final = ("auto", "env", "apps")
# Requests per second to production unless the caller raises it explicitly: enough to check
# an integration, far from a load test against a live account.
PRODUCTION_DEFAULT_RATE: Final = 5.0
NAMED_TARGETS: Final[Mapping[str, str]] = {
    "production": contract.PRODUCTION_BASE_URL,
    "sandbox": contract.SANDBOX_BASE_URL,
    "mock": MOCK_BASE_URL,
}
APPSFLYER_DOMAIN: Final = "appsflyer.com"
_SANDBOX_HOST: Final = urlsplit(contract.SANDBOX_BASE_URL).hostname

# What a host is, for the safety rules.
PRODUCTION: Final = "production"  # AppsFlyer's live hosts: opt-in, rate cap, real key
SANDBOX: Final = "sandbox"  # AppsFlyer's sandbox: real key, no opt-in
LOOPBACK: Final = "loopback"  # this machine: the apps file's mock keys sign
REMOTE: Final = "remote"  # any other host: the real key


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # "production", "sandbox", "mock", or the URL as given
    base_url: str  # always ends with "/"
    kind: str  # PRODUCTION, SANDBOX, LOOPBACK or REMOTE (``host_kind``)

    @property
    def production(self) -> bool:
        return self.kind == PRODUCTION

    @property
    def appsflyer(self) -> bool:
        return self.kind in (PRODUCTION, SANDBOX)

    @property
    def local(self) -> bool:
        """A loopback host: the apps file's mock keys sign for it."""
        return self.kind == LOOPBACK

    def channel_base(self, channel: str) -> str:
        """The base URL of ``channel`` (S2S or C2S) here. A base whose path ends in a
        channel's prefix (``/v1.0/s2s/``, ``/v1.0/c2s/``: every named target's) has the
        other channel beside it; any other URL is the one channel's base, as given."""
        stem = _channel_stem(self.base_url)
        return self.base_url if stem is None else f"{stem}{channel}/"

    def shared_base(self, channels: Iterable[str]) -> tuple[str, dict[str, str]]:
        """One base URL for all of ``channels`` and each channel's path under it (a client
        with a single base URL, such as Locust's, sending on both)."""
        channels = tuple(dict.fromkeys(channels))
        stem = _channel_stem(self.base_url)
        if stem is not None and len(channels) > 1:
            return stem, {channel: f"{channel}/" for channel in channels}
        if stem is None and len(channels) > 1:
            raise TargetError(f"target {self.name!r} is one channel's base URL: sending on "
                              f"both needs a base ending in {contract.S2S_PREFIX} or "
                              f"{contract.C2S_PREFIX}")
        return self.channel_base(channels[0]), {channels[0]: ""}

    def url(self, path: str, channel: str = contract.S2S) -> str:
        """``base + path`` on ``channel``: a base URL's own path prefix is kept, never
        replaced."""
        return self.channel_base(channel) + path.lstrip("/")


def _channel_stem(base_url: str) -> str | None:
    """``https://host/v1.0/`` for a base ending in a channel's prefix, else None."""
    for prefix in (contract.S2S_PREFIX, contract.C2S_PREFIX):
        if base_url.endswith(prefix):
            return base_url[: -len(prefix)] + prefix[: -len("s2s/")]
    return None


def normalise_host(host: str) -> str:
    """The name a host resolves as: unescaped, IDNA-mapped, lowercase, no trailing dots."""
    name = unquote(host).strip()
    if not name.isascii():
        # IDNA maps full-width letters and ideographic full stops to plain ASCII; a name it
        # refuses resolves nowhere, so it cannot be AppsFlyer's either.
        with contextlib.suppress(UnicodeError):
            name = name.encode("idna").decode("ascii")
    return name.lower().rstrip(".")


def host_kind(host: str) -> str:
    """PRODUCTION, SANDBOX, LOOPBACK or REMOTE for a URL's host, however it is spelled."""
    name = normalise_host(host)
    if name == _SANDBOX_HOST:
        return SANDBOX
    if name == APPSFLYER_DOMAIN or name.endswith("." + APPSFLYER_DOMAIN):
        return PRODUCTION
    if name == "localhost" or name.endswith(".localhost"):
        return LOOPBACK
    try:
        return LOOPBACK if ipaddress.ip_address(name.strip("[]")).is_loopback else REMOTE
    except ValueError:
        return REMOTE


def resolve_target(spec: str, *, allow_production: bool = False) -> Target:
    """A target by name (production, sandbox, mock) or any http(s) base URL.

    Production, by name or by any spelling of its host in a URL, is refused without
    ``allow_production``.
    """
    name = spec.strip()
    base = NAMED_TARGETS.get(name, name)
    try:
        parts = urlsplit(base)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as error:
        raise TargetError(f"target {spec!r} is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise TargetError(
            f"unknown target {spec!r}: use production, sandbox, mock or an http(s):// base URL"
        )
    if not base.endswith("/"):
        base += "/"
    kind = host_kind(host)
    if kind == PRODUCTION and not allow_production:
        raise TargetError(
            "refusing to send to production without --allow-production "
            "(allow_production=True); try --target sandbox first"
        )
    return Target(name, base, kind)


def key_source(environ: Mapping[str, str] | None = None) -> str:
    """``$CTVSIM_KEY_SOURCE``: auto (the default), env or apps."""
    value = (os.environ if environ is None else environ).get(KEY_SOURCE_ENV, "").strip()
    if value and value not in KEY_SOURCES:
        raise TargetError(f"${KEY_SOURCE_ENV} must be one of {', '.join(KEY_SOURCES)}")
    return value or "auto"


def signs_with_mock_keys(target: Target | None, *,
                         environ: Mapping[str, str] | None = None) -> bool:
    """Whether the apps file's mock keys sign for ``target`` (None: traffic made for the
    local mock): for loopback, unless ``$CTVSIM_KEY_SOURCE`` says otherwise, and never for
    AppsFlyer's hosts (asking for that is a TargetError)."""
    source = key_source(environ)
    if source == "apps" and target is not None and target.appsflyer:
        raise TargetError(f"${KEY_SOURCE_ENV}=apps: the apps file's mock keys never sign for "
                          f"{target.name}; use $CTVSIM_DEV_KEY")
    return source == "apps" or (source == "auto" and (target is None or target.local))


def signing_key(app: App | None, target: Target | None, *,
                environ: Mapping[str, str] | None = None) -> str:
    """The key that signs requests for ``target`` (None: traffic made for the local mock).

    The app's mock key where ``signs_with_mock_keys``, else ``$CTVSIM_DEV_KEY``. A missing
    or unusable key is a TargetError that never quotes the key.
    """
    environ = os.environ if environ is None else environ
    if signs_with_mock_keys(target, environ=environ):
        if app is None:
            raise TargetError("no app to take a mock key from")
        return app.dev_key
    key = environ.get(DEV_KEY_ENV, "")
    where = target.name if target is not None and not target.local else "local targets"
    if not key:
        raise TargetError(f"set ${DEV_KEY_ENV} to the app's dev key to send to {where}")
    if not (key.isascii() and key.isprintable()) or key != key.strip():
        raise TargetError(f"${DEV_KEY_ENV} must be printable ASCII without surrounding "
                          "spaces (it keys the HMAC)")
    return key


def rate_cap(target: Target, requested: float | None) -> float | None:
    """Requests/s to cap at: ``requested`` when given (not 0), else production's default."""
    if requested:
        return requested
    return PRODUCTION_DEFAULT_RATE if target.production else None


def check(spec: str, allow_production: bool, max_rps: float) -> tuple[Target, float]:
    """A target checked before anything is sent: resolved (production only when allowed)
    and its rate cap (0: none). The key is checked with the app, by ``dev_key``."""
    resolved = resolve_target(spec, allow_production=allow_production)
    return resolved, rate_cap(resolved, max_rps) or 0.0


def dev_key(spec: str, app: App) -> str:
    """The key that signs ``app``'s requests to the target ``spec`` (already checked)."""
    return signing_key(app, resolve_target(spec, allow_production=True))
