"""Every rule of CONTRACT.md, from a body that is valid everywhere, one field changed at a time."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from simulator import contract
from simulator.contract import FIRST_OPEN, INAPP, OPERATIONS, SESSION

ALL = frozenset(OPERATIONS)
NOT_FIRST_OPEN = frozenset({SESSION, INAPP})

# The published signing vector's body, plus what inapp needs: valid on all three operations.
BASE: dict[str, Any] = {
    "timestamp": 1604503583337,
    "request_id": "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    "ip": "203.0.114.7",
    "user_agent": "Roku/DVP-9.21 (AE9.21E04090A)",
    "device_os_version": "9.3.0",
    "device_model": "3920X",
    "device_ids": [{"type": "rida", "value": "fa73d67d-f55c-5af3-883a-726253dc7d0e"}],
    "limit_ad_tracking": False,
    "customer_user_id": "user-42",
    "app_version": "1.0.5",
    "event_name": "af_purchase",
    "event_parameters": {"af_revenue": 1.99, "af_currency": "USD"},
    "event_custom_parameters": '{"level": 3}',
    "sharing_filter": ["all"],
}


def body_from(base: dict[str, Any], operation: str, **changes: Any) -> dict[str, Any]:
    """A copy of `base` fit for `operation` (the in-app fields only on inapp), changed."""
    body = copy.deepcopy(base)
    if operation != INAPP:
        for name in ("event_name", "event_parameters", "event_custom_parameters"):
            body.pop(name)
    body.update(changes)
    return body


def body_for(operation: str, **changes: Any) -> dict[str, Any]:
    return body_from(BASE, operation, **changes)


def broken_fields(operation: str, body: Any) -> set[str]:
    return {violation.field.split("[")[0].split(".")[0]
            for violation in contract.validate(operation, body)}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_base_body_is_valid_without_warnings(operation: str) -> None:
    findings = contract.inspect(operation, body_for(operation), platform="roku")
    assert findings.ok and not findings.warnings, findings


# (field, value, operations on which the value is valid)
CASES: list[tuple[str, Any, frozenset[str]]] = [
    ("timestamp", 1604503583337, ALL),
    ("timestamp", "1604503583337", frozenset()),  # Roku SDK sends a string: not an integer
    ("timestamp", 1604503583.5, frozenset()),
    ("timestamp", True, frozenset()),
    ("request_id", "1B4E28BA-2FA1-11D2-883F-0016D3CCA427", NOT_FIRST_OPEN),
    ("request_id", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", ALL),  # [a-z0-9], not only hex
    ("request_id", "1b4e28ba2fa111d2883f0016d3cca427abcd", NOT_FIRST_OPEN),  # 36, no dashes
    ("request_id", "1b4e28ba-2fa1-11d2-883f-0016d3cca42", frozenset()),  # 35 characters
    ("request_id", "1b4e28ba-2fa1-11d2-883f-0016d3cca4277", frozenset()),  # 37 characters
    ("ip", "8.8.8.8", ALL),
    ("ip", "", frozenset()),
    ("ip", "1" * 46, frozenset()),  # 1-46 characters, and IPv4 only
    ("ip", "1" * 47, frozenset()),
    ("ip", 8, frozenset()),
    ("user_agent", "a" * 256, ALL),
    ("user_agent", "a" * 257, frozenset()),
    ("user_agent", "", frozenset()),
    ("user_agent", "Mozilla/5.0 (x@y)", NOT_FIRST_OPEN),
    ("user_agent", "Mozilla/5.0 (a=b)", NOT_FIRST_OPEN),
    ("device_os_version", "1" * 12, ALL),
    ("device_os_version", "25.02-11.00.00", frozenset({FIRST_OPEN})),  # 14 characters
    ("device_os_version", "1" * 24, frozenset({FIRST_OPEN})),
    ("device_os_version", "1" * 25, frozenset()),
    ("device_os_version", "9.3.0b", frozenset()),
    ("device_os_version", "", frozenset()),
    ("device_model", "Roku 3930X (TV) v1.0-a", ALL),
    ("device_model", "Windows_32-bit", frozenset()),  # underscore
    ("device_model", "Model, with comma", frozenset()),
    ("device_model", "M" * 50, ALL),
    ("device_model", "M" * 51, frozenset()),
    ("device_model", "", frozenset()),
    ("device_ids", [], ALL),
    ("device_ids", {"type": "custom", "value": "a"}, frozenset()),
    ("device_ids", ["custom"], frozenset()),
    ("device_ids", [{"type": "custom", "value": "aZ0-_"}], ALL),
    ("device_ids", [{"type": "idfa", "value": "a"}], frozenset()),
    ("device_ids", [{"type": "custom", "value": "a.b"}], frozenset()),
    ("device_ids", [{"type": "custom", "value": ""}], frozenset()),
    ("device_ids", [{"type": "custom"}], frozenset()),
    ("device_ids", [{"value": "a"}], frozenset()),
    ("limit_ad_tracking", True, ALL),
    ("limit_ad_tracking", "false", frozenset()),
    ("limit_ad_tracking", 0, frozenset()),
    ("customer_user_id", "u" * 64, ALL),
    ("customer_user_id", "u" * 65, frozenset()),
    ("customer_user_id", "", frozenset()),
    ("app_version", "1.0.5-2", ALL),
    ("app_version", "1.0.5b", frozenset({FIRST_OPEN, INAPP})),  # session: digits only
    ("app_version", "1" * 24, ALL),
    ("app_version", "1" * 25, frozenset()),
    ("app_version", "1.0 beta", frozenset()),
    ("sharing_filter", ["all"], ALL),
    ("sharing_filter", "all", ALL),
    ("sharing_filter", ["partner_a", "partner_b"], ALL),
    ("sharing_filter", [], frozenset()),
    ("sharing_filter", [""], frozenset()),
    ("sharing_filter", "partner_a", frozenset()),
    ("sharing_filter", [3], frozenset()),
]


@pytest.mark.parametrize(("field", "value", "valid_on"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_field_rule(field: str, value: Any, valid_on: frozenset[str]) -> None:
    for operation in OPERATIONS:
        broken = field in broken_fields(operation, body_for(operation, **{field: value}))
        assert broken == (operation not in valid_on), (operation, field, value)


INAPP_CASES: list[tuple[str, Any, bool]] = [
    ("event_name", "e" * 64, True),
    ("event_name", "e" * 65, False),
    ("event_name", "", False),
    ("event_parameters", {}, True),
    ("event_parameters", {"af_revenue": 3, "af_currency": "BTC"}, True),
    ("event_parameters", {"af_revenue": "3"}, False),
    ("event_parameters", {"af_currency": "XXX"}, False),
    ("event_parameters", {"af_currency": "usd"}, False),
    ("event_parameters", ["af_revenue"], False),
    ("event_custom_parameters", "x" * 2048, True),  # soft: not an object only warns
    ("event_custom_parameters", "x" * 2049, False),
    ("event_custom_parameters", {"level": 3}, False),
]


@pytest.mark.parametrize(("field", "value", "valid"), INAPP_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(INAPP_CASES)])
def test_inapp_field_rule(field: str, value: Any, valid: bool) -> None:
    assert (field not in broken_fields(INAPP, body_for(INAPP, **{field: value}))) == valid


@pytest.mark.parametrize(("operation", "required"), [
    (FIRST_OPEN, {"device_ids", "ip"}),
    (SESSION, {"ip", "device_model"}),
    (INAPP, {"device_ids", "event_name", "ip"}),
])
def test_required_fields(operation: str, required: set[str]) -> None:
    for name in body_for(operation):
        body = body_for(operation)
        del body[name]
        violations = contract.validate(operation, body)
        expected = [("required", name)] if name in required else []
        assert [(v.rule, v.field) for v in violations] == expected, name


@pytest.mark.parametrize("body", [[], "x", None, 3])
def test_body_must_be_an_object(body: Any) -> None:
    for operation in OPERATIONS:
        assert [v.rule for v in contract.validate(operation, body)] == ["type"]


def warnings_of(operation: str, body: dict[str, Any], platform: str | None = None) -> set[str]:
    findings = contract.inspect(operation, body, platform=platform)
    assert findings.ok, findings.violations  # soft findings never make a body invalid
    return {w.rule for w in findings.warnings}


def test_soft_findings_are_warnings_not_violations() -> None:
    for operation in OPERATIONS:
        assert warnings_of(operation, body_for(operation, surprise=1)) == {"unknown_field"}
        assert warnings_of(operation, body_for(operation, ip="10.0.0.1")) == {"public_ipv4"}
        assert warnings_of(operation, body_for(operation, ip="8.8.8.8")) == set()
        tifa = [{"type": "tifa", "value": "abc"}]
        assert warnings_of(operation, body_for(operation, device_ids=tifa), "roku") == \
            {"platform_id_type"}
        assert warnings_of(operation, body_for(operation, device_ids=tifa), "tizen") == set()
        extra = [{"type": "custom", "value": "a", "note": "x"}]
        assert warnings_of(operation, body_for(operation, device_ids=extra)) == {"unknown_field"}
    # event_name is a field of inapp only: elsewhere it is unknown, not invalid.
    assert warnings_of(SESSION, body_for(SESSION, event_name="x")) == {"unknown_field"}
    assert warnings_of(INAPP, body_for(INAPP, event_custom_parameters="[1]")) == {"json_object"}


def test_custom_only_platforms_warn_on_any_ad_id() -> None:
    body = body_for(SESSION, device_ids=[{"type": "steamid", "value": "76561197960287930"}])
    assert warnings_of(SESSION, body, "xbox") == {"platform_id_type"}
    assert warnings_of(SESSION, body, "steam") == set()


def test_custom_id() -> None:
    ids = [{"type": "rida", "value": "r"}, {"type": "custom", "value": "c"}]
    assert contract.custom_id({"device_ids": ids}) == "c"
    assert contract.custom_id({"device_ids": ids[:1]}) is None
    assert contract.custom_id({}) is None


@pytest.mark.parametrize(("path", "expected"), [
    ("/v1.0/s2s/first_open/app/roku/com.example.app",
     contract.Route("s2s", FIRST_OPEN, "roku", "com.example.app")),
    ("/v1.0/s2s/session/app/tizen/3202204027284",
     contract.Route("s2s", SESSION, "tizen", "3202204027284")),
    ("/v1.0/s2s/inapp/app/vega/com.example.app",
     contract.Route("s2s", INAPP, "vega", "com.example.app")),
    ("/v1.0/c2s/session/app/roku/a-b.c", contract.Route("c2s", SESSION, "roku", "a-b.c")),
    ("/v1.0/c2s/first_open/app/roku/app", contract.Route("c2s", FIRST_OPEN, "roku", "app")),
    ("/v1.0/c2s/inapp/app/vega/app", None),  # vega is S2S only
    ("/v1.0/s2s/session/app/android/app", None),
    ("/v1.0/s2s/session/app//app", None),  # the published enum's empty string is invalid
    ("/v1.0/s2s/session/app/roku/app_id", None),
    ("/v1.0/s2s/session/app/roku/", None),
    ("/v1.0/s2s/session/app/roku/app/extra", None),
    ("/v1.0/s2s/launch/app/roku/app", None),
    ("/v1.0/s2s/session/apps/roku/app", None),
    ("/v2.0/s2s/session/app/roku/app", None),
])
def test_parse_path(path: str, expected: contract.Route | None) -> None:
    assert contract.parse_path(path) == expected


def test_relative_path_round_trips_through_parse_path() -> None:
    for operation in OPERATIONS:
        for platform in contract.PLATFORMS:
            relative = contract.relative_path(operation, platform, "com.example.app")
            route = contract.parse_path(contract.S2S_PREFIX + relative)
            assert route == contract.Route("s2s", operation, platform, "com.example.app")


def test_request_schema_lists_required_fields_and_rules() -> None:
    schema = contract.request_schema(SESSION)
    assert schema["required"] == ["ip", "device_model"]
    assert schema["properties"]["device_os_version"]["maxLength"] == 12
    assert contract.request_schema(FIRST_OPEN)["properties"]["device_os_version"]["maxLength"] \
        == 24
