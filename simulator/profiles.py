"""Typed, immutable device profiles and apps, loaded and validated from YAML.

The YAML is composed into a node tree (not loaded into plain dicts) so that every problem can
name its file, line, column and field path; all problems of a run are collected and raised
together, so a user fixes a broken profile in one pass. Values that end up in request bodies
are checked with contract.py's own rules for every operation, so a profile that loads cannot
make the generator emit an invalid request.
"""

from __future__ import annotations

import bisect
import math
import os
import random
import re
import string
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Generic, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator import contract
from simulator.errors import ProfileError, UsageError

__all__ = [
    "AD_ID_FORMATS", "UA_PLACEHOLDERS", "AdId", "App", "AppVersion", "Behaviour", "DeviceModel",
    "EventSpec", "Profile", "ProfileSet", "WeightedTable", "default_profiles_dir", "load_apps",
    "load_profiles", "render_user_agent",
]

T = TypeVar("T")

# The ad id formats devices.py can generate (it holds one generator per name).
AD_ID_FORMATS = ("uuid4", "uuid5", "guid", "hex32", "steamid64", "uint64")
UNDER_LAT = ("omit", "zeros", "keep")
PLANS = ("normal", "zero")
UA_PLACEHOLDERS = ("model", "os", "os_major", "os_minor", "os_patch")
APPS_FILE = "apps.yaml"
CURVES_FILE = "curves.yaml"
YAML_SUFFIXES = (".yaml", ".yml")
# A weight is a relative share; the bound keeps any sum of weights finite and meaningful.
MAX_WEIGHT = 1_000_000
HOURS = 24
MAX_HOUSEHOLD = 16


@dataclass(frozen=True, slots=True)
class WeightedTable(Generic[T]):
    """Values with normalised weights, built once, drawn from with one random number."""

    values: tuple[T, ...]
    weights: tuple[float, ...]  # normalised: sums to 1
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, pairs: Sequence[tuple[T, float]]) -> WeightedTable[T]:
        total = sum(weight for _, weight in pairs)
        weights = tuple(weight / total for _, weight in pairs)
        cumulative, running = [], 0.0
        for weight in weights:
            running += weight
            cumulative.append(running)
        cumulative[-1] = 1.0
        return cls(tuple(value for value, _ in pairs), weights, tuple(cumulative))

    def pick(self, rng: random.Random) -> T:
        return self.values[bisect.bisect_right(self.cumulative, rng.random())]

    def share(self, value: T) -> float:
        """The normalised weight of ``value`` (0 when absent): what a large sample converges to."""
        return sum(w for v, w in zip(self.values, self.weights, strict=True) if v == value)


@dataclass(frozen=True, slots=True)
class DeviceModel:
    name: str  # exactly as sent in `device_model`
    os_versions: WeightedTable[str]  # the versions this model runs (the profile's when untied)
    user_agents: WeightedTable[str]  # templates; placeholders: {model} {os} {os_major} ...
    vars: tuple[tuple[str, str], ...] = ()  # extra template variables, (name, value)


@dataclass(frozen=True, slots=True)
class AdId:
    type: str | None  # contract id type (`rida`, `tifa`, ...); None: the platform has none
    format: str | None  # one of AD_ID_FORMATS; None exactly when `type` is None
    lat_probability: float  # share of devices with limit_ad_tracking true
    # What the ad id becomes when LAT is on: "omit" (left out), "zeros" (an all-zero id of the
    # same format) or "keep" (sent as usual, as LG's SDK does).
    under_lat: str


@dataclass(frozen=True, slots=True)
class Behaviour:
    """A platform's viewing rhythm: parameters of the session model (behaviour.py)."""

    sessions_per_active_day: float  # mean launches of the app on a day it is used
    session_minutes_median: float  # lognormal median
    session_minutes_sigma: float  # lognormal sigma
    diurnal_curve: str  # name of a curve in profiles/curves.yaml
    weekend_factor: float  # activity on Saturday/Sunday relative to a weekday
    timezones: WeightedTable[str]  # IANA names
    daily_active_probability: float  # chance a retained device uses the app on a given day
    retention_half_life_days: float  # how fast devices stop using the app after install
    second_first_open_share: float  # share of devices whose SDK sends first_open on launch 2 too


@dataclass(frozen=True, slots=True)
class Profile:
    platform: str  # one of contract.PLATFORMS
    display_name: str
    weight: float  # normalised share in the default mix
    ad_id: AdId
    models: WeightedTable[DeviceModel]
    household_sizes: WeightedTable[int]  # devices sharing one public IP
    behaviour: Behaviour
    sources: tuple[str, ...]
    path: str  # the YAML file it came from


