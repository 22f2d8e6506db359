"""Devices that send C2S as their platform's AppsFlyer SDK does (``profiles/sdks.yaml``,
``c2s.py``): the bodies and headers of every persona, quirks on and off, against the real mock
over loopback and against AppsFlyer's published C2S document; the channel's usage errors;
``generate``/``send`` of C2S records; the SDKs' retry and first_open rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from test_contract_c2s import PUBLISHED

from simulator import contract, signing
from simulator.behaviour import Event
from simulator.c2s import FORWARDED_FOR, SdkPayloads
from simulator.channels import parse_channel
from simulator.cli import main
from simulator.devices import DeviceFactory
from simulator.load.world import Life
from simulator.mock import MockServer
from simulator.payloads import AppPayloads
from simulator.profiles import EventSpec, load_profiles
from simulator.records import parse_lines
from simulator.retries import FixedRetry

PROFILES = load_profiles()
ARCADE = PROFILES.app("com.example.arcadegame")
STREAM = PROFILES.app("com.example.ctvstream")
RID = b"0f8fad5b-d9cb-469f-a165-70867728950e"
# A catalogue event with revenue and custom parameters: every optional field is written.
PURCHASE = EventSpec("af_purchase", 0.1, (1.0, 2.0), "USD", (("content_type", "movie"),))
EVENTS = {
    contract.FIRST_OPEN: Event(1764000000000, contract.FIRST_OPEN, "3.5.0", 1),
    contract.SESSION: Event(1764000000000, contract.SESSION, "3.5.0", 2),
    contract.INAPP: Event(1764000000000, contract.INAPP, "3.5.0", 2, spec=PURCHASE,
                          revenue=1.99),
}
# What the mock warns about, per platform, for the SDK's quirks (field names): written from
# each SDK's public source (sdks.yaml names the file), so a persona that drifts fails here.
QUIRK_WARNINGS = {
    "roku": {"timestamp", "isFirstCall"},  # AppsFlyerRokuSDK.brs
    "tizen": set(), "webos": set(), "smartcast": set(), "xbox": set(),  # HTML5 SDK
    "vidaa": {"device_ids[0].type"},  # the HTML5 SDK's earlier VIDAA code: type vidaa
    "steam": {"timestamp"}, "epic": {"timestamp"}, "quest": {"timestamp"},  # Unity samples
    "nativepc": {"device_model"},  # AppsflyerModule.cpp: Windows_32-bit
    "playstation": set(), "switch": set(), "battlenet": set(),  # the published schema
}
OBJECT_PARAMETERS = {"roku", "tizen", "webos", "smartcast", "xbox", "vidaa", "steam", "epic",
                     "quest", "nativepc"}


def app_of(platform: str) -> Any:
    return STREAM if platform in STREAM.platforms else ARCADE


def requests_of(platform: str, quirks: bool) -> list[tuple[str, bytes, dict[str, str]]]:
    """(operation, body, headers) of each operation from one device of ``platform``."""
    app = app_of(platform)
    sdk = PROFILES.profiles[platform].sdk
    assert sdk is not None
    builder = SdkPayloads(AppPayloads(app, app.dev_key), sdk, quirks=quirks)
    device = DeviceFactory(PROFILES, 3).device(platform)
    out = []
    for operation, event in EVENTS.items():
        request = builder.device(device).request(event, RID.decode())
        out.append((operation, request.body, request.headers))
    return out


C2S_PLATFORMS = [name for name, p in PROFILES.profiles.items() if p.sdk is not None]


def test_every_platform_but_vega_names_an_sdk() -> None:
    assert sorted(set(contract.PLATFORMS) - set(C2S_PLATFORMS)) == ["vega"]
    assert set(QUIRK_WARNINGS) == set(C2S_PLATFORMS)


@pytest.mark.parametrize("platform", C2S_PLATFORMS)
def test_each_sdk_body_has_exactly_its_quirks_warnings(platform: str) -> None:
    for operation, body, _ in requests_of(platform, quirks=True):
        found = contract.inspect(operation, orjson.loads(body), platform=platform,
                                 channel=contract.C2S)
        assert found.ok, (operation, found.violations)
        fields = {w.field for w in found.warnings if w.rule == contract.SDK_DEVIATION}
        expected = set(QUIRK_WARNINGS[platform])
        if operation == contract.INAPP and platform in OBJECT_PARAMETERS:
            expected.add("event_custom_parameters")
        assert fields == expected, operation


@pytest.mark.parametrize("platform", C2S_PLATFORMS)
def test_quirks_off_leaves_no_sdk_deviation(platform: str) -> None:
    for operation, body, _ in requests_of(platform, quirks=False):
        found = contract.inspect(operation, orjson.loads(body), platform=platform,
                                 channel=contract.C2S)
        assert found.ok and not [w for w in found.warnings
                                 if w.rule == contract.SDK_DEVIATION], operation


def test_the_sdks_write_what_their_sources_say() -> None:
    """Spot checks against the sources named in sdks.yaml."""
    roku = {op: (orjson.loads(b), h) for op, b, h in requests_of("roku", quirks=True)}
    body, headers = roku[contract.SESSION]
    assert list(body)[:3] == ["device_ids", "timestamp", "request_id"]
    assert body["device_ids"][0]["type"] == "custom" and body["isFirstCall"] == "false"
    assert isinstance(body["timestamp"], str) and "ip" not in body and "user_agent" not in body
    assert list(headers) == ["Accept", "Content-Type", "Authorization", "User-Agent",
                             FORWARDED_FOR]
    tizen = {op: (orjson.loads(b), h) for op, b, h in requests_of("tizen", quirks=True)}
    body, headers = tizen[contract.INAPP]
    assert list(body)[:2] == ["device_ids", "limit_ad_tracking"]
    assert body["device_ids"][-1]["type"] == "custom"  # the platform's id first
    assert body["timestamp"] == 1764000000000 and body["event_custom_parameters"] == {
        "content_type": "movie"}
    assert body["event_parameters"] == {"af_revenue": 1.99, "af_currency": "USD"}
    webos = orjson.loads(requests_of("webos", quirks=True)[1][1])
    assert webos["limit_ad_tracking"] is True  # lg.js never reads it
    native = orjson.loads(requests_of("nativepc", quirks=True)[0][1])
    assert native["device_model"] == "Windows_32-bit" and native["device_os_version"] == "1.0.0"
    assert "timestamp" not in native
    off = orjson.loads(requests_of("nativepc", quirks=False)[0][1])
    assert off["device_model"] in ("Windows-64-bit", "Windows-32-bit", "Linux", "Mac-OSX")
    epic = orjson.loads(requests_of("epic", quirks=True)[1][1])
    assert epic["timestamp"] == "202511241600000000"  # yyyyMMddHHmmssffff, UTC


@pytest.fixture(scope="module")
def bundled_mock() -> Any:
    with MockServer() as server:
        yield server


@pytest.mark.parametrize("platform", C2S_PLATFORMS)
def test_the_mock_accepts_each_sdk_on_c2s_and_s2s_refuses_the_same_bytes(
        bundled_mock: MockServer, platform: str) -> None:
    app = app_of(platform)
    root = bundled_mock.url.split("/v1.0/")[0]
    with httpx.Client(trust_env=False) as client:
        for operation, body, headers in requests_of(platform, quirks=True):
            relative = contract.relative_path(operation, platform, app.app_id)
            answer = client.post(f"{root}/v1.0/c2s/{relative}", content=body, headers=headers)
            assert answer.status_code == 202, (operation, answer.text)
            s2s = client.post(f"{root}/v1.0/s2s/{relative}", content=body, headers=headers)
            assert s2s.status_code == 400 and "ip" in s2s.json()["message"], operation
    [entry] = [e for e in bundled_mock.requests(channel="c2s", platform=platform)
               if e["operation"] == contract.FIRST_OPEN][:1]
    device = DeviceFactory(PROFILES, 3).device(platform)
    assert entry["address"] == device.ip  # X-Forwarded-For: the device's public IPv4
    assert entry["user_agent"] == device.user_agent


@pytest.mark.skipif(not PUBLISHED.exists(), reason=f"the published document is not at "
                    f"{PUBLISHED} (it sits beside the project in the shared reference)")
def test_generated_traffic_with_quirks_off_validates_against_the_published_document(
        tmp_path: Path) -> None:
    import jsonschema_rs  # schemathesis's validator

    document = json.loads(PUBLISHED.read_text())
    validators = {}
    for operation in contract.OPERATIONS:
        schema = document["paths"][f"/{operation}/app/{{platform}}/{{app-id}}"]["post"][
            "requestBody"]["content"]["application/json"]["schema"]
        validators[operation] = jsonschema_rs.validator_for(
            {**schema, "components": document["components"]})
    checked = 0
    for app in ("com.example.ctvstream", "com.example.arcadegame"):
        out = tmp_path / f"{app}.jsonl"
        assert main(["generate", "--devices", "150", "--channel", "c2s", "--sdk-quirks", "off",
                     "--app", app, "-o", str(out)]) == 0
        for line in parse_lines(str(out), out.open("rb")):
            assert line.channel == "c2s"
            errors = list(validators[line.operation].iter_errors(orjson.loads(line.body)))
            assert errors == [], (line.number, line.platform, [str(e) for e in errors][:3])
            checked += 1
    assert checked > 1000


def test_generated_c2s_traffic_is_sent_and_accepted_with_the_sdks_warnings(
        tmp_path: Path, bundled_mock: MockServer) -> None:
    out = tmp_path / "c2s.jsonl"
    assert main(["generate", "--devices", "120", "--channel", "c2s", "--seed", "4",
                 "-o", str(out)]) == 0
    lines = list(parse_lines(str(out), out.open("rb")))
    assert {line.platform for line in lines} >= {"roku", "tizen", "webos"}
    assert all(line.channel == "c2s" and FORWARDED_FOR in line.headers for line in lines)
    before = bundled_mock.stats()
    assert main(["send", str(out), "--target", bundled_mock.url, "--rebase-time"]) == 0
    after = bundled_mock.stats()
    assert after["by_channel"]["c2s"]["202"] - before["by_channel"].get(
        "c2s", {}).get("202", 0) == len(lines)
    assert after["warnings"]["sdk_deviation"] > before["warnings"].get("sdk_deviation", 0)


def test_a_c2s_record_keeps_the_sdks_headers_and_signs_the_exact_body(tmp_path: Path) -> None:
    out = tmp_path / "c2s.jsonl"
    assert main(["generate", "--devices", "5", "--channel", "c2s", "--platforms", "roku",
                 "-o", str(out)]) == 0
    record = orjson.loads(out.read_bytes().splitlines()[0])
    assert list(record) == ["time", "channel", "operation", "platform", "app_id", "path",
                            "headers", "body"]
    assert record["channel"] == "c2s"
    assert signing.verify(record["body"].encode(), STREAM.dev_key,
                          record["headers"]["Authorization"])


def test_an_old_record_without_a_channel_is_s2s_and_a_bad_channel_names_its_line() -> None:
    good = {"time": 1, "operation": "session", "platform": "roku", "app_id": "a.b",
            "path": "session/app/roku/a.b", "headers": {"authorization": "x"}, "body": "{}"}
    [line] = parse_lines("old.jsonl", [orjson.dumps(good)])
    assert line.channel == "s2s"
    with pytest.raises(Exception, match=r"bad\.jsonl:1: \"channel\" must be one of s2s, c2s"):
        list(parse_lines("bad.jsonl", [orjson.dumps({**good, "channel": "c3s"})]))
    on_c2s = {**good, "channel": "c2s", "path": "session/app/vega/a.b"}
    with pytest.raises(Exception, match="operation path of the contract on c2s"):
        list(parse_lines("vega.jsonl", [orjson.dumps(on_c2s)]))


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True,
                          text=True, timeout=120)


def test_vega_is_left_out_of_c2s_with_a_note_and_asking_for_it_is_a_usage_error(
        tmp_path: Path) -> None:
    done = run_cli("generate", "--devices", "30", "--channel", "c2s", "-o",
                   str(tmp_path / "a.jsonl"))
    assert done.returncode == 0
    assert "note: --channel c2s leaves out vega (no C2S client: S2S only)" in done.stderr
    assert '"platform":"vega"' not in (tmp_path / "a.jsonl").read_text()
    refused = run_cli("generate", "--channel", "c2s", "--platforms", "roku,vega", "-o",
                      str(tmp_path / "b.jsonl"))
    assert refused.returncode == 2 and "vega has no C2S client" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "b.jsonl").exists()


@pytest.mark.parametrize("command", [
    ["generate", "-o", "x.jsonl"], ["load", "--duration", "1s"],
])
def test_an_unknown_channel_is_a_one_line_usage_error(command: list[str], tmp_path: Path,
                                                     ) -> None:
    done = subprocess.run([sys.executable, "-m", "simulator", *command, "--channel", "c3s"],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "'c3s' is not a channel: use s2s, c2s, mixed or mixed:SHARE" in line
    assert not (tmp_path / "x.jsonl").exists()


def test_mixed_shares_are_parsed_and_checked() -> None:
    assert parse_channel("mixed").c2s_share == 0.5
    assert parse_channel("mixed:0.8").channels == ("s2s", "c2s")
    assert parse_channel("c2s").channels == ("c2s",)
    for bad in ("mixed:1", "mixed:0", "mixed:x", "s2s:0.5"):
        with pytest.raises(ValueError):
            parse_channel(bad)


def test_a_mixed_run_splits_devices_by_the_share(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    assert main(["generate", "--devices", "400", "--channel", "mixed:0.7", "-o", str(out)]) == 0
    first_opens = [orjson.loads(raw) for raw in out.read_bytes().splitlines()
                   if b'"first_open"' in raw[:80] and b'"platform":"vega"' not in raw]
    share = sum(r["channel"] == "c2s" for r in first_opens) / len(first_opens)
    assert 0.6 < share < 0.8
    assert all(orjson.loads(r)["channel"] == "s2s" for r in out.read_bytes().splitlines()
               if b'"platform":"vega"' in r)


# ------------------------------------------------------------------ personas are data


SDK_FILE = (Path(__file__).resolve().parents[1] / "profiles" / "sdks.yaml").read_text()


def test_a_new_sdk_is_data_a_profile_names_it_and_its_bodies_follow(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "sdks.yaml").write_text(SDK_FILE + """
  homebrew:
    name: a team's own Roku client
    source: "this test"
    fields: [request_id, timestamp, device_ids, device_model, device_os_version,
             limit_ad_tracking, app_version, event_name, event_parameters, build]
    timestamp: digits
    request_id: uuid4
    custom_parameters: string
    constants: {build: "b42"}
    headers: [[Authorization, "{signature}"], [X-Team, roku-team], [User-Agent, "{user_agent}"]]
    first_open: {counter: on_success}
    retry: {attempts: 1, delay_s: 0.5, on: [503]}
    quirks: {}
