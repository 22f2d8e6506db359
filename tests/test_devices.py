"""Generated devices over the real bundled profiles: valid, public, deterministic, and
distributed as their profiles say."""

from __future__ import annotations

import functools
import ipaddress
import math
import random
import re
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import replace
from pathlib import Path

import orjson
import pytest
from faker import Faker

from simulator import contract
from simulator.devices import (
    CUSTOMER_USER_ID_SHARE,
    CTVProvider,
    Device,
    DeviceFactory,
)
from simulator.profiles import AD_ID_FORMATS, ProfileSet, load_profiles

PER_PLATFORM = 10_000
ROOT = Path(__file__).resolve().parent.parent

# Stated tolerance for a share p over n draws: 4.5 standard errors plus 0.002 (the seeds are
# fixed, so this is about how far a correct generator may sit, not about flakiness).
def tolerance(p: float, n: int) -> float:
    return 4.5 * math.sqrt(p * (1 - p) / n) + 0.002


@functools.cache
def profile_set() -> ProfileSet:
    return load_profiles()


@functools.cache
def sample(platform: str) -> tuple[Device, ...]:
    return tuple(DeviceFactory(profile_set(), seed=2026).devices(PER_PLATFORM, platform))


def assert_shares(observed: Counter, expected: dict, n: int) -> None:
    assert set(observed) <= set(expected), set(observed) - set(expected)
    for value, p in expected.items():
        share = observed[value] / n
        assert abs(share - p) <= tolerance(p, n), (value, share, p)


PLATFORMS = contract.PLATFORMS


@pytest.mark.parametrize("platform", PLATFORMS)
def test_model_os_and_lat_shares_match_the_profile(platform: str) -> None:
    profile = profile_set().profiles[platform]
    devices = sample(platform)
    models = profile.models
    assert_shares(Counter(d.device_model for d in devices),
                  dict(zip((m.name for m in models.values), models.weights, strict=True)),
                  PER_PLATFORM)
    expected_os: Counter = Counter()
    for model, model_weight in zip(models.values, models.weights, strict=True):
        for version, weight in zip(model.os_versions.values, model.os_versions.weights,
                                   strict=True):
            expected_os[version] += model_weight * weight
    assert_shares(Counter(d.device_os_version for d in devices), dict(expected_os), PER_PLATFORM)
    lat = profile.ad_id.lat_probability
    assert_shares(Counter(d.limit_ad_tracking for d in devices), {True: lat, False: 1 - lat},
                  PER_PLATFORM)
    with_user = sum(d.customer_user_id is not None for d in devices) / PER_PLATFORM
    assert abs(with_user - CUSTOMER_USER_ID_SHARE) <= tolerance(CUSTOMER_USER_ID_SHARE,
                                                                PER_PLATFORM)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_households_share_ip_and_timezone_and_match_sizes(platform: str) -> None:
    profile = profile_set().profiles[platform]
    devices = sample(platform)
    runs: list[list[Device]] = []
    for device in devices:
        if runs and runs[-1][0].household_id == device.household_id:
            runs[-1].append(device)
        else:
            runs.append([device])
    assert len({run[0].household_id for run in runs}) == len(runs)  # consecutive, never split
    for run in runs:
        assert {(d.ip, d.timezone) for d in run} == {(run[0].ip, run[0].timezone)}
    complete = runs[:-1]  # the last household may be cut short by n
    sizes = profile.household_sizes
    assert_shares(Counter(len(run) for run in complete),
                  dict(zip(sizes.values, sizes.weights, strict=True)), len(complete))
    zones = profile.behaviour.timezones
    assert_shares(Counter(run[0].timezone for run in complete),
                  dict(zip(zones.values, zones.weights, strict=True)), len(complete))


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_body_is_valid_on_all_operations(platform: str) -> None:
    seen = set()
    for device in sample(platform):
        fields = device.body_fields()
        assert list(fields) == [name for name in contract.FIELD_ORDER if name in fields]
        key = orjson.dumps({**fields, "ip": "", "device_ids": [], "customer_user_id": ""})
        if key in seen:  # identical apart from random ids: validated once per shape
            continue
        seen.add(key)
        for operation in contract.OPERATIONS:
            body = {**fields, "event_name": "af_content_view"} if operation == contract.INAPP \
                else fields
            findings = contract.inspect(operation, body, platform=platform)
            assert findings.ok and not findings.warnings, (operation, body, findings)


