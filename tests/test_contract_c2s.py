"""The C2S channel's rules (CONTRACT.md, "The C2S channel"; the published C2S OpenAPI), one
field changed at a time from a body valid on all three operations, and the deviations that
AppsFlyer's own SDKs make, accepted with a warning that names them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from test_contract import body_from

from simulator import contract
from simulator.contract import C2S, FIRST_OPEN, INAPP, OPERATIONS, S2S, SESSION

PUBLISHED = (Path(__file__).resolve().parents[2] / "shared" / "reference"
             / "appsflyer-pcconsolectv-c2s.openapi.json")

# What an SDK posts on C2S, valid under the published schema on all three operations.
BASE: dict[str, Any] = {
    "timestamp": 1764000000000,
    "request_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "device_os_version": "9.3.0",
    "device_model": "3920X",
    "device_ids": [{"type": "custom", "value": "045f4137-57b7-45e6-8a45-c303101a086a"},
                   {"type": "rida", "value": "fa73d67d-f55c-5af3-883a-726253dc7d0e"}],
    "limit_ad_tracking": False,
    "app_version": "1.0.5",
    "event_name": "af_purchase",
    "event_parameters": {"af_revenue": 1.99, "af_price": 1.99, "af_duration_seconds": 30,
                         "af_currency": "USD"},
    "event_custom_parameters": '{"level": "3"}',
}


def body_for(operation: str, **changes: Any) -> dict[str, Any]:
    """BASE fit for `operation`, changed; a field given as ``...`` is left out."""
    body = body_from(BASE, operation, **changes)
    return {key: value for key, value in body.items() if value is not ...}


def _regex(pattern: str) -> str:
    """A pattern with the escapes that change nothing inside a character class removed."""
    return re.sub(r"\\([()])", r"\1", pattern)


def findings(operation: str, body: dict[str, Any], platform: str = "roku",
             ) -> contract.Findings:
    return contract.inspect(operation, body, platform=platform, channel=C2S)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_published_body_is_valid_without_warnings(operation: str) -> None:
    result = findings(operation, body_for(operation))
    assert result.violations == [] and result.warnings == []


@pytest.mark.parametrize("operation", OPERATIONS)
def test_required_fields_are_the_published_ones_and_ip_is_not_one(operation: str) -> None:
    required = {"request_id", "device_ids", "device_model", "device_os_version",
                "limit_ad_tracking", "app_version"} | ({"event_name"} if operation == INAPP
                                                       else set())
    assert set(contract.C2S_REQUIRED_FIELDS[operation]) == required
    for name in required:
        result = findings(operation, body_for(operation, **{name: ...}))
        assert [(v.field, v.rule) for v in result.violations] == [(name, "required")]
    assert findings(operation, body_for(operation)).ok  # no ip, no user_agent: still valid
    # The same body on S2S lacks what S2S requires.
    assert {v.field for v in contract.validate(operation, body_for(operation))} >= {"ip"}


@pytest.mark.parametrize(("operation", "changes", "rule"), [
    (SESSION, {"device_os_version": "1" * 13}, "max_length"),
    (INAPP, {"device_os_version": "1" * 13}, "max_length"),
    (FIRST_OPEN, {"device_os_version": "1" * 25}, "max_length"),
    (SESSION, {"app_version": "1.0b"}, "pattern"),
    (FIRST_OPEN, {"request_id": "0F8FAD5B-D9CB-469F-A165-70867728950E"}, "pattern"),
    (SESSION, {"request_id": "x" * 35}, "min_length"),
    (SESSION, {"device_model": "TV_1"}, "pattern"),
    (SESSION, {"device_ids": [{"type": "custom", "value": "a_b"}]}, "pattern"),
    (SESSION, {"device_ids": [{"type": "vegaid", "value": "abc"}]}, "enum"),
    (SESSION, {"limit_ad_tracking": "false"}, "type"),
    (INAPP, {"event_parameters": {"af_price": "1.99"}}, "type"),
    (INAPP, {"event_parameters": {"af_duration_seconds": "30"}}, "type"),
    (INAPP, {"event_parameters": {"af_currency": "usd"}}, "enum"),
    (INAPP, {"event_custom_parameters": "x" * 2049}, "max_length"),
])
def test_real_c2s_violations_are_refused(operation: str, changes: dict[str, Any],
                                         rule: str) -> None:
    assert [v.rule for v in findings(operation, body_for(operation, **changes)).violations] \
        == [rule]


@pytest.mark.parametrize(("operation", "changes", "field", "names"), [
    (SESSION, {"timestamp": "1764000000000"}, "timestamp", "Roku and Unity"),
    (INAPP, {"event_custom_parameters": {"level": "3"}}, "event_custom_parameters",
     "HTML5, Roku and Unity"),
    (SESSION, {"device_model": "Windows_32-bit"}, "device_model", "C++"),
    (FIRST_OPEN, {"device_ids": [{"type": "vidaa", "value": "abc"},
                                 {"type": "custom", "value": "abc"}]}, "device_ids[0].type",
     "HTML5 SDK"),
    (SESSION, {"isFirstCall": "false"}, "isFirstCall", "Roku"),
    (SESSION, {"sharing_filter": ["all"]}, "sharing_filter", "Unity"),
])
def test_what_appsflyers_sdks_send_is_accepted_with_a_warning_naming_them(
        operation: str, changes: dict[str, Any], field: str, names: str) -> None:
    result = findings(operation, body_for(operation, **changes))
    assert result.ok, result.violations
    [warning] = result.warnings
    assert warning.rule == contract.SDK_DEVIATION and warning.field == field
    assert names in warning.message


def test_a_fractional_duration_is_a_warning_as_the_published_type_is_number() -> None:
    result = findings(INAPP, body_for(INAPP, event_parameters={"af_duration_seconds": 1.5}))
    assert result.ok and [w.rule for w in result.warnings] == ["integer"]


def test_fields_outside_the_schema_are_accepted_as_warnings() -> None:
    """The C2S schema allows extra fields: ip and user_agent (S2S fields) are soft findings,
    a timestamp that is no timestamp is ignored with a warning."""
    result = findings(SESSION, body_for(SESSION, ip="93.184.216.34", user_agent="x"))
    assert result.ok and {w.rule for w in result.warnings} == {"unknown_field"}
    result = findings(SESSION, body_for(SESSION, timestamp=True))
    assert result.ok and [w.rule for w in result.warnings] == ["timestamp_ignored"]


def test_c2s_routes_serve_all_three_operations_but_not_vega() -> None:
    for operation in OPERATIONS:
        route = contract.parse_path(f"/v1.0/c2s/{operation}/app/roku/com.example.app")
        assert route == contract.Route(C2S, operation, "roku", "com.example.app")
    assert contract.parse_path("/v1.0/c2s/session/app/vega/com.example.app") is None
    assert contract.parse_path("/v1.0/s2s/session/app/vega/com.example.app") is not None


@pytest.mark.skipif(not PUBLISHED.exists(), reason=f"the published document is not at "
                    f"{PUBLISHED} (it sits beside the project in the shared reference)")
@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_schema_is_the_published_c2s_document(operation: str) -> None:
    """Our C2S schema per operation against AppsFlyer's own: the same required fields, and
    for every published property the same lengths, patterns and enums."""
    document = json.loads(PUBLISHED.read_text())
    published = document["paths"][f"/{operation}/app/{{platform}}/{{app-id}}"]["post"][
        "requestBody"]["content"]["application/json"]["schema"]
    ours = contract.request_schema(operation, C2S)
    assert set(ours["required"]) == set(published["required"])
    keys = ("minLength", "maxLength", "pattern", "enum", "type")
    for name, prop in published["properties"].items():
        if "$ref" in prop:
            prop = document["components"]["schemas"][prop["$ref"].rsplit("/", 1)[1]]
            items, mine = prop["items"]["properties"], ours["properties"][name]["items"]
            assert mine["properties"]["value"]["pattern"] == items["value"]["pattern"]
            assert set(mine["properties"]["type"]["enum"]) == set(items["type"]["enum"])
            continue
        mine = ours["properties"][name]
        if name == "event_parameters":
            assert set(mine["properties"]) == set(prop["properties"])
            continue
        for key in keys:
            if key == "pattern" and key in prop:
                assert _regex(mine[key]) == _regex(prop[key]), name
            elif key in prop:
                assert mine.get(key) == prop[key], (name, key)
    assert contract.request_schema(operation, S2S)["required"] == list(
        contract.REQUIRED_FIELDS[operation])
