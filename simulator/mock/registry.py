"""The apps the mock knows: which (platform, app id) pairs exist, their dev keys and plans.

AppsFlyer keys an app by its id on one platform, so an id that is registered for Roku but
requested on Tizen is an unknown app (401), exactly like an id nobody registered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from simulator.profiles import App
from simulator.signing import Verifier

ZERO_PLAN = "zero"


class Registry:
    """Read-only lookup of apps by (platform, app id), built once before serving, each with
    its pre-keyed signature ``Verifier``."""

    __slots__ = ("_apps", "_by_route")

    def __init__(self, apps: Iterable[App]) -> None:
        self._apps = tuple(apps)
        self._by_route: dict[tuple[str, str], tuple[App, Verifier]] = {}
        for app in self._apps:
            entry = (app, Verifier(app.dev_key))
            for platform in app.platforms:
                self._by_route[(platform, app.app_id)] = entry

    @classmethod
    def load(cls, path: Path | None = None) -> Registry:
        """The apps of an apps YAML file (the bundled ``profiles/apps.yaml`` by default)."""
        from simulator.profiles import load_apps

        return cls(load_apps(path).values())

    @classmethod
    def of(cls, apps: Mapping[str, App] | Iterable[App]) -> Registry:
        values = apps.values() if isinstance(apps, Mapping) else apps
        return cls(values)

    def get(self, platform: str, app_id: str) -> tuple[App, Verifier] | None:
        """The app registered under this id on this platform, and its signature check."""
        return self._by_route.get((platform, app_id))

    @property
    def apps(self) -> tuple[App, ...]:
        return self._apps

    def __len__(self) -> int:
        return len(self._by_route)