def test_every_id_value_is_valid_on_all_operations() -> None:
    """The shape-deduplicated test above skips ids and IPs; check those on every device."""
    rule = contract.FIELD_RULES[contract.FIRST_OPEN]["device_ids"]
    for platform in PLATFORMS:
        for device in sample(platform):
            findings = contract.Findings()
            rule.check("device_ids", device.body_fields()["device_ids"], findings)
            assert findings.ok, findings


NON_PUBLIC = [ipaddress.IPv4Network(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
)]


def test_every_ip_is_public_ipv4() -> None:
    ips = {device.ip for platform in PLATFORMS for device in sample(platform)}
    for ip in ips:
        address = ipaddress.ip_address(ip)
        assert address.version == 4 and address.is_global, ip
        assert not any(address in network for network in NON_PUBLIC), ip
        assert str(address) == ip  # canonical dotted quad, no leading zeros


def test_the_non_public_table_covers_every_range_ipaddress_calls_non_global() -> None:
    """is_public_ipv4 answers from its own table alone: check it against ipaddress at every
    boundary of the ranges both know and at random addresses."""
    edges = [int(net.network_address) + offset for net in NON_PUBLIC
             for offset in (-1, 0, 1)] + [int(net.broadcast_address) + offset
                                          for net in NON_PUBLIC for offset in (-1, 0, 1)]
    small = [int(ipaddress.IPv4Address(ip)) for ip in (
        "192.0.0.8", "192.0.0.9", "192.0.0.10", "192.0.0.170", "192.0.0.171", "255.255.255.255")]
    rng = random.Random(5)
    candidates = edges + small + [rng.getrandbits(32) for _ in range(200_000)]
    for value in candidates:
        if 0 <= value < 2**32 and contract.is_public_ipv4(value):
            assert ipaddress.IPv4Address(value).is_global, ipaddress.IPv4Address(value)


FORMAT_CHECKS = {
    "uuid4": lambda v: uuid.UUID(v).version == 4 and str(uuid.UUID(v)) == v,
    "uuid5": lambda v: uuid.UUID(v).version == 5 and str(uuid.UUID(v)) == v,
    "guid": lambda v: re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                                   v) is not None,
    "hex32": lambda v: re.fullmatch(r"[0-9a-f]{32}", v) is not None,
    "steamid64": lambda v: len(v) == 17 and v.isdigit()
    and 76561197960265728 < int(v) < 76561197960265728 + 2**32,
    "uint64": lambda v: v.isdigit() and 0 < int(v) < 2**64 and v == str(int(v)),
}
ZEROS = {"uuid4": "00000000-0000-0000-0000-000000000000",
         "uuid5": "00000000-0000-0000-0000-000000000000",
         "guid": "00000000-0000-0000-0000-000000000000",
         "hex32": "0" * 32, "steamid64": "0" * 17, "uint64": "0"}


def test_every_format_has_an_independent_check() -> None:
    assert set(FORMAT_CHECKS) == set(ZEROS) == set(AD_ID_FORMATS)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_ids_follow_format_and_lat_rule(platform: str) -> None:
    ad_id = profile_set().profiles[platform].ad_id
    for device in sample(platform):
        (custom_type, custom), *rest = device.device_ids
        assert custom_type == "custom" and FORMAT_CHECKS["uuid4"](custom)
        if ad_id.type is None or (device.limit_ad_tracking and ad_id.under_lat == "omit"):
            assert rest == []
            continue
        [(id_type, value)] = rest
        assert id_type == ad_id.type
        if device.limit_ad_tracking and ad_id.under_lat == "zeros":
            assert value == ZEROS[ad_id.format]
        else:
            assert FORMAT_CHECKS[ad_id.format](value), value


def test_custom_ids_are_unique_across_platforms_and_workers() -> None:
    ids = [d.custom_id for platform in PLATFORMS for d in sample(platform)]
    other_worker = DeviceFactory(profile_set(), seed=2026, worker=1).devices(PER_PLATFORM)
    ids += [d.custom_id for d in other_worker]
    assert len(ids) == len(set(ids))


