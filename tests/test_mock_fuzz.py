"""Property-based fuzzing over real HTTP: bodies, headers, paths and methods never get a 500
(nothing is injected here), the mock keeps answering, and a short schemathesis run against
the mock's own /openapi.json finds every schema-valid signed body accepted and every
schema-invalid body refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from _mock_support import APP, APPS, body, path, raw, root
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator import contract, signing
from simulator.mock import MockServer

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(apps=APPS, ring_size=1000) as server:
        yield server


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10) as http:
        yield http


@pytest.fixture(autouse=True, scope="module")
def _no_server_errors(mock) -> Iterator[None]:
    yield
    stats = mock.stats()
    assert "500" not in stats["rejected"] and stats["injected"] == {}
    assert httpx.get(mock.admin_url + "health", trust_env=False).status_code == 200


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(sorted({*contract.FIELD_ORDER, "extra", ""}))
bodies = st.dictionaries(field_names, json_values, max_size=10) | json_values
operations = st.sampled_from(contract.OPERATIONS)


def encode(document: Any) -> bytes:
    """The standard library's JSON: unlike orjson it writes integers beyond 64 bits."""
    return json.dumps(document).encode()


def signed_post(client: httpx.Client, base: str, url_path: str, content: bytes,
                **headers: str) -> httpx.Response:
    headers.setdefault("authorization", signing.sign(content, APP.dev_key))
    return client.post(base + url_path, content=content, headers=headers)


@FUZZ
@given(operation=operations, document=bodies)
def test_signed_json_bodies_get_202_or_400(mock, client, operation, document):
    response = signed_post(client, root(mock.url), path(operation), encode(document))
    assert response.status_code in (202, 400), response.text
    if response.status_code == 400:
        assert response.json()["message"]


@FUZZ
@given(operation=operations, mutation=st.dictionaries(field_names, json_values, max_size=3))
def test_valid_bodies_with_mutated_fields_get_202_or_400(mock, client, operation, mutation):
    document = {**body(operation), **mutation}
    response = signed_post(client, root(mock.url), path(operation), encode(document))
    expected = 202 if contract.inspect(operation, document).ok else 400
    assert response.status_code == expected, response.text


@FUZZ
@given(content=st.binary(max_size=3000))
def test_arbitrary_signed_bytes_get_202_or_400(mock, client, content):
    response = signed_post(client, root(mock.url), path(), content)
    assert response.status_code in (202, 400)


header_names = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz-0123456789"), min_size=1, max_size=20,
).filter(lambda name: name not in {
    "content-length", "transfer-encoding", "host", "connection", "expect", "x-mock-fault",
    "content-encoding", "upgrade", "te", "trailer"})
header_values = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80).map(str.strip)


@FUZZ
@given(headers=st.dictionaries(header_names, header_values, max_size=6),
       signature=st.one_of(st.none(), header_values))
def test_arbitrary_headers_never_break_the_server(mock, client, headers, signature):
    content = raw(body())
    headers["authorization"] = (
        signing.sign(content, APP.dev_key) if signature is None else signature)
    response = client.post(root(mock.url) + path(), content=content, headers=headers)
    assert response.status_code == (202 if signature is None else 401)


segments = st.text(alphabet=st.sampled_from("abc.-_%/0123456789rokuse"), max_size=12)


@FUZZ
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
       parts=st.lists(st.one_of(segments, st.sampled_from(
           ["v1.0", "s2s", "c2s", "session", "inapp", "first_open", "app", "roku", "vega",
            APP.app_id, "__admin", "stats", "requests"])), max_size=7))
def test_arbitrary_paths_and_methods_never_break_the_server(mock, client, method, parts):
    url_path = "/" + "/".join(parts)
    if url_path.startswith("/__admin") and method in ("DELETE", "PUT"):
        url_path = "/x" + url_path  # keep the journal and faults of this module intact
    response = client.request(method, root(mock.url) + url_path, content=b"{}")
    assert response.status_code in (200, 400, 401, 404, 405)


# ------------------------------------------------------------------ schemathesis


@pytest.fixture(scope="module")
def schema(mock):
    import schemathesis

    return schemathesis.openapi.from_url(root(mock.url) + "/openapi.json")


def _call(client: httpx.Client, base: str, case: Any) -> httpx.Response:
    platform = case.path_parameters.get("platform")
    case.path_parameters = {
        "platform": platform if platform in APP.platforms else "roku", "app_id": APP.app_id}
    content = case.body if isinstance(case.body, bytes) else encode(case.body)
    return client.post(base + case.formatted_path, content=content, headers={
        "content-type": "application/json", "authorization": signing.sign(content, APP.dev_key)})


