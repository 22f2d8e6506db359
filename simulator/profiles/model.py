"""The profiles' data model: immutable platforms, device models, apps, and the queries a run
asks of them (``ProfileSet``). Plain data with small methods; nothing here reads a file."""

from __future__ import annotations

import bisect
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from simulator.errors import InputError
from simulator.retries import FixedRetry

T = TypeVar("T")

# The ad id formats devices.py can generate (it holds one generator per name).
AD_ID_FORMATS = ("uuid4", "uuid5", "guid", "hex32", "steamid64", "uint64")
UNDER_LAT = ("omit", "zeros", "keep")
PLANS = ("normal", "zero")
UA_PLACEHOLDERS = ("model", "os", "os_major", "os_minor", "os_patch")
APPS_FILE = "apps.yaml"
CURVES_FILE = "curves.yaml"
SDKS_FILE = "sdks.yaml"
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


# How an SDK writes the send instant (sdks.yaml explains each), the request id, and
# event_custom_parameters; when its launch counter moves (so when first_open stops).
TIMESTAMP_FORMATS = ("number", "digits", "seconds_ms", "datetime", "none")
REQUEST_ID_FORMATS = ("uuid4", "guid")
CUSTOM_PARAMETER_FORMATS = ("string", "object")
COUNTERS = ("at_init", "before_send", "on_success", "on_response")
RETRY_ON_CONNECTION = "connection"


@dataclass(frozen=True, slots=True)
class SdkQuirk:
    name: str
    what: str  # the departure from the published schema, in a sentence
    changes: Mapping[str, Any]  # the Sdk fields it sets (constants: added to the SDK's)


@dataclass(frozen=True, slots=True)
class Sdk:
    """What one AppsFlyer SDK puts on the C2S wire (profiles/sdks.yaml), quirks apart:
    ``with_quirks()`` is the SDK as it really sends."""

    name: str  # the key in sdks.yaml
    display_name: str
    source: str
    fields: tuple[str, ...]  # the body's fields in the SDK's order
    ad_id_first: bool
    timestamp: str  # TIMESTAMP_FORMATS
    request_id: str  # REQUEST_ID_FORMATS
    custom_parameters: str  # CUSTOM_PARAMETER_FORMATS
    constants: Mapping[str, Any]
    id_type: str | None  # the ad id type written instead of the profile's
    headers: tuple[tuple[str, str], ...]  # (name, template: {signature} {user_agent})
    counter: str  # COUNTERS
    retry: FixedRetry  # its re-sends, as the policy the senders apply
    quirks: tuple[SdkQuirk, ...]

    def with_quirks(self) -> Sdk:
        sdk = self
        for quirk in self.quirks:
            changes = dict(quirk.changes)
            if "constants" in changes:
                changes["constants"] = {**sdk.constants, **changes["constants"]}
            sdk = replace(sdk, **changes)
        return replace(sdk, quirks=())


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
    sdk: Sdk | None = None  # what its devices send on C2S; None: no C2S client (S2S only)


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
    custom_parameters: tuple[tuple[str, str], ...] = ()  # event_custom_parameters, in order


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
                raise InputError(
                    f"unknown platform {name!r}; allowed: {', '.join(self.profiles)}"
                )
        if not names:
            raise InputError(f"no platform given; allowed: {', '.join(self.profiles)}")
        return WeightedTable.of([(self.profiles[name], self.profiles[name].weight)
                                 for name in dict.fromkeys(names)])

    def app(self, app_id: str | None = None) -> App:
        """The app `app_id`, or by default the first on the normal plan (the zero plan's
        traffic is all 403s, which is no default for anything)."""
        if app_id:
            if app_id not in self.apps:
                raise InputError(
                    f"unknown app {app_id!r}; known apps: {', '.join(self.apps) or 'none'}"
                )
            return self.apps[app_id]
        for app in self.apps.values():
            if app.plan == "normal":
                return app
        raise InputError("no app on the normal plan in apps.yaml; pass --app")

    def app_platforms(self, app: App, wanted: Sequence[str] | None = None) -> list[str]:
        """The platforms to simulate for `app`: those it runs on that have a profile, or the
        `wanted` ones (in that order, without repeats) once each is checked."""
        if not wanted:
            chosen = [name for name in self.profiles if name in app.platforms]
            if not chosen:
                raise InputError(f"app {app.app_id} runs on {', '.join(app.platforms)}, and "
                                 "none of those has a profile")
            return chosen
        for name in wanted:
            if name not in self.profiles:
                raise InputError(f"unknown platform {name!r}; allowed: "
                                 f"{', '.join(self.profiles)}")
            if name not in app.platforms:
                raise InputError(f"app {app.app_id} does not run on {name}; it runs on "
                                 f"{', '.join(app.platforms)}")
        return list(dict.fromkeys(wanted))


def os_parts(version: str) -> dict[str, str]:
    """The OS placeholders of a user-agent template; missing dotted parts render as "0"."""
    parts = version.split(".")
    parts += ["0"] * (3 - len(parts))
    return {"os": version, "os_major": parts[0], "os_minor": parts[1], "os_patch": parts[2]}


def render_user_agent(template: str, model: DeviceModel, os_version: str) -> str:
    return render(template, model.name, os_version, model.vars)


def render(template: str, model_name: str, os_version: str,
            variables: tuple[tuple[str, str], ...]) -> str:
    return template.format(model=model_name, **os_parts(os_version), **dict(variables))


# --------------------------------------------------------------------------- loading
