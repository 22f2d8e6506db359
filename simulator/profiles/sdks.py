"""The schema of ``sdks.yaml``: one persona per AppsFlyer SDK, what it puts on the C2S wire.

An entry may extend one defined above it (its keys replace the parent's; quirks add to the
parent's), so a platform's variant of an SDK states only what differs. Every problem is
positioned like the profiles' own.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, Node

from simulator import contract
from simulator.profiles.model import (
    COUNTERS,
    CUSTOM_PARAMETER_FORMATS,
    REQUEST_ID_FORMATS,
    RETRY_ON_CONNECTION,
    TIMESTAMP_FORMATS,
    Sdk,
    SdkQuirk,
)
from simulator.profiles.yamldoc import MISSING, YamlDoc, contract_problems, join, kind
from simulator.retries import FixedRetry

# The fields an SDK's body may hold that the generator has a value for; any other field an
# SDK writes takes its value from `constants`.
DEVICE_FIELDS = ("device_ids", "device_model", "device_os_version", "limit_ad_tracking",
                 "customer_user_id")
REQUEST_FIELDS = ("request_id", "timestamp", "app_version", "event_name", "event_parameters",
                  "event_custom_parameters")
_KEYS = ("name", "source", "fields", "ad_id_first", "timestamp", "request_id",
         "custom_parameters", "constants", "id_type", "headers", "first_open", "retry",
         "quirks")
_REQUIRED = ("name", "source", "fields", "timestamp", "request_id", "custom_parameters",
             "constants", "headers", "first_open", "retry", "quirks")
# What a quirk may change.
_QUIRK_SETS = ("timestamp", "request_id", "custom_parameters", "constants", "id_type")
_PLACEHOLDERS = ("{signature}", "{user_agent}")
MAX_RETRIES = 10


def read_sdks(doc: YamlDoc | None) -> dict[str, Sdk] | None:
    if doc is None or doc.root is None:
        return None
    before = doc.failed
    found = doc.fields(doc.root, "", ("sdks",))
    raw: dict[str, dict[str, Any]] = {}
    for key_node, value_node in doc.pairs(found["sdks"], "sdks") if found else []:
        where = f"sdks.{key_node.value}"
        name = doc.text(key_node, where)
        entry = _read_entry(doc, value_node, where, raw)
        if name and entry is not None:
            raw[name] = entry
    sdks = {}
    for name, entry in raw.items():
        sdk = _complete(doc, name, entry)
        if sdk is not None:
            sdks[name] = sdk
    return sdks if doc.failed == before else None


def _read_entry(doc: YamlDoc, node: Node, where: str, defined: dict[str, dict[str, Any]],
                ) -> dict[str, Any] | None:
    """The entry's keys as values (the parent's first, when it extends one), with the node
    of each for later checks."""
    before = doc.failed
    found = doc.fields(node, where, (), ("extends", *_KEYS))
    if found is None:
        return None
    entry: dict[str, Any] = {"_node": node, "_where": where}
    if "extends" in found:
        parent = doc.choice(found["extends"], f"{where}.extends", tuple(defined))
        if parent is not None:
            entry.update({k: v for k, v in defined[parent].items() if not k.startswith("_")})
    for key, value_node in found.items():
        if key == "extends":
            continue
        at = f"{where}.{key}"
        value = _READERS[key](doc, value_node, at)
        if key == "quirks" and value is not None:  # a quirk of the parent's name: replaced
            value = tuple({q.name: q for q in (*entry.get("quirks", ()), *value)}.values())
        entry[key] = value
    return entry if doc.failed == before else None


def _complete(doc: YamlDoc, name: str, entry: dict[str, Any]) -> Sdk | None:
    node, where = entry["_node"], entry["_where"]
    missing = [key for key in _REQUIRED if key not in entry]
    for key in missing:
        doc.fail(node, join(where, key), "is required (here or in the SDK it extends)")
    if missing:
        return None
    sdk = Sdk(
        name=name, display_name=entry["name"], source=entry["source"],
        fields=entry["fields"], ad_id_first=entry.get("ad_id_first", False),
        timestamp=entry["timestamp"], request_id=entry["request_id"],
        custom_parameters=entry["custom_parameters"], constants=entry["constants"],
        id_type=entry.get("id_type"), headers=entry["headers"], counter=entry["first_open"],
        retry=entry["retry"], quirks=entry["quirks"],
    )
    valued = {*DEVICE_FIELDS, *REQUEST_FIELDS, *sdk.with_quirks().constants}
    for field in sdk.fields:
        if field not in valued:
            doc.fail(node, f"{where}.fields", f"{field!r} has no value: it is neither a "
                     "field the generator fills nor in constants (of the SDK or a quirk)")
    for field in sdk.with_quirks().constants:
        if field not in sdk.fields:
            doc.fail(node, f"{where}.constants", f"{field!r} is not in fields (which give "
                     "it its place in the body)")
    for required in contract.C2S_REQUIRED_FIELDS[contract.INAPP]:
        if required not in sdk.fields:
            doc.fail(node, f"{where}.fields", f"must hold {required!r} (required on C2S)")
    if not any("{signature}" in value for _, value in sdk.headers):
        doc.fail(node, f"{where}.headers", "must carry the {signature} (the HMAC)")
    return sdk


def _read_fields(doc: YamlDoc, node: Node, where: str) -> tuple[str, ...] | None:
    read = [doc.text(item, f"{where}[{i}]") for i, item in enumerate(doc.items(node, where))]
    names = [name for name in read if name is not None]
    if len(names) != len(read):
        return None
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        doc.fail(node, where, f"lists {', '.join(duplicates)} more than once")
        return None
    return tuple(names)


def _read_flag(doc: YamlDoc, node: Node, where: str) -> bool | None:
    value = doc.scalar(node, where)
    if type(value) is not bool:
        doc.fail(node, where, f"must be true or false, got {kind(value)}")
        return None
    return value


def _mapping(doc: YamlDoc, node: Node, where: str) -> list[tuple[Node, Node]] | None:
    """A mapping's pairs; an empty one ({}) is allowed here."""
    if node is MISSING:
        return None
    if not isinstance(node, MappingNode):
        doc.fail(node, where, "must be a mapping ({} for none)")
        return None
    return list(node.value)