def test_openapi_json_is_valid_openapi_3_from_the_contract(schema, client, mock):
    document = client.get(root(mock.url) + "/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["hmac"]["name"] == "authorization"
    session = document["paths"]["/v1.0/s2s/session/app/{platform}/{app_id}"]["post"]
    body_schema = session["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == orjson.loads(orjson.dumps(contract.request_schema(contract.SESSION)))
    c2s = document["paths"]["/v1.0/c2s/first_open/app/{platform}/{app_id}"]["post"]
    assert c2s["requestBody"]["content"]["application/json"]["schema"] == orjson.loads(
        orjson.dumps(contract.request_schema(contract.FIRST_OPEN, contract.C2S)))
    assert "vega" not in c2s["parameters"][0]["schema"]["enum"]
    assert len(list(schema.get_all_operations())) == 6


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_cases_from_openapi_json(schema, mock, client, mode):
    from hypothesis import given as given_
    from schemathesis import GenerationMode

    generation = GenerationMode(mode)
    strategy = st.one_of(*(result.ok().as_strategy(generation)
                           for result in schema.get_all_operations()))
    base = root(mock.url)

    @settings(max_examples=60 if mode == "positive" else 30, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given_(case=strategy)
    def run(case):
        response = _call(client, base, case)
        body_mode = case.meta.components.get(_body_location())
        body_negative = body_mode is not None and body_mode.mode == GenerationMode.NEGATIVE
        if generation == GenerationMode.POSITIVE:
            assert response.status_code == 202, (case.body, response.text)
        elif body_negative and not _sdk_deviation(case):
            assert response.status_code == 400, (case.body, response.text)
        else:
            assert response.status_code in (202, 400)

    run()


def _sdk_deviation(case: Any) -> bool:
    """Whether a body outside the published C2S schema is what an AppsFlyer SDK sends (the
    mock accepts that, with a warning naming the SDK)."""
    route = contract.parse_path(case.formatted_path)
    if route is None or route.channel != contract.C2S:
        return False
    findings = contract.inspect(route.operation, case.body, channel=contract.C2S)
    return findings.ok and any(w.rule == contract.SDK_DEVIATION for w in findings.warnings)


def _body_location():
    from schemathesis.core.parameters import ParameterLocation

    return ParameterLocation.BODY


# ------------------------------------------------------------------ the validation memo


def _verdict(findings) -> tuple[set, set]:
    return set(findings.violations), set(findings.warnings)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(operation=operations, platform=st.sampled_from(contract.PLATFORMS),
       channel=st.sampled_from(contract.CHANNELS),
       mutation=st.dictionaries(field_names, json_values, max_size=4),
       volatile=st.fixed_dictionaries({}, optional={
           "request_id": st.one_of(st.text(max_size=40), st.integers(), st.just("x" * 36)),
           "timestamp": st.one_of(st.integers(), st.floats(allow_nan=False), st.text())}))
def test_the_memo_agrees_with_contract_inspect(operation, platform, channel, mutation,
                                               volatile):
    from simulator.mock.validation import Inspector

    inspector = Inspector(size=8)
    document = {**body(operation), **mutation}
    expected = contract.inspect(operation, document, platform=platform, channel=channel)
    assert _verdict(inspector(operation, platform, document, channel)) == _verdict(expected)
    again = {**document, **volatile}  # the same stable part: a hit
    if channel == contract.C2S and "request_id" not in volatile:
        again.pop("request_id", None)  # a field C2S requires, missing on a hit
    snapshot = dict(again)
    expected = contract.inspect(operation, again, platform=platform, channel=channel)
    assert _verdict(inspector(operation, platform, again, channel)) == _verdict(expected)
    assert again == snapshot  # every field is put back (the journal reads them next)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(key=st.text(alphabet=st.characters(max_codepoint=127), max_size=100),
       content=st.binary(max_size=500), mangle=st.sampled_from(["none", "upper", "space", "cut"]))
def test_the_pre_keyed_verifier_agrees_with_signing_verify(key, content, mangle):
    signature = signing.sign(content, key)
    signature = {"none": signature, "upper": signature.upper(), "space": f" {signature} ",
                 "cut": signature[:-1]}[mangle]
    assert signing.Verifier(key)(content, signature) == signing.verify(content, key, signature)