@dataclass(frozen=True, slots=True)
class AppVersion:
    version: str  # numeric dotted: valid on every operation
    weight: float  # rollout share by the end of the simulated period (normalised per app)
    release_day: float  # day offset into the period at which it starts rolling out (0: present)


@dataclass(frozen=True, slots=True)
class EventSpec:
    name: str  # `event_name`
    per_session: float  # expected occurrences per session
    revenue: tuple[float, float] | None  # uniform range of af_revenue, when it carries one
    currency: str | None


@dataclass(frozen=True, slots=True)
class App:
    app_id: str
    dev_key: str  # local mock only; real keys come from the environment
    platforms: tuple[str, ...]
    plan: str  # "normal" or "zero" (blocked: 403)
    versions: tuple[AppVersion, ...]
    events: tuple[EventSpec, ...]


@dataclass(frozen=True, slots=True)
class ProfileSet:
    """Everything the generator needs, loaded once per process; callers keep and pass it."""

    profiles: Mapping[str, Profile]  # in contract.PLATFORMS order
    curves: Mapping[str, tuple[float, ...]]  # 24 hourly weights, normalised
    apps: Mapping[str, App]
    sources: tuple[Path, ...] = ()  # every file read: commands never write over one

    def mix(self, platforms: Sequence[str] | None = None) -> WeightedTable[Profile]:
        """The platforms to draw devices from, weighted by their (renormalised) profile weight."""
        names = tuple(self.profiles) if platforms is None else tuple(platforms)
        for name in names:
            if name not in self.profiles:
                raise UsageError(
                    f"unknown platform {name!r}; allowed: {', '.join(self.profiles)}"
                )
        if not names:
            raise UsageError(f"no platform given; allowed: {', '.join(self.profiles)}")
        return WeightedTable.of([(self.profiles[name], self.profiles[name].weight)
                                 for name in dict.fromkeys(names)])

    def app(self, app_id: str | None = None) -> App:
        """The app `app_id`, or by default the first on the normal plan (the zero plan's
        traffic is all 403s, which is no default for anything)."""
        if app_id:
            if app_id not in self.apps:
                raise UsageError(
                    f"unknown app {app_id!r}; known apps: {', '.join(self.apps) or 'none'}"
                )
            return self.apps[app_id]
        for app in self.apps.values():
            if app.plan == "normal":
                return app
        raise UsageError("no app on the normal plan in apps.yaml; pass --app")

    def app_platforms(self, app: App, wanted: Sequence[str] | None = None) -> list[str]:
        """The platforms to simulate for `app`: those it runs on that have a profile, or the
        `wanted` ones (in that order, without repeats) once each is checked."""
        if not wanted:
            chosen = [name for name in self.profiles if name in app.platforms]
            if not chosen:
                raise UsageError(f"app {app.app_id} runs on {', '.join(app.platforms)}, and "
                                 "none of those has a profile")
            return chosen
        for name in wanted:
            if name not in self.profiles:
                raise UsageError(f"unknown platform {name!r}; allowed: "
                                 f"{', '.join(self.profiles)}")
            if name not in app.platforms:
                raise UsageError(f"app {app.app_id} does not run on {name}; it runs on "
                                 f"{', '.join(app.platforms)}")
        return list(dict.fromkeys(wanted))


def os_parts(version: str) -> dict[str, str]:
    """The OS placeholders of a user-agent template; missing dotted parts render as "0"."""
    parts = version.split(".")
    parts += ["0"] * (3 - len(parts))
    return {"os": version, "os_major": parts[0], "os_minor": parts[1], "os_patch": parts[2]}


def render_user_agent(template: str, model: DeviceModel, os_version: str) -> str:
    return _render(template, model.name, os_version, model.vars)


def _render(template: str, model_name: str, os_version: str,
            variables: tuple[tuple[str, str], ...]) -> str:
    return template.format(model=model_name, **os_parts(os_version), **dict(variables))


# --------------------------------------------------------------------------- loading


def default_profiles_dir() -> Path:
    """`profiles/` of a checkout, else the copy an installed wheel carries."""
    package = Path(__file__).resolve().parent
    checkout = package.parent / "profiles"
    return checkout if checkout.is_dir() else package / "bundled_profiles"


def load_profiles(extra_dir: Path | None = None) -> ProfileSet:
    """The bundled profiles, curves and apps, with ``extra_dir``'s files added or overriding.

    A profile in ``extra_dir`` replaces the bundled one of the same ``platform``; its
    curves.yaml and apps.yaml replace the bundled ones. Raises ProfileError with every problem.
    """
    problems: list[str] = []
    docs = _read_dirs(default_profiles_dir(), extra_dir, problems)
    curves = _read_curves(docs.curves)
    apps = _read_apps(docs.apps)
    profiles = [_read_profile(doc, curves) for doc in docs.profiles]
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
    apps = _read_apps(doc)
    if doc.problems() or apps is None:
        raise ProfileError(doc.problems())
    return MappingProxyType(apps)


