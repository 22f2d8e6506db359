"""The journal counts exactly what arrived, under concurrency too, and the admin API reports
it in WireMock's shapes: counters, duplicates, ordering, clamps, the ring, filters, SQLite."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
from _mock_support import APP, APPS, DIGITS, body, path, post, raw, root, write_apps_yaml

from simulator import contract, signing
from simulator.mock import MockServer
from simulator.mock.journal import Journal

FO, SE, IN = contract.FIRST_OPEN, contract.SESSION, contract.INAPP


def send(mock, client, operation, document, app=APP, platform="roku"):
    return post(client, root(mock.url), path(operation, platform, app), raw(document),
                key=app.dev_key)


def custom(document):
    return contract.custom_id(document)


# ------------------------------------------------------------------ exactness under load


def _blast(base: str, requests: list[tuple[str, bytes]], connections: int) -> Counter[int]:
    """Send every request over ``connections`` concurrent keep-alive connections."""
    signed = [(p, c, signing.sign(c, APP.dev_key)) for p, c in requests]

    def one_connection(share: list[tuple[str, bytes, str]]) -> Counter[int]:
        with httpx.Client(trust_env=False, timeout=30) as http:
            return Counter(
                http.post(base + p, content=c, headers={"authorization": s}).status_code
                for p, c, s in share)

    with ThreadPoolExecutor(connections) as pool:
        shares = [signed[i::connections] for i in range(connections)]
        return sum(pool.map(one_connection, shares), Counter())


def test_counters_are_exact_for_20000_concurrent_requests(tmp_path):
    devices = 3000
    first_opens = [body(FO) for _ in range(devices)]
    # phase 1: every device's first_open, concurrently
    phase1 = [(path(FO), raw(doc)) for doc in first_opens]
    # phase 2: sessions/inapp of known devices, of unknown devices (ordering warnings),
    # retries of phase-1 bodies (duplicates), and invalid bodies (400)
    phase2: list[tuple[str, bytes]] = []
    known_events = 0
    for doc in first_opens:
        for operation in (SE, SE, IN, SE):
            follow = body(operation, device_ids=doc["device_ids"])
            phase2.append((path(operation), raw(follow)))
            known_events += 1
    orphans = [body(SE) for _ in range(1500)]
    phase2 += [(path(SE), raw(doc)) for doc in orphans]
    duplicates = [(path(FO), raw(doc)) for doc in first_opens[:2000]]
    phase2 += duplicates
    invalid = [(path(SE), raw(body(SE, device_model="bad_model"))) for _ in range(1500)]
    phase2 += invalid
    assert len(phase1) + len(phase2) == 20_000

    # the mock in its own process, as `ctvsim load` runs it: no GIL shared with the client
    with MockServer(apps_file=write_apps_yaml(tmp_path), subprocess=True) as mock:
        base = root(mock.url)
        statuses1 = _blast(base, phase1, 32)
        statuses2 = _blast(base, phase2, 32)
        stats = mock.stats()
    assert statuses1 == {202: devices}
    assert statuses2 == {202: known_events + len(orphans) + len(duplicates), 400: len(invalid)}

    assert stats["requests"] == 20_000
    assert stats["accepted"] == devices + known_events + len(orphans) + len(duplicates)
    assert stats["unique"] == devices + known_events + len(orphans)
    assert stats["duplicates"] == len(duplicates)
    assert stats["rejected"] == {"400": len(invalid)}
    assert stats["injected"] == {}
    assert stats["warnings"] == {"ordering": len(orphans)}
    assert stats["devices"] == devices
    roku = stats["by_app"][APP.app_id]["roku"]
    assert roku[FO] == {"202": devices + len(duplicates)}
    assert roku[SE] == {"202": 3 * devices + len(orphans), "400": len(invalid)}
    assert roku[IN] == {"202": devices}


# ------------------------------------------------------------------ duplicates, ordering, clamps


def test_a_repeated_request_id_is_202_again_but_a_duplicate(mock, client):
    document = body(FO)
    assert send(mock, client, FO, document).status_code == 202
    assert send(mock, client, FO, document).status_code == 202
    stats = mock.stats()
    assert (stats["accepted"], stats["unique"], stats["duplicates"]) == (2, 1, 1)
    outcomes = [e["outcome"] for e in mock.requests(request_id=document["request_id"])]
    assert outcomes == ["duplicate", "accepted"]  # newest first


def test_duplicates_are_per_app(mock, client):
    document = body(SE)
    assert send(mock, client, SE, document).status_code == 202
    assert send(mock, client, SE, document, app=DIGITS, platform="webos").status_code == 202
    assert mock.stats()["duplicates"] == 0


def test_a_rejected_or_faulted_request_is_no_event_so_its_retry_is_unique(mock, client):
    document = body(SE)
    response = post(client, root(mock.url), path(SE), raw(document), **{"x-mock-fault": "503"})
    assert response.status_code == 503
    assert send(mock, client, SE, document).status_code == 202
    stats = mock.stats()
    assert (stats["unique"], stats["duplicates"], stats["injected"]) == (1, 0, {"503": 1})
    assert stats["by_app"][APP.app_id]["roku"][SE] == {"202": 1}
    assert stats["injected_by_app"][APP.app_id]["roku"][SE] == {"503": 1}


def test_sessions_before_first_open_warn_once_per_request_and_per_app(mock, client):
    device = body(FO)
    later = body(SE, device_ids=device["device_ids"])
    assert send(mock, client, SE, later).status_code == 202  # before the first_open: warned
    assert send(mock, client, FO, device).status_code == 202
    assert send(mock, client, SE, body(SE, device_ids=device["device_ids"])).status_code == 202
    # the same device id in another app has not been seen there
    other = body(SE, device_ids=device["device_ids"][:1])
    assert send(mock, client, SE, other, app=DIGITS, platform="webos").status_code == 202
    warnings = mock.warnings()
    assert warnings["counts"] == {"ordering": 2}
    assert {w["app_id"] for w in warnings["recent"]} == {APP.app_id, DIGITS.app_id}
    assert warnings["recent"][-1]["device_id"] == custom(device)
    assert mock.stats()["devices"] == 1


def test_timestamps_in_the_future_or_older_than_96_hours_are_counted_as_replaced(mock, client):
    now = int(time.time() * 1000)
    window = contract.TIMESTAMP_WINDOW_MS
    for stamp in (now - 1000, now - window + 60_000, now + 3_600_000, now - window - 60_000):
        assert send(mock, client, SE, body(SE, device_ids=..., timestamp=stamp)).status_code == 202
    assert mock.stats()["warnings"] == {"timestamp_replaced": 2}


def test_dedup_window_remembers_between_one_and_two_generations():
    from simulator.contract import Route
    from simulator.mock.journal import route_key

    journal = Journal(ring_size=0, dedup_window=2)
    route = route_key(Route("s2s", SE, "roku", APP.app_id))
    ids = [body(SE, device_ids=...) for _ in range(5)]
    for document in ids:
        assert journal.accepted_event(route, "/p", document, b"", []) is True
    assert journal.accepted_event(route, "/p", ids[4], b"", []) is False  # recent: remembered
    assert journal.accepted_event(route, "/p", ids[0], b"", []) is True  # beyond the window
    assert (journal.unique, journal.duplicates) == (6, 1)


# ------------------------------------------------------------------ the ring and its queries


def test_requests_endpoint_uses_wiremock_shapes_and_filters(mock, client):
    fo, se = body(FO), body(SE)
    send(mock, client, FO, fo)
    send(mock, client, SE, se)
    send(mock, client, SE, body(SE, ip=""))
    send(mock, client, SE, body(SE), app=DIGITS, platform="webos")
    listing = client.get(mock.admin_url + "requests", params={"limit": 2}).json()
    assert listing["meta"] == {"total": 4}
    assert listing["requestJournalDisabled"] is False
    assert len(listing["requests"]) == 2
    newest = listing["requests"][0]
    assert newest["request"]["method"] == "POST"
    assert newest["request"]["url"] == path(SE, "webos", DIGITS)
    assert newest["response"] == {"status": 202}
    assert newest["app_id"] == DIGITS.app_id

    assert [e["request_id"] for e in mock.requests(operation=FO)] == [fo["request_id"]]
    assert len(mock.requests(status=400)) == 1
    assert mock.requests(status=400)[0]["reason"].startswith("ip:")
    assert len(mock.requests(app=APP.app_id)) == 3
    assert len(mock.requests(platform="webos")) == 1
    assert [e["device_id"] for e in mock.requests(device=custom(se))] == [custom(se)]
    assert mock.count(outcome="accepted") == 3
    found = client.post(mock.admin_url + "requests/find", json={"status": 400}).json()
    assert len(found["requests"]) == 1
    counted = client.post(mock.admin_url + "requests/count", json={"method": "POST"}).json()
    assert counted == {"count": 4}
    later = time.time() + 60
    assert mock.requests(since=later) == []
    assert len(mock.requests(since="2020-01-01T00:00:00Z")) == 4


def test_delete_requests_resets_journal_and_counters(mock, client):
    document = body(FO)
    send(mock, client, FO, document)
    assert client.delete(mock.admin_url + "requests").status_code == 200
    stats = mock.stats()
    assert (stats["requests"], stats["accepted"], stats["devices"]) == (0, 0, 0)
    assert mock.requests() == []
    assert send(mock, client, FO, document).status_code == 202
    assert mock.stats()["duplicates"] == 0  # remembered ids were forgotten too


def test_the_ring_keeps_only_the_newest_entries_and_zero_turns_it_off(client):
    with MockServer(apps=APPS, ring_size=3) as small:
        for _ in range(5):
            send(small, client, SE, body(SE))
        assert len(small.requests()) == 3
        assert small.stats()["accepted"] == 5
    with MockServer(apps=APPS, ring_size=0) as off:
        send(off, client, SE, body(SE))
        listing = client.get(off.admin_url + "requests").json()
        assert listing["requests"] == [] and listing["requestJournalDisabled"] is True
        assert off.stats()["accepted"] == 1


def test_admin_api_errors_are_clear(mock, client):
    assert client.get(mock.admin_url + "nope").status_code == 404
    response = client.post(mock.admin_url + "stats")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    response = client.get(mock.admin_url + "requests", params={"colour": "red"})
    assert response.status_code == 400 and "colour" in response.json()["message"]
    response = client.get(mock.admin_url + "requests", params={"since": "yesterday"})
    assert response.status_code == 400
    health = client.get(mock.admin_url + "health").json()
    assert health["status"] == "ok" and health["apps"] == 6  # (platform, app) pairs


def test_404_and_405_are_counted_apart_from_app_outcomes(mock, client):
    client.post(mock.url + "nothing/here", content=b"{}")
    client.get(mock.url + "session/app/roku/com.test.app")
    stats = mock.stats()
    assert stats["rejected"] == {"404": 1, "405": 1}
    assert stats["by_app"] == {}


def test_sqlite_journal_has_every_request_after_stop(tmp_path, client):
    database = tmp_path / "journal.db"
    documents = [body(FO) for _ in range(50)]
    with MockServer(apps=APPS, journal_file=database) as server:
        for document in documents:
            send(server, client, FO, document)
        send(server, client, FO, documents[0])
        send(server, client, SE, body(SE, ip=""))
    rows = sqlite3.connect(database).execute(
        "SELECT outcome, status, operation, request_id, device_id, body FROM requests "
        "ORDER BY id").fetchall()
    assert len(rows) == 52
    assert [r[0] for r in rows].count("duplicate") == 1
    assert rows[0][1:5] == (202, FO, documents[0]["request_id"], custom(documents[0]))
    assert rows[0][5] == raw(documents[0]).decode()
    assert rows[-1][:2] == ("rejected", 400)