def test_workers_and_seeds_give_distinct_devices() -> None:
    def first(seed: int, worker: int) -> list[Device]:
        return list(DeviceFactory(profile_set(), seed, worker).devices(50))
    assert first(1, 0) == first(1, 0)
    assert first(1, 0) != first(1, 1) and first(1, 0) != first(2, 0)
    households = {d.household_id for w in (0, 1, 2) for d in first(1, w)}
    assert len(households) == len({(w, d.household_id) for w in (0, 1, 2) for d in first(1, w)})


def test_stream_continues_across_calls() -> None:
    whole = list(DeviceFactory(profile_set(), 5).devices(300))
    factory = DeviceFactory(profile_set(), 5)
    assert list(factory.devices(100)) + list(factory.devices(200)) == whole


def test_mix_shares_follow_profile_weights() -> None:
    n = 40_000
    devices = DeviceFactory(profile_set(), seed=9).devices(n)
    counts = Counter(device.platform for device in devices)
    expected = {name: p.weight for name, p in profile_set().profiles.items()}
    assert_shares(counts, expected, n)


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True,
                          cwd=ROOT, timeout=60, check=False)


def test_jsonl_is_byte_identical_per_seed_and_differs_across_seeds() -> None:
    args = ("devices", "--mix", "-n", "1000", "--format", "jsonl")
    first, again, other = (run_cli(*args, "--seed", seed) for seed in ("1", "1", "2"))
    assert first.returncode == again.returncode == other.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout
    lines = first.stdout.splitlines()
    assert len(lines) == 1000
    factory = DeviceFactory(profile_set(), 1).devices(1000)
    for line, device in zip(lines, factory, strict=True):
        record = orjson.loads(line)
        assert record == {"platform": device.platform, **device.body_fields()}
        assert list(record)[:3] == ["platform", "ip", "user_agent"]
        assert line == orjson.dumps(record)  # compact: no spaces


def test_faker_provider_is_seeded_by_faker() -> None:
    fake = Faker()
    fake.add_provider(CTVProvider)
    fake.seed_instance(1)
    first = [fake.ctv_device(platform="roku") for _ in range(20)]
    fake.seed_instance(1)
    assert [fake.ctv_device(platform="roku") for _ in range(20)] == first
    fake.seed_instance(2)
    assert [fake.ctv_device(platform="roku") for _ in range(20)] != first
    assert {d.platform for d in first} == {"roku"}
    mixed = {fake.ctv_device().platform for _ in range(400)}
    assert {"roku", "tizen", "webos"} <= mixed
    with pytest.raises(Exception, match="unknown platform 'android'"):
        fake.ctv_device(platform="android")


@pytest.mark.parametrize(("under_lat", "ad_ids"), [
    ("omit", set()), ("zeros", {"00000000-0000-0000-0000-000000000000"}), ("keep", None),
])
def test_under_lat_rules(under_lat: str, ad_ids: set[str] | None) -> None:
    roku = profile_set().profiles["roku"]
    always_lat = replace(roku, ad_id=replace(roku.ad_id, lat_probability=1.0, under_lat=under_lat))
    only = ProfileSet({"roku": always_lat}, profile_set().curves, profile_set().apps)
    devices = list(DeviceFactory(only, 3).devices(200))
    assert all(d.limit_ad_tracking for d in devices)
    values = {value for d in devices for id_type, value in d.device_ids if id_type == "rida"}
    if ad_ids is None:  # kept: a real id on every device
        assert len(values) == 200 and all(FORMAT_CHECKS["uuid5"](v) for v in values)
    else:
        assert values == ad_ids


def test_faker_provider_with_other_profiles() -> None:
    roku_only = ProfileSet({"roku": profile_set().profiles["roku"]}, profile_set().curves,
                           profile_set().apps)
    fake = Faker()
    fake.add_provider(CTVProvider.using(roku_only))
    fake.seed_instance(3)
    assert {fake.ctv_device().platform for _ in range(50)} == {"roku"}
    assert CTVProvider.profile_set is None  # the bundled provider is unchanged
