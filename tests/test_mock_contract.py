"""The mock serves CONTRACT.md exactly: every field rule accepted and rejected, the check
order, signatures over raw bytes, 404/405/413 and non-JSON bodies. Real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from _mock_support import APP, APPS, DIGITS, ZERO, body, path, post, raw

from simulator import contract
from simulator.mock import MockServer

FO, SE, IN = contract.FIRST_OPEN, contract.SESSION, contract.INAPP
UUID_UPPER = "A1B2C3D4-1111-2222-3333-444455556666"


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(apps=APPS) as server:
        yield server


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as http:
        yield http


def send(mock: MockServer, client: httpx.Client, operation: str, document: Any,
         platform: str = "roku", app=APP, channel: str = "s2s") -> httpx.Response:
    return post(client, mock.url.split("/v1.0/")[0], path(operation, platform, app, channel),
                raw(document), key=app.dev_key)


# (operation, field overrides, expected status): one accepted and one rejected case at least
# per rule of CONTRACT.md's field table. `...` removes the field.
RULES = [
    # timestamp: integer milliseconds
    (SE, {"timestamp": 1_700_000_000_000}, 202),
    (SE, {"timestamp": "1700000000000"}, 400),
    (SE, {"timestamp": 1.5}, 400),
    # request_id: 36 characters; lowercase UUID layout on first_open only
    (FO, {"request_id": "0f8fad5b-d9cb-469f-a165-70867728950e"}, 202),
    (FO, {"request_id": UUID_UPPER}, 400),
    (SE, {"request_id": UUID_UPPER}, 202),
    (SE, {"request_id": "x" * 36}, 202),
    (SE, {"request_id": "x" * 35}, 400),
    (IN, {"request_id": "x" * 37}, 400),
    # ip: 1-46 characters, IPv4 only (a private address is a warning, not a rejection)
    (SE, {"ip": "10.0.0.1"}, 202),
    (FO, {"ip": "2001:db8::1"}, 400),
    (SE, {"ip": "::1"}, 400),
    (IN, {"ip": "example.com"}, 400),
    (SE, {"ip": "1.2.3.04"}, 400),
    (SE, {"ip": "256.1.1.1"}, 400),
    (SE, {"ip": ""}, 400),
    (SE, {"ip": "1" * 47}, 400),
    (SE, {"ip": 16909060}, 400),
    # user_agent: 1-256; no @ or = on first_open
    (SE, {"user_agent": "a" * 256}, 202),
    (SE, {"user_agent": "a" * 257}, 400),
    (SE, {"user_agent": ""}, 400),
    (SE, {"user_agent": "ua=1@x"}, 202),
    (FO, {"user_agent": "ua=1"}, 400),
    (FO, {"user_agent": "me@home"}, 400),
    # device_os_version: digits, dots, hyphens; <= 24 on first_open, <= 12 elsewhere
    (FO, {"device_os_version": "1" * 24}, 202),
    (FO, {"device_os_version": "1" * 25}, 400),
    (SE, {"device_os_version": "1.2.3-4" + "1" * 5}, 202),
    (SE, {"device_os_version": "1" * 13}, 400),
    (IN, {"device_os_version": "1" * 13}, 400),
    (SE, {"device_os_version": "12.5a"}, 400),
    # device_model: 1-50 of letters, digits, dot, parentheses, hyphen, space
    (SE, {"device_model": "Model (X) 1.0-a"}, 202),
    (SE, {"device_model": "bad_model"}, 400),
    (SE, {"device_model": "M" * 51}, 400),
    (SE, {"device_model": ""}, 400),
    # device_ids: array of {type, value}
    (FO, {"device_ids": [{"type": "custom", "value": "a-b_C9"}]}, 202),
    (FO, {"device_ids": []}, 202),
    (FO, {"device_ids": [{"type": "idfa", "value": "abc"}]}, 400),
    (FO, {"device_ids": [{"type": "custom"}]}, 400),
    (FO, {"device_ids": [{"value": "abc"}]}, 400),
    (FO, {"device_ids": [{"type": "custom", "value": "a.b"}]}, 400),
    (FO, {"device_ids": [{"type": "custom", "value": ""}]}, 400),
    (FO, {"device_ids": {"type": "custom", "value": "abc"}}, 400),
    (FO, {"device_ids": ["custom"]}, 400),
    # limit_ad_tracking: boolean
    (SE, {"limit_ad_tracking": True}, 202),
    (SE, {"limit_ad_tracking": "false"}, 400),
    (SE, {"limit_ad_tracking": 0}, 400),
    # customer_user_id: 1-64
    (SE, {"customer_user_id": "u" * 64}, 202),
    (SE, {"customer_user_id": "u" * 65}, 400),
    (SE, {"customer_user_id": ""}, 400),
    # app_version: 1-24; numeric dotted on session, alphanumeric elsewhere
    (SE, {"app_version": "3.5.0-1"}, 202),
    (SE, {"app_version": "3.5.0b"}, 400),
    (IN, {"app_version": "3.5.0b"}, 202),
    (FO, {"app_version": "v3.5.0"}, 202),
    (FO, {"app_version": "3.5_0"}, 400),
    (IN, {"app_version": "1" * 25}, 400),
    (IN, {"app_version": ""}, 400),
    # sharing_filter: non-empty strings, ["all"], or the prose's bare "all"
    (SE, {"sharing_filter": ["all"]}, 202),
    (SE, {"sharing_filter": "all"}, 202),
    (SE, {"sharing_filter": ["partner_a", "partner_b"]}, 202),
    (SE, {"sharing_filter": []}, 400),
    (SE, {"sharing_filter": [""]}, 400),
    (SE, {"sharing_filter": "none"}, 400),
    (SE, {"sharing_filter": 5}, 400),
    # event_name (inapp): 1-64, required
    (IN, {"event_name": "e" * 64}, 202),
    (IN, {"event_name": "e" * 65}, 400),
    (IN, {"event_name": ""}, 400),
    (IN, {"event_name": ...}, 400),
    # event_parameters (inapp): af_revenue number, af_currency ISO 4217 (+ published extras)
    (IN, {"event_parameters": {"af_revenue": 4.99, "af_currency": "USD"}}, 202),
    (IN, {"event_parameters": {"af_revenue": 5, "af_currency": "BTC"}}, 202),
    (IN, {"event_parameters": {"other": [1, 2]}}, 202),
    (IN, {"event_parameters": {"af_revenue": "4.99"}}, 400),
    (IN, {"event_parameters": {"af_currency": "XYZ"}}, 400),
    (IN, {"event_parameters": "af_revenue=1"}, 400),
    # event_custom_parameters (inapp): a string of at most 2048 characters
    (IN, {"event_custom_parameters": '{"plan": "gold"}'}, 202),
    (IN, {"event_custom_parameters": "x" * 2048}, 202),
    (IN, {"event_custom_parameters": "x" * 2049}, 400),
    (IN, {"event_custom_parameters": {"plan": "gold"}}, 400),
    # required fields per operation
    (FO, {"device_ids": ...}, 400),
    (FO, {"ip": ...}, 400),
    (SE, {"ip": ...}, 400),
    (SE, {"device_model": ...}, 400),
    (SE, {"device_ids": ...}, 202),
    (IN, {"device_ids": ...}, 400),
    (IN, {"ip": ...}, 400),
    (FO, {"device_model": ..., "user_agent": ..., "timestamp": ..., "request_id": ...}, 202),
    # unknown extra fields are accepted (and recorded as warnings)
    (SE, {"extra_field": {"anything": [1, None]}}, 202),
]


@pytest.mark.parametrize(("operation", "fields", "status"), RULES,
                         ids=[f"{o}-{'-'.join(f)}-{s}" for o, f, s in RULES])
def test_every_rule_has_an_accepted_and_a_rejected_case(mock, client, operation, fields, status):
    response = send(mock, client, operation, body(operation, **fields))
    assert response.status_code == status, response.text
    if status == 202:
        assert response.content == b""
    else:
        message = response.json()["message"]
        assert message and isinstance(message, str)


def test_a_rejection_names_the_field_and_rule_in_body_and_journal(mock, client):
    document = body(SE, device_model="bad_model")
    response = send(mock, client, SE, document)
    assert response.status_code == 400
    assert "device_model" in response.json()["message"]
    [entry] = mock.requests(request_id=document["request_id"])
    assert entry["outcome"] == "rejected"
    assert entry["reason"].startswith("device_model: must match")


def test_every_platform_of_an_app_is_served_and_digit_app_ids_work(mock, client):
    for platform in APP.platforms:
        assert send(mock, client, SE, body(SE), platform=platform).status_code == 202
    assert send(mock, client, SE, body(SE), platform="webos", app=DIGITS).status_code == 202


# ------------------------------------------------------------------ check order


def test_unknown_app_with_a_bad_body_is_401_not_400(mock, client):
    url = mock.url + contract.relative_path(SE, "roku", "com.nobody")
    response = client.post(url, content=b"not json", headers={"authorization": "0" * 64})
    assert response.status_code == 401
    assert response.json() == {"message": "Application ID not found"}


def test_an_app_is_unknown_on_a_platform_it_is_not_registered_for(mock, client):
    response = send(mock, client, SE, body(SE), platform="webos")  # APP is not on webos
    assert response.status_code == 401


def test_zero_plan_is_403_before_any_body_check(mock, client):
    assert send(mock, client, SE, body(SE), app=ZERO).status_code == 403
    response = post(client, mock.url.split("/v1.0/")[0], path(SE, "roku", ZERO), b"[1, 2",
                    key=ZERO.dev_key)
    assert response.status_code == 403
    assert response.json() == {"message": "Blocked due to Zero package limit."}


def test_zero_plan_with_a_bad_signature_is_401(mock, client):
    response = post(client, mock.url.split("/v1.0/")[0], path(SE, "roku", ZERO), raw(body(SE)),
                    key=APP.dev_key)
    assert response.status_code == 401


def test_a_bad_signature_on_a_bad_body_is_401(mock, client):
    response = post(client, mock.url.split("/v1.0/")[0], path(SE), b"{}", key="WRONGKEY")
    assert response.status_code == 401
    assert response.json() == {"message": "Authentication failed"}


def test_missing_authorization_is_401(mock, client):
    response = post(client, mock.url.split("/v1.0/")[0], path(SE), raw(body(SE)), key=None)
    assert response.status_code == 401


# ------------------------------------------------------------------ signature over raw bytes


def test_the_signature_covers_the_exact_raw_bytes(mock, client):
    import orjson

    from simulator import signing

    document = body(SE)
    compact = raw(document)
    spaced = orjson.dumps(document, option=orjson.OPT_INDENT_2)
    base = mock.url.split("/v1.0/")[0]
    # the same JSON re-serialised with other spacing, under the compact body's signature
    response = client.post(base + path(SE), content=spaced,
                           headers={"authorization": signing.sign(compact, APP.dev_key)})
    assert response.status_code == 401
    # the spaced bytes signed as sent are fine: the mock never re-serialises
    assert post(client, base, path(SE), spaced).status_code == 202


def test_the_published_test_vector_is_accepted():
    vector = (b'{"timestamp":1604503583337,"ip":"127.0.0.1","user_agent":"Roku/DVP-9.21 '
              b'(AE9.21E04090A)","device_os_version":"9.3.0","device_model":"3920X",'
              b'"device_ids":[{"type":"rida","value":"fa73d67d-f55c-5af3-883a-726253dc7d0e"}],'
              b'"limit_ad_tracking":false}')
    signature = "715b133d5a327b77beb898688a3ad438da0f78071cd3df70e8ec5ecf60751972"
    from simulator.profiles import App

    app = App("com.vector", "w8sZzy8EaPaxFKfaoTqUi6", ("roku",), "normal", (), ())
    with MockServer(apps=[app], ring_size=10) as server, httpx.Client(trust_env=False) as http:
        response = http.post(server.url + "session/app/roku/com.vector", content=vector,
                             headers={"authorization": signature})
        assert response.status_code == 202
        stats = server.stats()
        assert stats["accepted"] == 1
        # 2020: older than 96 hours; 127.0.0.1 is not a device's public address
        assert stats["warnings"] == {"timestamp_replaced": 1, "public_ipv4": 1}


# ------------------------------------------------------------------ routes and methods


@pytest.mark.parametrize("url_path", [
    "/v1.0/s2s/install/app/roku/com.test.app",
    "/v1.0/s2s/session/app/android/com.test.app",
    "/v1.0/s2s/session/app//com.test.app",
    "/v1.0/s2s/session/app/roku/com_test_app",
    "/v1.0/s2s/session/app/roku/com.test.app/extra",
    "/v1.0/s2s/session/apps/roku/com.test.app",
    "/v1.0/c2s/session/app/vega/com.test.app",
    "/v1.0/c2s/install/app/roku/com.test.app",
    "/v2.0/s2s/session/app/roku/com.test.app",
    "/",
])
def test_unknown_routes_are_404(mock, client, url_path):
    response = client.post(mock.url.split("/v1.0/")[0] + url_path, content=b"{}")
    assert response.status_code == 404
    assert "message" in response.json()


def test_vega_is_served_on_s2s(mock, client):
    assert send(mock, client, SE, body(SE), platform="vega").status_code == 202


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_on_a_public_route_is_405_with_allow(mock, client, method):
    response = client.request(method, mock.url + "session/app/roku/com.test.app")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


# ------------------------------------------------------------------ size and encoding


def test_a_body_of_exactly_64_kib_is_read_and_one_byte_more_is_413(mock, client):
    document = body(SE, padding="")
    overhead = len(raw(document))
    document["padding"] = "p" * (contract.MAX_BODY_BYTES - overhead)
    exact = raw(document)
    assert len(exact) == contract.MAX_BODY_BYTES
    base = mock.url.split("/v1.0/")[0]
    assert post(client, base, path(SE), exact).status_code == 202
    document["padding"] += "p"
    response = post(client, base, path(SE), raw(document))
    assert response.status_code == 413


def test_a_chunked_body_over_the_limit_is_413_without_reading_it_all(mock, client):
    def chunks():
        for _ in range(200):  # 200 x 8 KiB = 1.6 MiB, sent without a content-length
            yield b" " * 8192

    response = client.post(mock.url + "session/app/roku/com.test.app", content=chunks(),
                           headers={"authorization": "0" * 64})
    assert response.status_code == 413


@pytest.mark.parametrize(("content", "why"), [
    (b"", "empty"),
    (b"not json", "not JSON"),
    (b'{"ip": "1.2.3.4"', "truncated"),
    (b'{"ip": "\xff\xfe"}', "not UTF-8"),
    (b"[1, 2, 3]", "an array"),
    (b'"a string"', "a string"),
    (b"42", "a number"),
    (b"null", "null"),
])
def test_non_json_and_non_object_bodies_are_400(mock, client, content, why):
    response = post(client, mock.url.split("/v1.0/")[0], path(SE), content)
    assert response.status_code == 400, why
    assert response.json()["message"]


def test_unknown_fields_and_soft_findings_are_accepted_as_warnings(mock, client):
    document = body(SE, ip="192.168.1.20", surprise=1)
    assert send(mock, client, SE, document).status_code == 202
    [entry] = mock.requests(request_id=document["request_id"])
    assert entry["outcome"] == "accepted"
    text = " ".join(entry["warnings"])
    assert "surprise" in text and "private or reserved IPv4" in text
