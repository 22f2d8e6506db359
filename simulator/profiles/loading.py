"""Where profiles come from and how directories layer: the bundled profiles, then
``--profiles DIR``, whose files add platforms or replace bundled ones by ``platform`` (and
replace apps.yaml, curves.yaml and sdks.yaml whole)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

from simulator import contract
from simulator.bundled import bundled_directory
from simulator.errors import ProfileError
from simulator.profiles.apps import read_apps, read_curves
from simulator.profiles.model import (
    APPS_FILE,
    CURVES_FILE,
    SDKS_FILE,
    YAML_SUFFIXES,
    App,
    Profile,
    ProfileSet,
)
from simulator.profiles.platforms import read_profile
from simulator.profiles.sdks import read_sdks
from simulator.profiles.yamldoc import YamlDoc, display


def default_profiles_dir() -> Path:
    """The bundled profiles (``bundled.py``: an installed copy, or the checkout's)."""
    return bundled_directory("profiles")


def load_profiles(extra_dir: Path | None = None) -> ProfileSet:
    """The bundled profiles, curves and apps, with ``extra_dir``'s files added or overriding.

    A profile in ``extra_dir`` replaces the bundled one of the same ``platform``; its
    curves.yaml, apps.yaml and sdks.yaml replace the bundled ones. Raises ProfileError with
    every problem.
    """
    problems: list[str] = []
    docs = _read_dirs(default_profiles_dir(), extra_dir, problems)
    curves = read_curves(docs.curves)
    apps = read_apps(docs.apps)
    sdks = read_sdks(docs.sdks)
    profiles = [read_profile(doc, curves, sdks) for doc in docs.profiles]
    for doc in docs.opened:
        problems.extend(doc.problems())
    if problems:
        raise ProfileError(problems)
    total = sum(profile.weight for profile in profiles if profile)
    by_platform = {p.platform: replace(p, weight=p.weight / total) for p in profiles if p}
    ordered: dict[str, Profile] = {name: by_platform[name] for name in contract.PLATFORMS
                                   if name in by_platform}
    sources = tuple(doc.path for doc in docs.opened if doc.path)
    return ProfileSet(MappingProxyType(ordered), MappingProxyType(curves or {}),
                      MappingProxyType(apps or {}), sources)


def load_apps(path: Path | None = None) -> Mapping[str, App]:
    """The apps of one apps.yaml (the bundled one by default), by app id."""
    doc = YamlDoc.open(path or default_profiles_dir() / APPS_FILE)
    apps = read_apps(doc)
    if doc.problems() or apps is None:
        raise ProfileError(doc.problems())
    return MappingProxyType(apps)


@dataclass(slots=True)
class _Docs:
    curves: YamlDoc | None
    apps: YamlDoc | None
    sdks: YamlDoc | None
    profiles: list[YamlDoc]
    opened: list[YamlDoc]  # every file read, in reading order, for its problems


def _read_dirs(bundled: Path, extra: Path | None, problems: list[str]) -> _Docs:
    """Every ``*.yaml`` and ``*.yml`` file of the bundled and the extra directory."""
    special: dict[str, YamlDoc | None] = {CURVES_FILE: None, APPS_FILE: None, SDKS_FILE: None}
    by_platform: dict[str, YamlDoc] = {}
    unnamed: list[YamlDoc] = []
    opened: list[YamlDoc] = []
    for directory in (bundled, extra):
        if directory is None:
            continue
        if not directory.is_dir():
            problems.append(f"{display(directory)}: not a directory")
            continue
        seen: dict[str, YamlDoc] = {}
        found = sorted(path for path in directory.iterdir() if path.suffix in YAML_SUFFIXES)
        for path in found:
            doc = YamlDoc.open(path)
            opened.append(doc)
            name = path.stem + ".yaml"  # apps.yml stands for apps.yaml
            if name in special:
                if name in seen:
                    doc.fail(doc.root, "(file)", f"{seen[name].name} is this file's twin; "
                             "keep one of them")
                seen[name] = doc
                special[name] = doc
                continue
            platform = doc.peek("platform")
            if platform is None:
                unnamed.append(doc)
            elif platform in seen:
                doc.fail(doc.root, "platform", f"{platform!r} is also defined in "
                         f"{seen[platform].name}")
            else:
                seen[platform] = by_platform[platform] = doc
    problems.extend(f"{display(bundled / name)}: file not found"
                    for name, doc_or_none in special.items() if doc_or_none is None)
    return _Docs(special[CURVES_FILE], special[APPS_FILE], special[SDKS_FILE],
                 [*by_platform.values(), *unnamed], opened)
