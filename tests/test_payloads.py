"""Request bodies: valid for their operation, signed over the exact bytes, deterministic."""

from __future__ import annotations

import random
import uuid

import orjson
import pytest

from simulator import contract, signing
from simulator.behaviour import Period, Simulation, parse_start
from simulator.devices import DeviceFactory
from simulator.payloads import AppPayloads, request_ids
from simulator.profiles import ProfileSet, load_profiles
from simulator.signing import Signer

START = parse_start("2026-03-02T00:00:00Z")


@pytest.fixture(scope="module")
def profile_set() -> ProfileSet:
    return load_profiles()


def test_every_body_of_every_app_and_platform_is_valid_and_signed(
        profile_set: ProfileSet) -> None:
    checked = {operation: 0 for operation in contract.OPERATIONS}
    ids = request_ids(random.Random(0))
    for app in profile_set.apps.values():
        platforms = [name for name in app.platforms if name in profile_set.profiles]
        subset = ProfileSet({name: profile_set.profiles[name] for name in platforms},
                            profile_set.curves, profile_set.apps)
        sim = Simulation(subset, app, Period.of_days(START, 10), seed=3)
        payloads = AppPayloads(app, app.dev_key)
        for index, device in enumerate(DeviceFactory(subset, seed=3).devices(120)):
            builder = payloads.device(device)
            for event in sim.timeline(device, index):
                request = builder.request(event, next(ids))
                body = orjson.loads(request.body)
                assert contract.validate(event.operation, body, platform=device.platform) == []
                # Valid on the strictest operation too: one body shape fits every endpoint.
                for operation in contract.OPERATIONS:
                    violations = contract.validate(operation, body)
                    assert all(v.rule == "required" for v in violations), violations
                assert list(body) == [f for f in contract.FIELD_ORDER if f in body]
                assert signing.verify(request.body, app.dev_key, request.headers["authorization"])
                assert request.headers["content-type"] == "application/json"
                assert request.path == contract.relative_path(event.operation, device.platform,
                                                              app.app_id)
                assert body["timestamp"] == event.time_ms == request.time_ms
                assert orjson.dumps(body) == request.body  # compact, nothing re-ordered
                checked[event.operation] += 1
    assert min(checked.values()) > 100, checked


def test_inapp_bodies_carry_event_name_and_revenue(profile_set: ProfileSet) -> None:
    app = profile_set.apps["com.example.ctvstream"]
    sim = Simulation(profile_set, app, Period.of_days(START, 14), seed=9)
    payloads = AppPayloads(app, app.dev_key)
    ids = request_ids(random.Random(9))
    with_revenue = 0
    for index, device in enumerate(DeviceFactory(profile_set, seed=9).devices(400)):
        builder = payloads.device(device)
        for event in sim.timeline(device, index):
            if event.operation != contract.INAPP:
                continue
            rid = next(ids)
            raw = builder.body(event, rid.encode())
            line = orjson.loads(builder.record(event, rid.encode(), b'"headers":{"authorization":'))
            assert line["body"] == raw.decode()  # the JSON-string form in a generate line
            assert signing.verify(raw, app.dev_key, line["headers"]["authorization"])
            body = orjson.loads(raw)
            assert body["event_name"] == event.spec.name
            if event.spec.revenue is not None:
                with_revenue += 1
                assert body["event_parameters"] == {"af_revenue": event.revenue,
                                                    "af_currency": event.spec.currency}
            else:
                assert "event_parameters" not in body
    assert with_revenue > 0


def test_timestamp_override_for_live_sending(profile_set: ProfileSet) -> None:
    app = profile_set.apps["com.example.ctvstream"]
    device = next(DeviceFactory(profile_set, seed=1).devices(1))
    event = next(Simulation(profile_set, app, Period.of_days(START, 1), 1).timeline(device, 0))
    request = AppPayloads(app, "k").device(device).request(event, str(uuid.uuid4()), 42)
    assert orjson.loads(request.body)["timestamp"] == 42 == request.time_ms


def test_request_ids_are_lowercase_uuid4_and_deterministic() -> None:
    first = [next(ids) for ids in [request_ids(random.Random(5))] for _ in range(2000)]
    again = list(zip(range(2000), request_ids(random.Random(5)), strict=False))
    assert first == [rid for _, rid in again]
    assert len(set(first)) == len(first)
    for rid in first:
        assert uuid.UUID(rid).version == 4 and str(uuid.UUID(rid)) == rid
    assert next(request_ids(random.Random(6))) != first[0]


@pytest.mark.parametrize("key", ["w8sZzy8EaPaxFKfaoTqUi6", "", "k" * 64, "long" * 40])
def test_signer_matches_the_reference_hmac(key: str) -> None:
    body = b'{"timestamp":1604503583337,"ip":"127.0.0.1"}'
    assert Signer(key)(body) == signing.sign(body, key)
    assert key not in repr(Signer(key)) or not key


def test_signer_reproduces_the_published_vector() -> None:
    body = (b'{"timestamp":1604503583337,"ip":"127.0.0.1","user_agent":"Roku/DVP-9.21 '
            b'(AE9.21E04090A)","device_os_version":"9.3.0","device_model":"3920X","device_ids":'
            b'[{"type":"rida","value":"fa73d67d-f55c-5af3-883a-726253dc7d0e"}],'
            b'"limit_ad_tracking":false}')
    assert Signer("w8sZzy8EaPaxFKfaoTqUi6")(body) == (
        "715b133d5a327b77beb898688a3ad438da0f78071cd3df70e8ec5ecf60751972")