@dataclass(slots=True)
class _Docs:
    curves: YamlDoc | None
    apps: YamlDoc | None
    profiles: list[YamlDoc]
    opened: list[YamlDoc]  # every file read, in reading order, for its problems


def _read_dirs(bundled: Path, extra: Path | None, problems: list[str]) -> _Docs:
    """Every ``*.yaml`` and ``*.yml`` file of the bundled and the extra directory."""
    special: dict[str, YamlDoc | None] = {CURVES_FILE: None, APPS_FILE: None}
    by_platform: dict[str, YamlDoc] = {}
    unnamed: list[YamlDoc] = []
    opened: list[YamlDoc] = []
    for directory in (bundled, extra):
        if directory is None:
            continue
        if not directory.is_dir():
            problems.append(f"{_display(directory)}: not a directory")
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
    problems.extend(f"{_display(bundled / name)}: file not found"
                    for name, doc_or_none in special.items() if doc_or_none is None)
    return _Docs(special[CURVES_FILE], special[APPS_FILE], [*by_platform.values(), *unnamed],
                 opened)


def _display(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()


class YamlDoc:
    """One YAML file's node tree; every read names its place when it finds a problem."""

    def __init__(self, name: str, root: Node | None, path: Path | None = None) -> None:
        self.name = name
        self.root = root
        self.path = path
        self._found: list[tuple[int, int, str]] = []  # (line, column, problem)
        self.flagged: set[int] = set()  # ids of nodes already reported (shared templates)
        self._constructor = yaml.constructor.SafeConstructor()

    @classmethod
    def open(cls, path: Path) -> YamlDoc:
        """The file's node tree; a file that cannot be read or parsed has none."""
        doc = cls(_display(path), None, path)
        try:
            doc.root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
        except OSError as error:
            doc.fail(None, "(file)", f"cannot read: {error.strerror or error}")
        except UnicodeDecodeError:
            doc.fail(None, "(file)", "is not UTF-8 text")
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            doc.fail(_Position(mark) if mark else None, "(yaml)",
                     str(error.problem or error.context))
        else:
            if doc.root is None:
                doc.fail(None, "(document)", "is empty")
        return doc

    @property
    def failed(self) -> int:
        return len(self._found)

    def data(self) -> Any:
        """The document as plain Python values (for files read as a whole, such as fault
        plans); a duplicate key is a problem here, where a plain YAML load keeps the last."""
        if self.root is None:
            return None
        self._check_unique_keys(self.root)
        return yaml.constructor.SafeConstructor().construct_document(self.root)

    def _check_unique_keys(self, node: Node, where: str = "") -> None:
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._check_unique_keys(item, f"{where}[{index}]")
        elif isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, ScalarNode) else id(key_node)
                at = _join(where, str(key))
                if key in seen:
                    self.fail(key_node, at, "duplicate key")
                seen.add(key)
                self._check_unique_keys(value_node, at)

    def node_at(self, where: str) -> Node | None:
        """The deepest node on a path such as ``rules[0].latency.ms``: where a problem that
        was found in the plain values stands in the file."""
        node = self.root
        for step in re.findall(r"[^.\[\]]+|\[\d+\]", where):
            if isinstance(node, SequenceNode) and step.startswith("["):
                index = int(step[1:-1])
                if index >= len(node.value):
                    break
                node = node.value[index]
            elif isinstance(node, MappingNode):
                found = [value for key, value in node.value
                         if isinstance(key, ScalarNode) and key.value == step]
                if not found:
                    break
                node = found[-1]
            else:
                break
        return node

    def problems(self) -> list[str]:
        """Every problem found, in file order (by line, then column)."""
        return [problem for _, _, problem in sorted(self._found, key=lambda f: f[:2])]

    def fail(self, node: Node | _Position | None, where: str, rule: str) -> None:
        anchor = node or self.root
        mark = anchor.start_mark if anchor is not None else None
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self._found.append(
            (line, column, f"{self.name}:{line}:{column}: {where or '(document)'}: {rule}")
        )

    def peek(self, key: str) -> str | None:
        """A top-level string value without validating anything (to find overrides)."""
        if isinstance(self.root, MappingNode):
            for key_node, value_node in self.root.value:
                if key_node.value == key and isinstance(value_node, ScalarNode):
                    return str(value_node.value)
        return None

    # -- structure

    def fields(self, node: Node, where: str, required: Sequence[str],
               optional: Sequence[str] = ()) -> dict[str, Node] | None:
        """The mapping's values by key; unknown, duplicate and missing keys are problems.

        A missing required key maps to _MISSING, which every read skips silently, so the
        keys that are there still get checked.
        """
        if node is _MISSING:
            return None
        if not isinstance(node, MappingNode):
            self.fail(node, where, "must be a mapping")
            return None
        allowed = (*required, *optional)
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            at = _join(where, str(key))
            if key not in allowed:
                self.fail(key_node, at, f"unknown key (allowed: {', '.join(allowed)})")
            elif key in found:
                self.fail(key_node, at, "duplicate key")
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.fail(node, _join(where, key), "is required")
                found[key] = _MISSING
        return found

    def items(self, node: Node, where: str) -> list[Node]:
        if node is _MISSING:
            return []
        if not isinstance(node, SequenceNode):
            self.fail(node, where, "must be a list")
            return []
        if not node.value:
            self.fail(node, where, "must have at least one item")
        return list(node.value)

    def pairs(self, node: Node, where: str) -> list[tuple[Node, Node]]:
        if node is _MISSING:
            return []
        if not isinstance(node, MappingNode):
            self.fail(node, where, "must be a mapping")
            return []
        if not node.value:
            self.fail(node, where, "must have at least one entry")
        return list(node.value)

    # -- scalars

    def scalar(self, node: Node, where: str) -> Any:
        if node is _MISSING:
            return _INVALID
        if not isinstance(node, ScalarNode):
            self.fail(node, where, "must be a single value")
            return _INVALID
        construct = self._constructor.yaml_constructors.get(node.tag)
        if construct is None:
            self.fail(node, where, f"unsupported tag {node.tag}")
            return _INVALID
        return construct(self._constructor, node)

    def text(self, node: Node, where: str) -> str | None:
        value = self.scalar(node, where)
        if value is _INVALID:
            return None
        if type(value) is not str:
            self.fail(node, where, f"must be a string, got {_kind(value)} (quote it)")
            return None
        if not value.strip():
            self.fail(node, where, "must not be empty")
            return None
        return value

    def choice(self, node: Node, where: str, allowed: Sequence[str]) -> str | None:
        value = self.text(node, where)
        if value is not None and value not in allowed:
            self.fail(node, where, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return value

    def number(self, node: Node, where: str, low: float, high: float | None = None,
               *, open_low: bool = False) -> float | None:
        """A finite number in [low, high] (or (low, high] with ``open_low``)."""
        value = self.scalar(node, where)
        if value is _INVALID:
            return None
        if type(value) is str and _is_float(value):
            self.fail(node, where, f"must be a number, got the string {value!r}: YAML reads "
                      "an exponent without a dot as text; write it with one, e.g. 1.0e+3")
            return None
        if type(value) not in (int, float):
            self.fail(node, where, f"must be a number, got {_kind(value)}")
            return None
        if not math.isfinite(value):
            self.fail(node, where, f"must be a finite number, got {node.value}")
            return None
        if open_low and value <= low:
            self.fail(node, where, f"must be > {low:g}")
        elif value < low:
            self.fail(node, where, f"must be >= {low:g}")
        elif high is not None and value > high:
            self.fail(node, where, f"must be <= {high:g}")
        else:
            return float(value)
        return None

    def weight(self, node: Node, where: str) -> float | None:
        return self.number(node, where, 0, MAX_WEIGHT, open_low=True)

    def body_value(self, node: Node, where: str, field: str) -> str | None:
        """A string that ends up in request bodies: valid as ``field`` on every operation."""
        value = self.text(node, where)
        if value is not None:
            for problem in _contract_problems(field, value):
                self.fail(node, where, problem)
                value = None
        return value

    def weighted(self, node: Node, where: str, key: str, read: Callable[[Node, str], T | None],
                 optional: Sequence[str] = ()) -> list[_Entry[T]] | None:
        """A list of {key, weight, *optional} items; None when any has a problem."""
        before = self.failed
        entries: list[_Entry[T]] = []
        seen: set[Any] = set()
        for index, item in enumerate(self.items(node, where)):
            at = f"{where}[{index}]"
            found = self.fields(item, at, (key, "weight"), optional)
            if not found:
                continue
            value = read(found[key], f"{at}.{key}")
            weight = self.weight(found["weight"], f"{at}.weight")
            if value in seen:
                self.fail(found[key], f"{at}.{key}", f"duplicate {value!r}")
            elif value is not None and weight is not None:
                seen.add(value)
                entries.append(_Entry(value, weight, found, f"{at}.{key}"))
        return entries if self.failed == before and entries else None

    def weighted_map(self, node: Node, where: str,
                     read: Callable[[Node, str], T | None]) -> WeightedTable[T] | None:
        """A mapping {value: weight}."""
        before = self.failed
        pairs: list[tuple[T, float]] = []
        for key_node, value_node in self.pairs(node, where):
            at = _join(where, str(key_node.value))
            value = read(key_node, at)
            weight = self.weight(value_node, at)
            if value is not None and weight is not None:
                pairs.append((value, weight))
        return WeightedTable.of(pairs) if self.failed == before and pairs else None


@dataclass(frozen=True, slots=True)
class _Entry(Generic[T]):
    """One item of a weighted list, with its nodes so later checks can point at it."""

    value: T
    weight: float
    nodes: dict[str, Node]
    where: str  # field path of the value


@dataclass(frozen=True, slots=True)
class _Position:
    """Stands in for a node where only a mark is known (YAML syntax errors)."""

    start_mark: Any


class _Invalid:
    """Marks a scalar that could not be read (already reported)."""


_INVALID = _Invalid()
_MISSING: Final = ScalarNode("tag:yaml.org,2002:null", "")  # a required key that is absent
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _is_float(text: str) -> bool:
    """A finite number that YAML 1.1 left as text (``1e308``: no dot before the exponent)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _kind(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string",
            type(None): "null"}.get(type(value), type(value).__name__)


def _contract_problems(field: str, value: Any, wrap: Callable[[str], Any] | None = None,
                       ) -> list[str]:
    """contract.py's verdict on ``value`` as ``field`` on every operation that has the field."""
    failing: dict[str, list[str]] = {}
    for operation in contract.OPERATIONS:
        rule = contract.FIELD_RULES[operation].get(field)
        if rule is None:
            continue
        findings = contract.Findings()
        rule.check(field, wrap(value) if wrap else value, findings)
        for violation in findings.violations:
            failing.setdefault(violation.message, []).append(operation)
    return [f"must be a valid {field} on {', '.join(ops)}: {message}"
            for message, ops in failing.items()]


# --------------------------------------------------------------------------- curves and apps


def _read_curves(doc: YamlDoc | None) -> dict[str, tuple[float, ...]] | None:
    if doc is None or doc.root is None:
        return None
    before = doc.failed
    found = doc.fields(doc.root, "", ("curves",), ("sources",))
    curves: dict[str, tuple[float, ...]] = {}
    if found and "curves" in found:
        for key_node, value_node in doc.pairs(found["curves"], "curves"):
            name = doc.text(key_node, f"curves.{key_node.value}")
            curve = _read_curve(doc, value_node, f"curves.{key_node.value}")
            if name and curve:
                curves[name] = curve
    if found and "sources" in found:
        _read_sources(doc, found["sources"])
    return curves if doc.failed == before else None


def _read_curve(doc: YamlDoc, node: Node, where: str) -> tuple[float, ...] | None:
    items = doc.items(node, where)
    if items and len(items) != HOURS:
        doc.fail(node, where, f"must have {HOURS} hourly values, got {len(items)}")
        return None
    values = [doc.number(item, f"{where}[{hour}]", 0) for hour, item in enumerate(items)]
    if any(value is None for value in values) or not items:
        return None
    total = sum(values)  # type: ignore[arg-type]
    if total <= 0:
        doc.fail(node, where, "must have a positive sum")
        return None
    return tuple(value / total for value in values)  # type: ignore[operator]


def _read_sources(doc: YamlDoc, node: Node) -> tuple[str, ...]:
    sources = [doc.text(item, f"sources[{i}]") for i, item in enumerate(doc.items(node, "sources"))]
    return tuple(source for source in sources if source)


def _read_apps(doc: YamlDoc | None) -> dict[str, App] | None:
    if doc is None or doc.root is None:
        return None
    before = doc.failed
    found = doc.fields(doc.root, "", ("apps",))
    apps: dict[str, App] = {}
    for index, node in enumerate(doc.items(found["apps"], "apps") if found and "apps" in found
                                 else []):
        app = _read_app(doc, node, f"apps[{index}]")
        if app and app.app_id in apps:
            doc.fail(node, f"apps[{index}].app_id", f"duplicate {app.app_id!r}")
        elif app:
            apps[app.app_id] = app
    return apps if doc.failed == before else None


def _read_app(doc: YamlDoc, node: Node, where: str) -> App | None:
    before = doc.failed
    found = doc.fields(node, where, ("app_id", "dev_key", "platforms", "plan", "versions",
                                     "events"))
    if found is None:
        return None
    app_id = doc.text(found["app_id"], f"{where}.app_id")
    if app_id and not contract.APP_ID_PATTERN.fullmatch(app_id):
        doc.fail(found["app_id"], f"{where}.app_id",
                 f"must match {contract.APP_ID_PATTERN.pattern}")
    dev_key = doc.text(found["dev_key"], f"{where}.dev_key")
    if dev_key and not dev_key.isascii():
        doc.fail(found["dev_key"], f"{where}.dev_key", "must be ASCII (it keys the HMAC)")
    platforms = _read_app_platforms(doc, found["platforms"], f"{where}.platforms")
    plan = doc.choice(found["plan"], f"{where}.plan", PLANS)
    versions = doc.weighted(found["versions"], f"{where}.versions", "version",
                            lambda n, w: doc.body_value(n, w, "app_version"), ("release_day",))
    days = [_read_release_day(doc, entry) for entry in versions or ()]
    events = [_read_event(doc, item, f"{where}.events[{i}]")
              for i, item in enumerate(doc.items(found["events"], f"{where}.events"))]
    if doc.failed != before:
        return None
    total = sum(entry.weight for entry in versions or ())
    return App(
        app_id=app_id or "", dev_key=dev_key or "", platforms=platforms or (), plan=plan or "",
        versions=tuple(AppVersion(entry.value, entry.weight / total, day)
                       for entry, day in zip(versions or (), days, strict=True)),
        events=tuple(event for event in events if event),
    )


def _read_app_platforms(doc: YamlDoc, node: Node, where: str) -> tuple[str, ...] | None:
    if isinstance(node, ScalarNode):
        if doc.choice(node, where, ("all",)):
            return contract.PLATFORMS
        return None
    names = [doc.choice(item, f"{where}[{i}]", contract.PLATFORMS)
             for i, item in enumerate(doc.items(node, where))]
    return tuple(dict.fromkeys(name for name in names if name))


def _read_release_day(doc: YamlDoc, entry: _Entry[str]) -> float:
    node = entry.nodes.get("release_day")
    if node is None:
        return 0.0
    return doc.number(node, entry.where.removesuffix(".version") + ".release_day", 0) or 0.0


def _read_event(doc: YamlDoc, node: Node, where: str) -> EventSpec | None:
    before = doc.failed
    found = doc.fields(node, where, ("name", "per_session"), ("revenue", "currency"))
    if found is None:
        return None
    name = doc.body_value(found["name"], f"{where}.name", "event_name")
    per_session = doc.number(found["per_session"], f"{where}.per_session", 0)
    revenue = _read_revenue(doc, found["revenue"], f"{where}.revenue") if "revenue" in found \
        else None
    currency = None
    if "currency" in found:
        currency = doc.text(found["currency"], f"{where}.currency")
        for problem in _contract_problems("event_parameters", currency,
                                          lambda c: {"af_currency": c}) if currency else ():
            doc.fail(found["currency"], f"{where}.currency", problem)
    if doc.failed != before:
        return None
    return EventSpec(name or "", per_session or 0.0, revenue, currency)


def _read_revenue(doc: YamlDoc, node: Node, where: str) -> tuple[float, float] | None:
    items = doc.items(node, where)
    if len(items) != 2:
        doc.fail(node, where, "must be [min, max]")
        return None
    low = doc.number(items[0], f"{where}[0]", 0)
    high = doc.number(items[1], f"{where}[1]", 0)
    if low is None or high is None:
        return None
    if high < low:
        doc.fail(node, where, "max must be >= min")
        return None
    return (low, high)


# --------------------------------------------------------------------------- profiles

_PROFILE_KEYS = ("platform", "display_name", "weight", "ad_id", "household_sizes", "models",
                 "behaviour", "sources")
_BEHAVIOUR_KEYS = ("sessions_per_active_day", "session_minutes", "diurnal_curve",
                   "weekend_factor", "timezones", "daily_active_probability",
                   "retention_half_life_days", "second_first_open_share")


def _read_profile(doc: YamlDoc, curves: Mapping[str, Any] | None) -> Profile | None:
    if doc.root is None:
        return None
    before = doc.failed
    found = doc.fields(doc.root, "", _PROFILE_KEYS, ("os_versions", "user_agents"))
    if found is None:
        return None
    platform = doc.choice(found["platform"], "platform", contract.PLATFORMS) \
        if "platform" in found else None
    display_name = doc.text(found["display_name"], "display_name")
    weight = doc.weight(found["weight"], "weight")
    ad_id = _read_ad_id(doc, found["ad_id"], platform)
    households = doc.weighted_map(found["household_sizes"], "household_sizes",
                                  _household_size(doc))
    models = _read_models(doc, found["models"], found)
    behaviour = _read_behaviour(doc, found["behaviour"], curves)
    sources = _read_sources(doc, found["sources"])
    if doc.failed != before or platform is None:
        return None
    return Profile(
        platform=platform, display_name=_read(display_name), weight=_read(weight),
        ad_id=_read(ad_id), models=_read(models), household_sizes=_read(households),
        behaviour=_read(behaviour), sources=_read(sources), path=doc.name,
    )


def _read(value: T | None) -> T:
    """A value whose read found no problem. Every read that returns None records a problem,
    so once a caller has seen ``doc.failed`` unchanged, None cannot be here."""
    if value is None:
        raise AssertionError("a read returned None without recording a problem")
    return value


def _household_size(doc: YamlDoc) -> Callable[[Node, str], int | None]:
    def read(node: Node, where: str) -> int | None:
        value = doc.scalar(node, where)
        if type(value) is not int or not 1 <= value <= MAX_HOUSEHOLD:
            doc.fail(node, where, f"household size must be an integer 1..{MAX_HOUSEHOLD}")
            return None
        return value
    return read


def _read_ad_id(doc: YamlDoc, node: Node, platform: str | None) -> AdId | None:
    before = doc.failed
    found = doc.fields(node, "ad_id", ("type", "lat_probability"), ("format", "under_lat"))
    if found is None:
        return None
    lat = doc.number(found["lat_probability"], "ad_id.lat_probability", 0, 1)
    if found["type"] is _MISSING:
        return None
    id_type = _read_id_type(doc, found["type"], platform)
    id_format, under_lat = None, "omit"
    if id_type is None:
        for key in ("format", "under_lat"):
            if key in found:
                doc.fail(found[key], f"ad_id.{key}", "must be left out when type is null")
    else:
        for key in ("format", "under_lat"):
            if key not in found:
                doc.fail(node, f"ad_id.{key}", "is required when type is set")
        if "format" in found:
            id_format = doc.choice(found["format"], "ad_id.format", AD_ID_FORMATS)
        if "under_lat" in found:
            under_lat = doc.choice(found["under_lat"], "ad_id.under_lat", UNDER_LAT) or ""
    if doc.failed != before:
        return None
    return AdId(id_type, id_format, lat or 0.0, under_lat)


def _read_id_type(doc: YamlDoc, node: Node, platform: str | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
        return None
    id_type = doc.text(node, "ad_id.type")
    expected = contract.PLATFORM_AD_ID_TYPE.get(platform or "")
    if id_type is not None and platform is not None and id_type != expected:
        allowed = f"{expected!r} or null" if expected else "null"
        doc.fail(node, "ad_id.type", f"must be {allowed} on platform {platform!r}")
    return id_type


def _read_models(doc: YamlDoc, node: Node, profile: Mapping[str, Node],
                 ) -> WeightedTable[DeviceModel] | None:
    before = doc.failed
    defaults = {
        key: doc.weighted(profile[key], key, field, reader)
        for key, field, reader in _model_lists(doc) if key in profile
    }
    models: list[tuple[DeviceModel, float]] = []
    names: set[str] = set()
    for index, item in enumerate(doc.items(node, "models")):
        model = _read_model(doc, item, f"models[{index}]", defaults, profile)
        if model and model[0].name in names:
            doc.fail(item, f"models[{index}].name", f"duplicate {model[0].name!r}")
        elif model:
            names.add(model[0].name)
            models.append(model)
    return WeightedTable.of(models) if doc.failed == before and models else None


def _model_lists(doc: YamlDoc) -> tuple[tuple[str, str, Callable[[Node, str], str | None]], ...]:
    return (
        ("os_versions", "version", lambda n, w: doc.body_value(n, w, "device_os_version")),
        ("user_agents", "template", lambda n, w: doc.text(n, w)),
    )


def _read_model(doc: YamlDoc, node: Node, where: str, defaults: Mapping[str, Any],
                profile: Mapping[str, Node]) -> tuple[DeviceModel, float] | None:
    before = doc.failed
    found = doc.fields(node, where, ("name", "weight"), ("os_versions", "user_agents", "vars"))
    if found is None:
        return None
    name = doc.body_value(found["name"], f"{where}.name", "device_model")
    weight = doc.weight(found["weight"], f"{where}.weight")
    variables = _read_vars(doc, found["vars"], f"{where}.vars") if "vars" in found else ()
    lists = {}
    for key, field, reader in _model_lists(doc):
        if key in found:
            lists[key] = doc.weighted(found[key], f"{where}.{key}", field, reader)
        elif key in profile:
            lists[key] = defaults.get(key)
        else:
            doc.fail(node, f"{where}.{key}", f"is required (the profile has no default {key})")
    os_versions = tuple(entry.value for entry in lists.get("os_versions") or ())
    for entry in lists.get("user_agents") or ():
        _check_template(doc, entry, name or "", variables or (), os_versions)
    if doc.failed != before or not (name and weight and os_versions and lists["user_agents"]):
        return None  # a broken shared default list is reported where it is
    model = DeviceModel(name, _table(_read(lists["os_versions"])),
                        _table(_read(lists["user_agents"])), variables or ())
    return model, weight


def _table(entries: list[_Entry[str]]) -> WeightedTable[str]:
    return WeightedTable.of([(entry.value, entry.weight) for entry in entries])


def _read_vars(doc: YamlDoc, node: Node, where: str) -> tuple[tuple[str, str], ...] | None:
    before = doc.failed
    variables: list[tuple[str, str]] = []
    for key_node, value_node in doc.pairs(node, where):
        key = str(key_node.value)
        at = _join(where, key)
        if not key.isidentifier() or key in UA_PLACEHOLDERS:
            doc.fail(key_node, at, f"must be an identifier other than {', '.join(UA_PLACEHOLDERS)}")
        value = doc.scalar(value_node, at)
        if type(value) not in (str, int):
            doc.fail(value_node, at, f"must be a string, got {_kind(value)}")
        else:
            variables.append((key, str(value)))
    return tuple(variables) if doc.failed == before else None


def _check_template(doc: YamlDoc, entry: _Entry[str], model_name: str,
                    variables: tuple[tuple[str, str], ...], os_versions: Sequence[str]) -> None:
    """Placeholders must be known for the model, and every rendering a valid user_agent.

    A template shared by many models is reported once, naming the first model it fails for.
    """
    node = entry.nodes["template"]
    if id(node) in doc.flagged:
        return
    allowed = (*UA_PLACEHOLDERS, *(key for key, _ in variables))
    problem = _template_problem(entry.value, allowed)
    for os_version in os_versions if problem is None else ():
        agent = _render(entry.value, model_name, os_version, variables)
        for verdict in _contract_problems("user_agent", agent):
            problem = f"renders {agent!r} for {model_name!r} on {os_version!r}, which " \
                + verdict.replace("must be", "is not", 1)
            break
        if problem:
            break
    if problem:
        doc.flagged.add(id(node))
        doc.fail(node, entry.where, problem.replace("{MODEL}", repr(model_name)))


def _template_problem(template: str, allowed: Sequence[str]) -> str | None:
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"malformed template: {error}"
    for _, field, spec, conversion in fields:
        if field is not None and (field not in allowed or spec or conversion):
            return (f"unknown placeholder {{{field}}} for model {{MODEL}} "
                    f"(allowed: {', '.join(allowed)})")
    return None


def _read_behaviour(doc: YamlDoc, node: Node, curves: Mapping[str, Any] | None,
                    ) -> Behaviour | None:
    before = doc.failed
    found = doc.fields(node, "behaviour", _BEHAVIOUR_KEYS)
    if found is None:
        return None
    at = "behaviour."
    minutes = doc.fields(found["session_minutes"], f"{at}session_minutes", ("median", "sigma"))
    median = sigma = None
    if minutes:
        median = doc.number(minutes["median"], f"{at}session_minutes.median", 0, open_low=True)
        sigma = doc.number(minutes["sigma"], f"{at}session_minutes.sigma", 0, 5)
    curve = doc.text(found["diurnal_curve"], f"{at}diurnal_curve")
    if curve and curves is not None and curve not in curves:
        doc.fail(found["diurnal_curve"], f"{at}diurnal_curve",
                 f"{curve!r} is not a curve in {CURVES_FILE} ({', '.join(curves) or 'none'})")
    sessions = doc.weight(found["sessions_per_active_day"], f"{at}sessions_per_active_day")
    weekend = doc.weight(found["weekend_factor"], f"{at}weekend_factor")
    timezones = doc.weighted_map(found["timezones"], f"{at}timezones", _timezone(doc))
    active = doc.number(found["daily_active_probability"], f"{at}daily_active_probability",
                        0, 1, open_low=True)
    half_life = doc.weight(found["retention_half_life_days"], f"{at}retention_half_life_days")
    second = doc.number(found["second_first_open_share"], f"{at}second_first_open_share", 0, 1)
    if doc.failed != before:
        return None
    return Behaviour(
        sessions_per_active_day=_read(sessions), session_minutes_median=_read(median),
        session_minutes_sigma=_read(sigma), diurnal_curve=_read(curve),
        weekend_factor=_read(weekend), timezones=_read(timezones),
        daily_active_probability=_read(active), retention_half_life_days=_read(half_life),
        second_first_open_share=_read(second),
    )


def _timezone(doc: YamlDoc) -> Callable[[Node, str], str | None]:
    def read(node: Node, where: str) -> str | None:
        name = doc.text(node, where)
        if name is None:
            return None
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            doc.fail(node, where, f"{name!r} is not an IANA time zone")
            return None
        return name
    return read
