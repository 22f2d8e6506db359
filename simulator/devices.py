"""Simulated devices and the Faker provider that makes them.

Everything a device needs is drawn from tables built once per profile set with one
``random.Random``, so building a device costs a handful of random draws and no Faker calls:
the load generator makes devices by the hundred thousand.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from faker.providers import BaseProvider

from simulator import contract
from simulator.errors import InputError
from simulator.profiles import (
    AD_ID_FORMATS,
    DeviceModel,
    Profile,
    ProfileSet,
    WeightedTable,
    load_profiles,
    render_user_agent,
)

__all__ = ["CUSTOMER_USER_ID_SHARE", "CTVProvider", "Device", "DeviceFactory"]

# Share of devices whose app knows a signed-in user and sends `customer_user_id`. Profiles do
# not set it: it depends on the app (sign-in walls), not on the platform.
CUSTOMER_USER_ID_SHARE: Final = 0.3


@dataclass(frozen=True, slots=True)
class Device:
    """One simulated device; attribute names are the API's body field names."""

    platform: str
    ip: str
    user_agent: str
    device_os_version: str
    device_model: str
    device_ids: tuple[tuple[str, str], ...]  # (type, value) pairs; `custom` always first
    limit_ad_tracking: bool
    customer_user_id: str | None
    household_id: int  # devices of one household share `ip`
    timezone: str  # IANA name: where the device's local day happens

    @property
    def custom_id(self) -> str:
        return self.device_ids[0][1]

    def body_fields(self) -> dict[str, Any]:
        """The device's part of every request body, in contract.FIELD_ORDER order."""
        fields: dict[str, Any] = {}
        for name in _BODY_FIELDS:
            value = getattr(self, name)
            if name == "device_ids":
                value = [{"type": id_type, "value": id_value} for id_type, id_value in value]
            if value is not None:
                fields[name] = value
        return fields


_BODY_FIELDS: Final = tuple(name for name in contract.FIELD_ORDER if name in Device.__slots__)

# --------------------------------------------------------------------------- id formats


def _uuid_layout(bits: int, version: int | None) -> str:
    """128 random bits in 8-4-4-4-12 lowercase hex, with RFC 4122 version and variant if set."""
    if version is not None:
        bits = (bits & ~(0xF << 76) & ~(0xC << 60)) | (version << 76) | (0x8 << 60)
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


STEAMID64_BASE: Final = 76561197960265728  # SteamID64 of account 0 (individual, public)


@dataclass(frozen=True, slots=True)
class _IdFormat:
    draw: Callable[[random.Random], str]
    zeros: str  # what the SDK sends under LAT when it zeroes the id


_UUID_ZEROS: Final = "00000000-0000-0000-0000-000000000000"
ID_FORMATS: Final[dict[str, _IdFormat]] = {
    "uuid4": _IdFormat(lambda rng: _uuid_layout(rng.getrandbits(128), 4), _UUID_ZEROS),
    "uuid5": _IdFormat(lambda rng: _uuid_layout(rng.getrandbits(128), 5), _UUID_ZEROS),
    "guid": _IdFormat(lambda rng: _uuid_layout(rng.getrandbits(128), None), _UUID_ZEROS),
    "hex32": _IdFormat(lambda rng: f"{rng.getrandbits(128):032x}", "0" * 32),
    "steamid64": _IdFormat(lambda rng: str(STEAMID64_BASE + rng.randrange(1, 1 << 32)), "0" * 17),
    "uint64": _IdFormat(lambda rng: str(rng.randrange(1, 1 << 64)), "0"),
}
assert tuple(ID_FORMATS) == AD_ID_FORMATS, "profiles.AD_ID_FORMATS and ID_FORMATS must agree"

# --------------------------------------------------------------------------- public IPv4


def _public_ipv4(rng: random.Random) -> str:
    while True:
        address = rng.getrandbits(32)
        if contract.is_public_ipv4(address):  # the contract says which addresses are public
            return f"{address >> 24}.{address >> 16 & 255}.{address >> 8 & 255}.{address & 255}"


# --------------------------------------------------------------------------- generation


@dataclass(slots=True)
class _Platform:
    """A profile compiled for drawing: its tables plus a cache of rendered user agents."""

    profile: Profile
    ad_format: _IdFormat | None
    agents: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def user_agent(self, model: DeviceModel, os_version: str, template: str) -> str:
        key = (model.name, os_version, template)
        agent = self.agents.get(key)
        if agent is None:
            agent = self.agents[key] = render_user_agent(template, model, os_version)
        return agent


@dataclass(slots=True)
class _Household:
    platform: _Platform
    ip: str
    timezone: str
    household_id: int
    remaining: int


