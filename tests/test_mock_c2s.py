"""The mock on the C2S channel, over real HTTP on loopback: all three operations with the C2S
rules, what AppsFlyer's own SDKs send accepted with warnings, the same bodies on S2S refused
for what S2S requires."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from _mock_support import APP, APPS, path, post, raw, root
from test_contract_c2s import body_for

from simulator import contract, signing
from simulator.mock import MockServer

FO, SE, IN = contract.FIRST_OPEN, contract.SESSION, contract.INAPP


def c2s(mock: MockServer, client: httpx.Client, operation: str, document: Any,
        platform: str = "roku", **kwargs: Any) -> httpx.Response:
    return post(client, root(mock.url), path(operation, platform, channel="c2s"),
                raw(document), **kwargs)


def fresh(operation: str, **changes: Any) -> dict[str, Any]:
    """A published-valid C2S body with its own request id (the mock counts duplicates)."""
    import uuid

    return copy.deepcopy(body_for(operation, **{"request_id": str(uuid.uuid4()), **changes}))


@pytest.mark.parametrize("operation", [FO, SE, IN])
def test_every_operation_is_served_on_c2s_and_the_s2s_rules_differ(
        mock: MockServer, client: httpx.Client, operation: str) -> None:
    document = fresh(operation)
    assert mock.c2s_url.endswith("/v1.0/c2s/")
    response = client.post(mock.c2s_url + contract.relative_path(operation, "roku", APP.app_id),
                           content=raw(document),
                           headers={"authorization": signing.sign(raw(document), APP.dev_key)})
    assert response.status_code == 202
    [entry] = mock.requests(request_id=document["request_id"])
    assert entry["channel"] == "c2s" and entry["outcome"] == "accepted"
    s2s = post(client, root(mock.url), path(operation), raw(fresh(operation)))
    assert s2s.status_code == 400 and "ip: is required" in s2s.json()["message"]


@pytest.mark.parametrize(("operation", "changes", "message"), [
    (SE, {"device_model": ...}, "device_model: is required"),
    (IN, {"app_version": ...}, "app_version: is required"),
    (SE, {"device_os_version": "1.2.3.4.5.6.7"}, "device_os_version: must have at most 12"),
    (IN, {"event_name": ...}, "event_name: is required"),
    (FO, {"limit_ad_tracking": ...}, "limit_ad_tracking: is required"),
    (FO, {"request_id": ...}, "request_id: is required"),
])
def test_real_c2s_violations_get_400(mock: MockServer, client: httpx.Client, operation: str,
                                     changes: dict[str, Any], message: str) -> None:
    response = c2s(mock, client, operation, fresh(operation, **changes))
    assert response.status_code == 400 and message in response.json()["message"]


def test_vega_has_no_c2s_route_and_a_bad_signature_is_401(mock: MockServer,
                                                          client: httpx.Client) -> None:
    assert c2s(mock, client, SE, fresh(SE), platform="vega").status_code == 404
    bad = post(client, root(mock.url), path(SE, channel="c2s"), raw(fresh(SE)),
               key="WRONGKEY0000000000000x")
    assert bad.status_code == 401


def test_an_html5_sdk_body_is_accepted_with_the_warnings_that_name_the_sdk(
        mock: MockServer, client: httpx.Client) -> None:
    """What AppsFlyer's HTML5 CTV SDK posts for an in-app event on Tizen: a number
    timestamp, limit_ad_tracking true, event_custom_parameters as an object of strings."""
    document = fresh(IN, limit_ad_tracking=True, event_custom_parameters={"level": "3"},
                     device_ids=[{"type": "custom", "value": "abc-123"},
                                 {"type": "tifa", "value": "f0e1d2c3-b4a5-4697-8899-aabbccddeeff"}])
    response = c2s(mock, client, IN, document, platform="tizen")
    assert response.status_code == 202
    [entry] = mock.requests(request_id=document["request_id"])
    assert any("HTML5" in warning for warning in entry["warnings"]), entry["warnings"]
    # S2S wants a JSON string there, and an ip: the same body is refused.
    assert post(client, root(mock.url), path(IN, "tizen"), raw(document)).status_code == 400


def test_a_roku_sdk_body_with_its_quirks_is_accepted(mock: MockServer,
                                                     client: httpx.Client) -> None:
    """Roku's BrightScript SDK: a string timestamp, a hex request id in UUID groups without a
    version nibble, and isFirstCall."""
    document = fresh(SE, timestamp="1764000000000", isFirstCall="false",
                     request_id="9c1b2e4d-77aa-00ff-1234-abcdefabcdef")
    assert c2s(mock, client, SE, document).status_code == 202
    [entry] = mock.requests(request_id=document["request_id"])
    text = " ".join(entry["warnings"])
    assert "Roku" in text and "isFirstCall" in text
    assert APP.app_id == entry["app_id"]


def test_x_forwarded_for_decides_the_journaled_address_else_the_peer(
        mock: MockServer, client: httpx.Client) -> None:
    """Every simulated device shares 127.0.0.1 in a local test: the first X-Forwarded-For
    address stands for the device's own; without one, the peer's address is journaled. The
    User-Agent header is the device's user agent; both can be filtered on."""
    forwarded = fresh(SE)
    response = c2s(mock, client, SE, forwarded, **{
        "x-forwarded-for": "93.184.216.34, 10.0.0.1", "user-agent": "Roku/DVP-12.5 (x)"})
    assert response.status_code == 202
    [entry] = mock.requests(request_id=forwarded["request_id"])
    assert entry["address"] == "93.184.216.34" and entry["user_agent"] == "Roku/DVP-12.5 (x)"
    direct = fresh(SE)
    assert c2s(mock, client, SE, direct).status_code == 202
    [entry] = mock.requests(request_id=direct["request_id"])
    assert entry["address"] == "127.0.0.1"
    assert [e["request_id"] for e in mock.requests(address="93.184.216.34")] == [
        forwarded["request_id"]]
    assert all(e["channel"] == "c2s" for e in mock.requests(channel="c2s"))
    assert mock.stats()["by_channel"]["c2s"]["202"] >= 2


def test_the_sqlite_journal_keeps_channel_address_and_user_agent(tmp_path: Any) -> None:
    """Also in a journal file that an older mock started (it gets the new columns)."""
    import sqlite3

    journal = tmp_path / "journal.db"
    with sqlite3.connect(journal) as old:  # the first schema, without address and user_agent
        old.execute("CREATE TABLE requests (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER "
                    "NOT NULL, received_at TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT "
                    "NULL, channel TEXT, operation TEXT, platform TEXT, app_id TEXT, status "
                    "INTEGER NOT NULL, outcome TEXT NOT NULL, reason TEXT NOT NULL, warnings "
                    "TEXT NOT NULL, fault TEXT, request_id TEXT, device_id TEXT, body TEXT NOT "
                    "NULL)")
    document = fresh(FO)
    with MockServer(apps=APPS, journal_file=journal) as server, \
            httpx.Client(trust_env=False) as http:
        response = post(http, root(server.url), path(FO, channel="c2s"), raw(document),
                        **{"x-forwarded-for": "198.51.99.7", "user-agent": "Tizen/6.5"})
        assert response.status_code == 202
    with sqlite3.connect(journal) as db:
        rows = db.execute("SELECT channel, operation, address, user_agent FROM requests "
                          "WHERE request_id = ?", (document["request_id"],)).fetchall()
    assert rows == [("c2s", FO, "198.51.99.7", "Tizen/6.5")]
