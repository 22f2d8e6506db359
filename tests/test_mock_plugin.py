"""The `ctv_mock` fixture, as a user gets it from the installed entry point."""

from __future__ import annotations

import httpx
import orjson

from simulator import signing

pytest_plugins = ["pytester"]

USER_TEST = '''
import time
import uuid

import httpx
import orjson

from simulator import signing


def send_first_open(base_url, app):
    """The user's own sender under test."""
    body = orjson.dumps({
        "timestamp": int(time.time() * 1000), "request_id": str(uuid.uuid4()),
        "ip": "203.0.113.7", "device_ids": [{"type": "custom", "value": str(uuid.uuid4())}],
    })
    url = f"{base_url}first_open/app/{app.platforms[0]}/{app.app_id}"
    return httpx.post(url, content=body, headers={"authorization": signing.sign(body, app.dev_key)})


def test_my_sender_is_accepted(ctv_mock):
    app = next(a for a in ctv_mock.apps if a.plan == "normal")
    assert send_first_open(ctv_mock.url, app).status_code == 202
    assert ctv_mock.stats()["accepted"] == 1
    assert ctv_mock.requests(status=400) == []


def test_my_sender_survives_an_outage(ctv_mock):
    app = next(a for a in ctv_mock.apps if a.plan == "normal")
    ctv_mock.set_faults("status=503,first=1")
    assert send_first_open(ctv_mock.url, app).status_code == 503
    assert send_first_open(ctv_mock.url, app).status_code == 202
    ctv_mock.reset()
    assert ctv_mock.stats()["requests"] == 0
'''


SHARED_TEST = """
import pytest

from simulator.profiles import load_profiles

SEEN = []


@pytest.mark.parametrize("round", range(3))
def test_each_test_gets_the_shared_mock_as_good_as_new(ctv_mock, round):
    assert ctv_mock.stats()["requests"] == 0
    assert ctv_mock.admin.faults()["rules"] == []
    SEEN.append(ctv_mock.url)
    ctv_mock.set_faults("status=503")  # left for the next test to find, if reset failed


def test_the_shared_mock_is_one_server():
    assert len(SEEN) == 3 and len(set(SEEN)) == 1


class TestOtherApps:
    @pytest.fixture
    def ctv_mock_apps(self):
        return [load_profiles().apps["com.example.arcadegame"]]

    def test_other_apps_get_a_server_of_their_own(self, ctv_mock):
        assert ctv_mock.url not in SEEN
        assert [app.app_id for app in ctv_mock.apps] == ["com.example.arcadegame"]
"""


def test_a_users_suite_gets_the_fixture_from_the_entry_point(pytester):
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_one_shared_mock_per_session_reset_for_each_test(pytester):
    pytester.makepyfile(test_shared=SHARED_TEST)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_the_fixture_works_in_this_suite_too(ctv_mock):
    app = next(a for a in ctv_mock.apps if a.plan == "zero")
    content = orjson.dumps({"ip": "203.0.113.7", "device_ids": []})
    url = f"{ctv_mock.url}first_open/app/{app.platforms[0]}/{app.app_id}"
    with httpx.Client(trust_env=False) as client:
        response = client.post(url, content=content,
                               headers={"authorization": signing.sign(content, app.dev_key)})
    assert response.status_code == 403
    assert ctv_mock.stats()["rejected"] == {"403": 1}