class _Builder:
    """The pure drawing logic, shared by DeviceFactory (households) and CTVProvider."""

    def __init__(self, profile_set: ProfileSet) -> None:
        self.platforms = {
            name: _Platform(profile, ID_FORMATS[profile.ad_id.format]
                            if profile.ad_id.format else None)
            for name, profile in profile_set.profiles.items()
        }
        self.mix = profile_set.mix()
        # Households are drawn, devices counted: weigh platforms by weight / mean household
        # size so that each platform's share of DEVICES is its profile weight.
        self.household_mix = WeightedTable.of([
            (self.platforms[p.platform], p.weight / _mean(p.household_sizes))
            for p in self.mix.values
        ])

    def platform(self, name: str) -> _Platform:
        entry = self.platforms.get(name)
        if entry is None:
            raise InputError(f"unknown platform {name!r}; allowed: {', '.join(self.platforms)}")
        return entry

    def household(self, rng: random.Random, platform: _Platform, household_id: int,
                  ) -> _Household:
        profile = platform.profile
        size = profile.household_sizes.pick(rng)
        return _Household(platform, _public_ipv4(rng), profile.behaviour.timezones.pick(rng),
                          household_id, size)

    def device(self, rng: random.Random, household: _Household) -> Device:
        platform = household.platform
        profile = platform.profile
        model = profile.models.pick(rng)
        os_version = model.os_versions.pick(rng)
        agent = platform.user_agent(model, os_version, model.user_agents.pick(rng))
        ad_id = profile.ad_id
        limited = rng.random() < ad_id.lat_probability
        ids = [("custom", _uuid_layout(rng.getrandbits(128), 4))]
        if platform.ad_format is not None and ad_id.type is not None:
            if not limited or ad_id.under_lat == "keep":
                ids.append((ad_id.type, platform.ad_format.draw(rng)))
            elif ad_id.under_lat == "zeros":
                ids.append((ad_id.type, platform.ad_format.zeros))
        customer = (f"user-{rng.getrandbits(48):012x}"
                    if rng.random() < CUSTOMER_USER_ID_SHARE else None)
        return Device(profile.platform, household.ip, agent, os_version, model.name, tuple(ids),
                      limited, customer, household.household_id, household.timezone)


def _mean(table: WeightedTable[int]) -> float:
    return sum(size * weight for size, weight in zip(table.values, table.weights, strict=True))


# Household ids of worker w are w << 40 | counter: disjoint across workers.
_WORKER_SHIFT: Final = 40


@dataclass(slots=True)
class _Stream:
    """One random stream of a factory, with the household it is in the middle of."""

    rng: random.Random
    household: _Household | None = None


class DeviceFactory:
    """A deterministic stream of devices for one (seed, worker).

    Consecutive devices of one household share its public IP and time zone. Each platform (and
    the mix) has its own random stream, so roku devices of seed 1 share nothing with tizen
    devices of seed 1. Streams continue across calls: two ``devices(500)`` calls give the same
    devices as one ``devices(1000)``.
    """

    def __init__(self, profile_set: ProfileSet, seed: int, worker: int = 0) -> None:
        if worker < 0:
            raise InputError(f"worker must be >= 0, got {worker}")
        self._builder = _Builder(profile_set)
        self._seed = f"ctvsim-devices:{seed}:{worker}"
        self._streams: dict[str | None, _Stream] = {}
        self._next_household = worker << _WORKER_SHIFT

    def devices(self, n: int, platform: str | None = None) -> Iterator[Device]:
        """``n`` devices of ``platform``, or of the default mix when it is None."""
        if n < 0:
            raise InputError(f"n must be >= 0, got {n}")
        entry = None if platform is None else self._builder.platform(platform)
        stream = self._stream(platform)
        return (self._next(stream, entry) for _ in range(n))

    def device(self, platform: str | None = None) -> Device:
        entry = None if platform is None else self._builder.platform(platform)
        return self._next(self._stream(platform), entry)

    def _stream(self, platform: str | None) -> _Stream:
        stream = self._streams.get(platform)
        if stream is None:
            # A string seed goes through SHA-512: stable across processes and Python builds.
            rng = random.Random(f"{self._seed}:{platform or 'mix'}")
            stream = self._streams[platform] = _Stream(rng)
        return stream

    def _next(self, stream: _Stream, entry: _Platform | None) -> Device:
        household = stream.household
        if household is None or household.remaining <= 0:
            chosen = entry or self._builder.household_mix.pick(stream.rng)
            household = stream.household = self._builder.household(
                stream.rng, chosen, self._next_household
            )
            self._next_household += 1
        household.remaining -= 1
        return self._builder.device(stream.rng, household)


class CTVProvider(BaseProvider):
    """Faker provider: ``fake.ctv_device(platform="roku")`` after ``fake.add_provider(...)``.

    Draws with Faker's own random instance, so ``fake.seed_instance(1)`` fixes the devices.
    Each call is a household of its own; use DeviceFactory for households and speed. Uses the
    bundled profiles, loaded on first use; ``CTVProvider.using(profile_set)`` uses others.
    """

    profile_set: ProfileSet | None = None

    @classmethod
    def using(cls, profile_set: ProfileSet) -> type[CTVProvider]:
        """A provider class bound to ``profile_set``, for ``fake.add_provider(...)``."""
        return type(cls.__name__, (cls,), {"profile_set": profile_set})

    def ctv_device(self, platform: str | None = None) -> Device:
        builder = self._ctv_builder()
        rng = self.generator.random
        entry = builder.mix.pick(rng) if platform is None else None
        chosen = builder.platform(platform or entry.platform)  # type: ignore[union-attr]
        household = builder.household(rng, chosen, rng.getrandbits(_WORKER_SHIFT))
        return builder.device(rng, household)

    def _ctv_builder(self) -> _Builder:
        builder: _Builder | None = getattr(self, "_builder", None)
        if builder is None:
            builder = self._builder = _Builder(self.profile_set or load_profiles())
        return builder