""")
    roku = (Path(__file__).resolve().parents[1] / "profiles" / "roku.yaml").read_text()
    (extra / "roku.yaml").write_text(roku.replace("sdk: roku", "sdk: homebrew"))
    out = tmp_path / "t.jsonl"
    assert main(["generate", "--devices", "5", "--platforms", "roku", "--channel", "c2s",
                 "--profiles", str(extra), "-o", str(out)]) == 0
    record = orjson.loads(out.read_bytes().splitlines()[0])
    body = orjson.loads(record["body"])
    assert list(body)[:2] == ["request_id", "timestamp"] and body["build"] == "b42"
    assert record["headers"]["X-Team"] == "roku-team"


def test_a_profile_naming_an_unknown_sdk_is_a_positioned_usage_error(tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    roku = (Path(__file__).resolve().parents[1] / "profiles" / "roku.yaml").read_text()
    (extra / "roku.yaml").write_text(roku.replace("sdk: roku", "sdk: rokku"))
    done = run_cli("generate", "--profiles", str(extra), "-o", str(tmp_path / "o.jsonl"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert re.search(r"extra/roku\.yaml:\d+:6: sdk: 'rokku' is not one of roku, html5",
                     done.stderr), done.stderr
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.parametrize(("old", "new", "where"), [
    ("    timestamp: number\n    request_id: uuid4\n    custom_parameters: string\n"
     "    constants: {}\n    headers: [[Accept", "    timestamp: nummber\n    request_id: uuid4\n"
     "    custom_parameters: string\n    constants: {}\n    headers: [[Accept",
     r"sdks\.yaml:\d+:\d+: sdks\.roku\.timestamp: 'nummber' is not one of number, digits"),
    ("    retry: {attempts: 2, delay_s: 2, on: [404, connection]}",
     "    retry: {attempts: 2, delay_s: 2, on: [404, sometimes]}",
     r"sdks\.yaml:\d+:\d+: sdks\.html5\.retry\.on\[1\]: must be an HTTP status or connection"),
    ("set: {constants: {isFirstCall: \"false\"}}", "set: {constants: {device_model: \"a_b\"}}",
     r"sdks\.yaml:\d+:\d+: sdks\.roku\.quirks\.is_first_call\.set\.constants\.device_model: "
     r"must be a valid device_model"),
])
def test_a_persona_file_with_a_broken_field_names_file_line_and_field(
        tmp_path: Path, old: str, new: str, where: str) -> None:
    assert old in SDK_FILE
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "sdks.yaml").write_text(SDK_FILE.replace(old, new, 1))
    done = run_cli("generate", "--profiles", str(extra), "-o", str(tmp_path / "o.jsonl"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert any(re.search(where, line) for line in done.stderr.splitlines()), done.stderr


# ------------------------------------------------------------------ the SDKs' own rules


def test_the_html5_sdk_retries_twice_two_seconds_apart_on_404_and_throws_only() -> None:
    sdk = PROFILES.profiles["tizen"].sdk
    assert sdk is not None
    retry = sdk.retry
    assert retry.after(1, 404, None) == 2.0 and retry.after(2, None, None) == 2.0
    assert retry.after(3, 404, None) is None  # two re-sends, then it gives up
    assert retry.after(1, 500, None) is None and retry.after(1, 202, None) is None
    roku = PROFILES.profiles["roku"].sdk
    assert roku is not None and roku.retry.retries == 0


def life_of(platform: str) -> Life:
    sdk = PROFILES.profiles[platform].sdk
    assert sdk is not None
    builder = SdkPayloads(AppPayloads(app_of(platform), "k"), sdk)
    device = DeviceFactory(PROFILES, 1).device(platform)
    timeline = iter([EVENTS[contract.FIRST_OPEN], EVENTS[contract.SESSION],
                     EVENTS[contract.SESSION]])
    return Life(builder.device(device), timeline, None, FixedRetry(0, 0, frozenset(), False),
                iter(()), sdk.counter)


@pytest.mark.parametrize(("platform", "status", "next_operation"), [
    ("roku", 500, "session"),  # counter bumped before sending: a lost first_open stays lost
    ("tizen", None, "session"),  # the HTML5 SDK counts launches at init
    ("steam", 500, "first_open"),  # Unity Steam: only a 200/202 moves the counter
    ("epic", 500, "session"),  # Unity Epic: any answer moves it
    ("epic", None, "first_open"),  # ... but not a connection error
    ("steam", 202, "session"),
])
def test_first_open_repeats_as_each_sdk_moves_its_counter(
        platform: str, status: int | None, next_operation: str) -> None:
    life = life_of(platform)
    first = life.take()
    assert first is not None and first.operation == contract.FIRST_OPEN
    life.answered(first, status)
    following = life.take()
    assert following is not None and following.operation == next_operation
    assert life.accepted == (status == 202)


# ------------------------------------------------------------------ bodies from the sources

_ID = "6e3f3b7c-9d2a-4c1e-8f6b-2a9d4e5f6a7b"
NOW_MS = int(time.time() * 1000)  # inside the mock's 96-hour window
# One in-app event per SDK as its public source writes it (field order, types, headers),
# typed from the file named beside it; the warnings are the mock's for that SDK's quirks.
SOURCE_BODIES: list[tuple[str, str, dict[str, Any], dict[str, str], set[str]]] = [
    ("roku", "appsflyer-roku-sample-app: AppsFlyerRokuSDK.brs (buildCommonEventFields, "
     "trackEvent)",
     {"device_ids": [{"type": "custom", "value": "7c1e0b2a-94d3-11f0-a5b8-6c2d4e8f0a1b"},
                     {"type": "rida", "value": "fa73d67d-f55c-5af3-883a-726253dc7d0e"}],
      "timestamp": "1764000000123", "request_id": "9c1b2e4d-77aa-00ff-1234-abcdefabcdef",
      "device_os_version": "15.3.4", "device_model": "Roku 3930X", "limit_ad_tracking": False,
      "app_version": "3.5.0", "isFirstCall": "false", "event_name": "af_purchase",
      "event_parameters": {"af_revenue": 1.99, "af_currency": "USD"},
      "event_custom_parameters": {"content_type": "movie"}},
     {"Accept": "application/json", "Content-Type": "application/json",
      "User-Agent": "Roku/DVP-15.3 (15.3.4.4312-46)"},
     {"timestamp", "isFirstCall", "event_custom_parameters"}),
    ("tizen", "appsflyer-html5-ctv-sdk: src/core/AppsFlyerCore.js (init, setLogEventPayload), "
     "src/platforms/samsung.js, src/core/internal/http/requests.js (postJson)",
     {"device_ids": [{"type": "tifa", "value": _ID},
                     {"type": "custom", "value": "0f8fad5b-d9cb-469f-a165-70867728950e"}],
      "limit_ad_tracking": False, "device_model": "QN65Q80C", "device_os_version": "7.0",
      "app_version": "3.5.0", "request_id": "5b1e8d8a-3c2f-4b6e-9a7d-1e2f3a4b5c6d",
      "timestamp": NOW_MS, "event_name": "af_purchase",
      "event_parameters": {"af_revenue": 1.99, "af_currency": "USD"},
      "event_custom_parameters": {"content_type": "movie"}},
     {"Accept": "application/json", "Content-Type": "application/json",
      "User-Agent": "Mozilla/5.0 (SMART-TV; LINUX; Tizen 7.0) AppleWebKit/537.36"},
     {"event_custom_parameters"}),
    ("webos", "appsflyer-html5-ctv-sdk: src/platforms/lg.js (limit_ad_tracking never read)",
     {"device_ids": [{"type": "lgudid", "value": "25667a3b-f771-5416-b457-216c13572bb1"},
                     {"type": "custom", "value": "0f8fad5b-d9cb-469f-a165-70867728950e"}],
      "limit_ad_tracking": True, "device_model": "OLED55C3PUA", "device_os_version": "8.0.0",
      "app_version": "3.5.0", "request_id": "5b1e8d8a-3c2f-4b6e-9a7d-1e2f3a4b5c6e",
      "timestamp": NOW_MS, "event_name": "af_ad_view"},
     {"Accept": "application/json", "Content-Type": "application/json"}, set()),
    ("vidaa", "appsflyer-html5-ctv-sdk: src/platforms/custom.js (the earlier vidaa id type)",
     {"device_ids": [{"type": "vidaa", "value": _ID},
                     {"type": "custom", "value": "0f8fad5b-d9cb-469f-a165-70867728950e"}],
      "limit_ad_tracking": True, "device_model": "55U8K", "device_os_version": "7.0",
      "app_version": "3.5.0", "request_id": "5b1e8d8a-3c2f-4b6e-9a7d-1e2f3a4b5c6f",
      "timestamp": NOW_MS, "event_name": "af_ad_view"},
     {"Accept": "application/json", "Content-Type": "application/json"},
     {"device_ids[0].type"}),
    ("steam", "appsflyer-unity-steam-sample-app: Assets/Scenes/AppsflyerSteamModule.cs "
     "(RequestData, Json.NET without nulls)",
     {"timestamp": "1764000000123", "device_os_version": "10.0.22631", "device_model":
      "Windows-64-bit", "app_version": "2.2.0",
      "device_ids": [{"type": "custom", "value": _ID},
                     {"type": "steamid", "value": "76561198000000001"}],
      "request_id": "2a4c6e8f-1b3d-4f5a-8c7e-9d0f1a2b3c4d", "limit_ad_tracking": False,
      "event_name": "af_level_achieved", "event_custom_parameters": {"mode": "campaign"}},
     {"Content-Type": "application/json", "user-agent": "Valve/Steam HTTP Client 1.0 (480)"},
     {"timestamp", "event_custom_parameters"}),
    ("nativepc", "appsflyer-native-pc-sample-app: AppsflyerSampleApp/AppsflyerModule.cpp "
     "(postDataStr: no timestamp)",
     {"device_ids": [{"type": "custom", "value": _ID}],
      "request_id": "3b5d7f9a-2c4e-4a6b-9d8f-0e1a2b3c4d5e", "device_os_version": "1.0.0",
      "device_model": "Windows_32-bit", "limit_ad_tracking": False, "app_version": "2.2.0",
      "event_parameters": {"af_revenue": 4.99, "af_currency": "USD"},
      "event_name": "af_purchase"},
     {"User-Agent": "Native PC/HTTP Client 1.0 (com.example.arcadegame)", "Accept": "*/*",
      "Content-Type": "application/json"},
     {"device_model"}),
]


@pytest.mark.parametrize(("platform", "source", "body", "headers", "warned"), SOURCE_BODIES,
                         ids=[row[0] for row in SOURCE_BODIES])
def test_what_each_sdks_source_writes_is_accepted_on_c2s_and_refused_on_s2s(
        bundled_mock: MockServer, platform: str, source: str, body: dict[str, Any],
        headers: dict[str, str], warned: set[str]) -> None:
    app = app_of(platform)
    raw = orjson.dumps(body)
    sent = {**headers, "Authorization": signing.sign(raw, app.dev_key)}
    root = bundled_mock.url.split("/v1.0/")[0]
    relative = contract.relative_path(contract.INAPP, platform, app.app_id)
    with httpx.Client(trust_env=False) as client:
        answer = client.post(f"{root}/v1.0/c2s/{relative}", content=raw, headers=sent)
        assert answer.status_code == 202, (source, answer.text)
        s2s = client.post(f"{root}/v1.0/s2s/{relative}", content=raw, headers=sent)
        assert s2s.status_code == 400 and "ip" in s2s.json()["message"]
    [entry] = bundled_mock.requests(channel="c2s", request_id=body["request_id"])
    deviations = {w.split(":")[0] for w in entry["warnings"]
                  if "before any first_open" not in w}  # no first_open sent here: ordering
    assert deviations == warned, (source, entry["warnings"])
    # The persona writes the same fields in the same order (sdks.yaml follows the source).
    persona = [name for name in orjson.loads(requests_of(platform, quirks=True)[2][1])
               if name in body]
    assert persona == [name for name in body if name in persona], source


def test_send_keeps_x_forwarded_for_towards_loopback_only(tmp_path: Path) -> None:
    """The decision, in-process (nothing leaves the machine): a C2S line's device address
    header stays for a loopback target and is dropped for any other host."""
    from simulator.cli.send import _without_forwarded_for
    from simulator.targets import resolve_target

    out = tmp_path / "c2s.jsonl"
    assert main(["generate", "--devices", "3", "--channel", "c2s", "--platforms", "tizen",
                 "-o", str(out)]) == 0
    line = next(parse_lines(str(out), out.open("rb")))
    assert FORWARDED_FOR in line.headers
    assert resolve_target("http://localhost:8080/v1.0/c2s/").local
    assert not resolve_target("https://sandbox-events.appsflyer.com/v1.0/c2s/").local
    kept = dict(line.headers)
    dropped = _without_forwarded_for(line).headers
    assert FORWARDED_FOR not in dropped and "authorization" in dropped
    assert {k: v for k, v in kept.items() if k != FORWARDED_FOR} == dropped