def _read_constants(doc: YamlDoc, node: Node, where: str) -> dict[str, Any] | None:
    pairs = _mapping(doc, node, where)
    if pairs is None:
        return None
    constants: dict[str, Any] = {}
    for key_node, value_node in pairs:
        at = join(where, str(key_node.value))
        key = doc.text(key_node, at)
        value = doc.scalar(value_node, at)
        if key is None:
            continue
        if type(value) not in (str, bool, int):
            doc.fail(value_node, at, f"must be a string, a number or true/false, got "
                     f"{kind(value)}")
            continue
        for problem in contract_problems(key, value, channel=contract.C2S):
            doc.fail(value_node, at, problem)
        constants[key] = value
    return constants


def _read_headers(doc: YamlDoc, node: Node, where: str) -> tuple[tuple[str, str], ...] | None:
    headers: list[tuple[str, str]] = []
    for index, item in enumerate(doc.items(node, where)):
        at = f"{where}[{index}]"
        pair = doc.items(item, at)
        if len(pair) != 2:
            doc.fail(item, at, "must be [name, value]")
            continue
        name, value = doc.text(pair[0], f"{at}[0]"), doc.text(pair[1], f"{at}[1]")
        if name is None or value is None:
            continue
        if not name.isascii() or not all(c.isalnum() or c in "-_" for c in name):
            doc.fail(pair[0], f"{at}[0]", f"{name!r} is not an HTTP header name")
        left = value
        for placeholder in _PLACEHOLDERS:
            left = left.replace(placeholder, "")
        if "{" in left or "}" in left:
            doc.fail(pair[1], f"{at}[1]", f"the only placeholders are {', '.join(_PLACEHOLDERS)}")
        headers.append((name, value))
    names = [name.lower() for name, _ in headers]
    if len(set(names)) != len(names):
        doc.fail(node, where, "names a header twice")
    return tuple(headers)


def _read_counter(doc: YamlDoc, node: Node, where: str) -> str | None:
    found = doc.fields(node, where, ("counter",))
    return doc.choice(found["counter"], f"{where}.counter", COUNTERS) if found else None


def _read_retry(doc: YamlDoc, node: Node, where: str) -> FixedRetry | None:
    found = doc.fields(node, where, ("attempts",), ("delay_s", "on"))
    if found is None:
        return None
    attempts = doc.number(found["attempts"], f"{where}.attempts", 0, MAX_RETRIES)
    if attempts is not None and attempts != int(attempts):
        doc.fail(found["attempts"], f"{where}.attempts", "must be a whole number")
    delay = doc.number(found["delay_s"], f"{where}.delay_s", 0, 600) if "delay_s" in found \
        else 0.0
    statuses: set[int] = set()
    connection = False
    for index, item in enumerate(doc.items(found["on"], f"{where}.on") if "on" in found
                                 else []):
        value = doc.scalar(item, f"{where}.on[{index}]")
        if value == RETRY_ON_CONNECTION:
            connection = True
        elif type(value) is int and 100 <= value <= 599:
            statuses.add(value)
        else:
            doc.fail(item, f"{where}.on[{index}]",
                     f"must be an HTTP status or {RETRY_ON_CONNECTION}, got {item.value!r}")
    if attempts and "on" not in found:
        doc.fail(node, f"{where}.on", "is required when attempts > 0")
    if attempts is None or delay is None:
        return None
    return FixedRetry(int(attempts), delay, frozenset(statuses), connection)


def _read_quirks(doc: YamlDoc, node: Node, where: str) -> tuple[SdkQuirk, ...] | None:
    pairs = _mapping(doc, node, where)
    if pairs is None:
        return None
    quirks = []
    for key_node, value_node in pairs:
        at = join(where, str(key_node.value))
        found = doc.fields(value_node, at, ("what", "set"))
        if found is None:
            continue
        what = doc.text(found["what"], f"{at}.what")
        changes = doc.fields(found["set"], f"{at}.set", (), _QUIRK_SETS)
        if what is None or changes is None:
            continue
        values = {key: _READERS[key](doc, value, f"{at}.set.{key}")
                  for key, value in changes.items()}
        quirks.append(SdkQuirk(str(key_node.value), what, values))
    return tuple(quirks)


def _choice(allowed: tuple[str, ...]) -> Any:
    return lambda doc, node, where: doc.choice(node, where, allowed)


_READERS: dict[str, Any] = {
    "name": lambda doc, node, where: doc.text(node, where),
    "source": lambda doc, node, where: doc.text(node, where),
    "fields": _read_fields,
    "ad_id_first": _read_flag,
    "timestamp": _choice(TIMESTAMP_FORMATS),
    "request_id": _choice(REQUEST_ID_FORMATS),
    "custom_parameters": _choice(CUSTOM_PARAMETER_FORMATS),
    "constants": _read_constants,
    "id_type": _choice((*contract.C2S_ID_TYPES, *contract.SDK_ID_TYPES)),
    "headers": _read_headers,
    "first_open": _read_counter,
    "retry": _read_retry,
    "quirks": _read_quirks,
}
