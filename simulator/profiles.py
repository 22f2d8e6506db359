"""Typed, immutable device profiles and apps, loaded and validated from YAML.

INTERFACE DRAFT (foundation): the loader below is being written; the types are the
agreed interface the generator, behaviour model and load harness code against.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class DeviceModel:
    name: str  # exactly as sent in `device_model`
    os_versions: WeightedTable[str]  # the versions this model runs (the profile's when untied)
    user_agents: WeightedTable[str]  # templates; placeholders: {model} {os} {os_major} ...


@dataclass(frozen=True, slots=True)
class AdId:
    type: str | None  # contract id type (`rida`, `tifa`, ...); None: the platform has none
    format: str  # uuid4 | uuid5 | steamid64 | hex32 | ... (see devices.py)
    lat_probability: float
    under_lat: str  # "omit": no ad id when LAT is on; "zeros": all-zero id of the same format


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
    weight: float  # rollout share by the end of the simulated period
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
