"""The AppsFlyer PC/Console/CTV events API, both channels, as data: the single source of truth.

S2S (``/v1.0/s2s/``: a server relays its devices' events, with their ``ip`` and
``user_agent``) and C2S (``/v1.0/c2s/``: the device's own SDK posts; its address is the
connection's, its user agent the header). Every pattern, length, enum and per-operation and
per-channel difference of ``CONTRACT.md`` is written here once, and so is what AppsFlyer's own
SDKs send outside the published C2S schema (accepted with a warning that names the SDK
behaviour: AppsFlyer evidently accepts its own clients' traffic). The generator's tests, the
payload builder and the mock's validator all read these tables; nothing else re-types a rule.
Each rule can also describe itself as JSON Schema so that the mock's ``/openapi.json`` is
generated from the same data it validates with.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

# --------------------------------------------------------------------------- hosts, paths

PRODUCTION_BASE_URL: Final = "https://events.appsflyer.com/v1.0/s2s/"
SANDBOX_BASE_URL: Final = "https://sandbox-events.appsflyer.com/v1.0/s2s/"
S2S_PREFIX: Final = "/v1.0/s2s/"
C2S_PREFIX: Final = "/v1.0/c2s/"

S2S: Final = "s2s"
C2S: Final = "c2s"
CHANNELS: Final = (S2S, C2S)

FIRST_OPEN: Final = "first_open"
SESSION: Final = "session"
INAPP: Final = "inapp"
OPERATIONS: Final = (FIRST_OPEN, SESSION, INAPP)  # on both channels

PLATFORMS: Final = (
    "roku", "smartcast", "tizen", "webos", "playstation", "vidaa", "steam",
    "quest", "battlenet", "epic", "switch", "xbox", "nativepc", "vega",
)
S2S_ONLY_PLATFORMS: Final = frozenset({"vega"})

APP_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9.\-]+")

ID_TYPES: Final = (
    "custom", "rida", "vida", "tifa", "lgudid", "vidaaid", "steamid", "epicid", "psid", "vegaid",
)
C2S_ID_TYPES: Final = tuple(t for t in ID_TYPES if t != "vegaid")  # vega has no C2S
# The advertising id type each platform's SDK sends next to `custom`; platforms absent here
# send `custom` only. Another ad id type on a platform is accepted but recorded as a warning.
PLATFORM_AD_ID_TYPE: Final[Mapping[str, str]] = {
    "roku": "rida", "smartcast": "vida", "tizen": "tifa", "webos": "lgudid",
    "vidaa": "vidaaid", "vega": "vegaid", "playstation": "psid", "steam": "steamid",
    "epic": "epicid",
}

REQUIRED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {  # S2S
    FIRST_OPEN: ("device_ids", "ip"),
    SESSION: ("ip", "device_model"),
    INAPP: ("device_ids", "event_name", "ip"),
}
_C2S_REQUIRED: Final = ("request_id", "device_ids", "device_model", "device_os_version",
                        "limit_ad_tracking", "app_version")
C2S_REQUIRED_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    FIRST_OPEN: _C2S_REQUIRED,
    SESSION: _C2S_REQUIRED,
    INAPP: (*_C2S_REQUIRED, "event_name"),
}

# Mock decisions (CONTRACT.md, "Decisions for the mock").
MAX_BODY_BYTES: Final = 64 * 1024
TIMESTAMP_WINDOW_MS: Final = 96 * 3600 * 1000

STATUS_ACCEPTED: Final = 202
STATUS_INVALID: Final = 400
STATUS_UNAUTHORIZED: Final = 401
STATUS_BLOCKED: Final = 403
STATUS_SERVER_ERROR: Final = 500
SUCCESS_STATUSES: Final = frozenset({200, 202})

CURRENCIES: Final = frozenset(
    """USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD
    BTC BTN BWP BYN BZD CAD CDF CHF CLF CLP CNH CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP
    ERN ETB EUR FJD FKP GBP GEL GGP GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS IMP INR
    IQD IRR ISK JEP JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRO MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN
    PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLL SOS SRD SSP STD STN
    SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX UYU UZS VEF VES VND VUV WST XAF XAG
    XAU XCD XDR XOF XPD XPF XPT YER ZAR ZMW ZWL BYR""".split()  # noqa: SIM905 (reads as a table)
)


def relative_path(operation: str, platform: str, app_id: str) -> str:
    """The path relative to a base URL; callers join it to the base, never to the host root."""
    return f"{operation}/app/{platform}/{app_id}"


@dataclass(frozen=True, slots=True)
class Route:
    channel: str  # "s2s" or "c2s"
    operation: str
    platform: str
    app_id: str


def parse_path(path: str) -> Route | None:
    """The route a request path names, or None when no public route has that path."""
    for channel, prefix in ((S2S, S2S_PREFIX), (C2S, C2S_PREFIX)):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix):].split("/")
        if len(parts) != 4 or parts[1] != "app" or parts[0] not in OPERATIONS:
            return None
        operation, _, platform, app_id = parts
        if platform not in PLATFORMS or not APP_ID_PATTERN.fullmatch(app_id):
            return None
        if channel == C2S and platform in S2S_ONLY_PLATFORMS:
            return None
        return Route(channel, operation, platform, app_id)
    return None


# --------------------------------------------------------------------------- findings


# The warning rule of a value outside the published schema that AppsFlyer's own SDKs send.
SDK_DEVIATION: Final = "sdk_deviation"


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule (or, as a warning, one soft finding) about one field."""

    field: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(slots=True)
class Findings:
    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


# --------------------------------------------------------------------------- rules


def _type_name(value: Any) -> str:
    return {
        bool: "boolean", int: "integer", float: "number", str: "string",
        list: "array", dict: "object", type(None): "null",
    }.get(type(value), type(value).__name__)


@dataclass(frozen=True, slots=True)
class StringRule:
    min_length: int = 1
    max_length: int | None = None
    pattern: str | None = None
    enum: frozenset[str] | None = None
    _regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.compile(self.pattern) if self.pattern else None
        object.__setattr__(self, "_regex", regex)

    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is not str:
            out.violations.append(
                Violation(name, "type", f"must be a string, got {_type_name(value)}")
            )
            return
        if len(value) < self.min_length:
            out.violations.append(Violation(
                name, "min_length", f"must have at least {self.min_length} characters"
            ))
        elif self.max_length is not None and len(value) > self.max_length:
            out.violations.append(Violation(
                name, "max_length",
                f"must have at most {self.max_length} characters, got {len(value)}",
            ))
        elif self._regex is not None and not self._regex.fullmatch(value):
            out.violations.append(Violation(name, "pattern", f"must match {self.pattern}"))
        elif self.enum is not None and value not in self.enum:
            out.violations.append(Violation(name, "enum", f"{value!r} is not an allowed value"))

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "minLength": self.min_length}
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.pattern:
            schema["pattern"] = self.pattern
        if self.enum is not None:
            schema["enum"] = sorted(self.enum)
        return schema


@dataclass(frozen=True, slots=True)
class IntegerRule:
    """An int64, as the published schema's ``format: int64`` says."""

    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is not int:
            out.violations.append(
                Violation(name, "type", f"must be an integer, got {_type_name(value)}")
            )
        elif not -(2**63) <= value < 2**63:
            out.violations.append(Violation(name, "int64", "must fit in a signed 64-bit integer"))

    def json_schema(self) -> dict[str, Any]:
        return {"type": "integer", "format": "int64"}


@dataclass(frozen=True, slots=True)
class BooleanRule:
    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is not bool:
            out.violations.append(
                Violation(name, "type", f"must be a boolean, got {_type_name(value)}")
            )

    def json_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


# A dotted quad without leading zeros: exactly what ipaddress.IPv4Address accepts, ~10x
# faster (the mock checks every request's ip on its hot path).
_OCTET: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_PATTERN: Final = rf"^{_OCTET}(?:\.{_OCTET}){{3}}$"
_IPV4: Final = re.compile(IPV4_PATTERN[1:-1])

# Not routable on the public internet: a superset of every IPv4 range that ipaddress calls
# non-global (tests/test_devices.py proves it), kept explicit so that the rule does not drift
# with the Python version's registry and a check costs one bisect.
_NON_PUBLIC: Final = tuple(ipaddress.IPv4Network(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
))
_RANGE_STARTS: Final = tuple(int(net.network_address) for net in _NON_PUBLIC)
_RANGE_ENDS: Final = tuple(int(net.broadcast_address) for net in _NON_PUBLIC)


def is_ipv4(value: str) -> bool:
    return _IPV4.fullmatch(value) is not None


def is_public_ipv4(address: int) -> bool:
    """Whether an IPv4 address (as an integer) is routable on the public internet."""
    index = bisect.bisect_right(_RANGE_STARTS, address) - 1
    return index < 0 or address > _RANGE_ENDS[index]


def _ipv4_int(value: str) -> int:
    a, b, c, d = (int(part) for part in value.split("."))
    return a << 24 | b << 16 | c << 8 | d


@dataclass(frozen=True, slots=True)
class IpRule:
    """S2S: a 1-46 character string, and "IPv4 only" (a rule AppsFlyer added deliberately):
    a dotted quad, or 400. A private or reserved address is a warning: a real device's public
    address is expected, but a relay in a test network is no reason to refuse."""

    text: StringRule = StringRule(1, 46)

    def check(self, name: str, value: Any, out: Findings) -> None:
        before = len(out.violations)
        self.text.check(name, value, out)
        if len(out.violations) != before:
            return
        if not is_ipv4(value):
            out.violations.append(Violation(
                name, "ipv4", f"must be an IPv4 address in dotted-quad form, got {value!r}"))
        elif not is_public_ipv4(_ipv4_int(value)):
            out.warnings.append(Violation(
                name, "public_ipv4", f"{value!r} is a private or reserved IPv4 address"))

    def json_schema(self) -> dict[str, Any]:
        return {**self.text.json_schema(), "pattern": IPV4_PATTERN}


DEVICE_ID_VALUE_PATTERN: Final = r"^[A-Za-z0-9\-_]+$"
C2S_DEVICE_ID_VALUE_PATTERN: Final = r"^[A-Za-z0-9\-]+$"  # no underscore, unlike S2S


@dataclass(frozen=True, slots=True)
class DeviceIdsRule:
    """An array of ``{type, value}``; ``sdk_types`` are id types outside the enum that an
    AppsFlyer SDK sends (a warning naming it, not a rejection)."""

    type_rule: StringRule = StringRule(0, enum=frozenset(ID_TYPES))
    value_rule: StringRule = StringRule(1, pattern=DEVICE_ID_VALUE_PATTERN)
    sdk_types: Mapping[str, str] = field(default_factory=dict)

    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is not list:
            out.violations.append(
                Violation(name, "type", f"must be an array, got {_type_name(value)}")
            )
            return
        for index, item in enumerate(value):
            where = f"{name}[{index}]"
            if type(item) is not dict:
                out.violations.append(
                    Violation(where, "type", f"must be an object, got {_type_name(item)}")
                )
                continue
            for key, rule in (("type", self.type_rule), ("value", self.value_rule)):
                if key not in item:
                    out.violations.append(Violation(f"{where}.{key}", "required", "is required"))
                elif key == "type" and item[key] in self.sdk_types:
                    out.warnings.append(Violation(f"{where}.type", SDK_DEVIATION,
                                                  self.sdk_types[item[key]]))
                else:
                    rule.check(f"{where}.{key}", item[key], out)
            for extra in item.keys() - {"type", "value"}:
                out.warnings.append(
                    Violation(f"{where}.{extra}", "unknown_field", "is not a known field")
                )

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "value"],
                "properties": {
                    "type": self.type_rule.json_schema(),
                    "value": self.value_rule.json_schema(),
                },
            },
        }


@dataclass(frozen=True, slots=True)
class SharingFilterRule:
    """At least one non-empty partner id, or ``["all"]``; the prose's bare ``"all"`` too."""

    def check(self, name: str, value: Any, out: Findings) -> None:
        if value == "all":
            return
        if type(value) is not list:
            out.violations.append(Violation(
                name, "type", f'must be an array of strings or "all", got {_type_name(value)}'
            ))
        elif not value:
            out.violations.append(Violation(name, "min_items", "must have at least one item"))
        elif not all(type(item) is str and item for item in value):
            out.violations.append(
                Violation(name, "items", "every item must be a non-empty string")
            )

    def json_schema(self) -> dict[str, Any]:
        array = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1}
        return {"anyOf": [array, {"type": "string", "enum": ["all"]}]}


@dataclass(frozen=True, slots=True)
class EventParametersRule:
    """An object whose known keys have their types: ``numbers`` (doubles), ``integers``
    (numbers meant to be whole: the published schema says a number of format integer, so a
    fraction is a warning, not a rejection) and ``af_currency`` (the ISO list); other keys
    are the app's own."""

    currency: StringRule = StringRule(enum=CURRENCIES)
    numbers: tuple[str, ...] = ("af_revenue",)
    integers: tuple[str, ...] = ()

    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is not dict:
            out.violations.append(
                Violation(name, "type", f"must be an object, got {_type_name(value)}")
            )
            return
        for key in self.numbers:
            number = value.get(key)
            if key in value and type(number) not in (int, float):
                out.violations.append(Violation(
                    f"{name}.{key}", "type", f"must be a number, got {_type_name(number)}"
                ))
        for key in self.integers:  # published as a number of format integer: a fraction warns
            number = value.get(key)
            if key not in value:
                continue
            if type(number) not in (int, float):
                out.violations.append(Violation(
                    f"{name}.{key}", "type", f"must be a number, got {_type_name(number)}"
                ))
            elif type(number) is float and not number.is_integer():
                out.warnings.append(Violation(
                    f"{name}.{key}", "integer", f"is {number}: a whole number is expected"))
        if "af_currency" in value:
            self.currency.check(f"{name}.af_currency", value["af_currency"], out)

    def json_schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {
            key: {"type": "number", "format": "double"} for key in self.numbers}
        properties.update({key: {"type": "number", "format": "integer"}
                           for key in self.integers})
        properties["af_currency"] = self.currency.json_schema()
        return {"type": "object", "properties": properties}


@dataclass(frozen=True, slots=True)
class JsonObjectStringRule:
    """A string of at most N characters; that it holds a JSON object is checked softly. With
    ``sdk_object``, an object itself (what AppsFlyer's SDKs send on C2S) is a warning naming
    them, not a rejection."""

    text: StringRule = StringRule(0, 2048)
    sdk_object: str | None = None

    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is dict and self.sdk_object is not None:
            out.warnings.append(Violation(name, SDK_DEVIATION, self.sdk_object))
            return
        before = len(out.violations)
        self.text.check(name, value, out)
        if len(out.violations) == before:
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                parsed = None
            if type(parsed) is not dict:
                out.warnings.append(
                    Violation(name, "json_object", "is not a JSON object serialised as a string")
                )

    def json_schema(self) -> dict[str, Any]:
        return self.text.json_schema()


@dataclass(frozen=True, slots=True)
class SdkTolerantRule:
    """A published rule, beside values outside it that AppsFlyer's SDKs send: a value that
    ``tolerated`` fully matches is a warning with ``message`` (naming the SDK), not a
    rejection. The published rule alone is the JSON Schema."""

    rule: StringRule
    tolerated: str
    message: str
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_regex", re.compile(self.tolerated))

    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is str and self._regex.fullmatch(value):
            out.warnings.append(Violation(name, SDK_DEVIATION, self.message))
        else:
            self.rule.check(name, value, out)

    def json_schema(self) -> dict[str, Any]:
        return self.rule.json_schema()


@dataclass(frozen=True, slots=True)
class C2STimestampRule:
    """Not in the published C2S schema (extra fields are allowed), but every SDK sends one:
    the HTML5 SDK a number of milliseconds, Roku's and Unity's a string of digits (a
    warning naming them). Anything else is a warning too: the receive time stands in."""

    def check(self, name: str, value: Any, out: Findings) -> None:
        if type(value) is int and -(2**63) <= value < 2**63:
            return
        if type(value) is str and value.isascii() and value.isdigit() and len(value) <= 19:
            out.warnings.append(Violation(name, SDK_DEVIATION, "a string of digits, as the "
                                          "Roku and Unity SDKs send it (a number elsewhere)"))
        else:
            out.warnings.append(Violation(name, "timestamp_ignored", f"is not a timestamp "
                                          f"({_type_name(value)}): the receive time is used"))

    def json_schema(self) -> dict[str, Any]:
        return {"description": "not in the published C2S schema, which allows extra fields: "
                               "Unix milliseconds, as every SDK sends it"}


Rule = (
    StringRule | IntegerRule | BooleanRule | IpRule | DeviceIdsRule | SharingFilterRule
    | EventParametersRule | JsonObjectStringRule | SdkTolerantRule | C2STimestampRule
)

# --------------------------------------------------------------------------- field tables

LOWERCASE_UUID_PATTERN: Final = (
    r"^[a-z0-9]{8}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{12}$"
)
OS_VERSION_PATTERN: Final = r"^[0-9.\-]+$"
APP_VERSION_PATTERN: Final = r"^[A-Za-z0-9.\-]+$"
NUMERIC_APP_VERSION_PATTERN: Final = r"^[0-9.\-]+$"
DEVICE_MODEL_PATTERN: Final = r"^[A-Za-z0-9.()\- ]+$"
USER_AGENT_PATTERN: Final = r"^[^@=]+$"

_COMMON: Final[dict[str, Rule]] = {
    "timestamp": IntegerRule(),
    "request_id": StringRule(36, 36),
    "ip": IpRule(),
    "user_agent": StringRule(1, 256),
    "device_os_version": StringRule(1, 12, OS_VERSION_PATTERN),
    "device_model": StringRule(1, 50, DEVICE_MODEL_PATTERN),
    "device_ids": DeviceIdsRule(),
    "limit_ad_tracking": BooleanRule(),
    "customer_user_id": StringRule(1, 64),
    "app_version": StringRule(1, 24, APP_VERSION_PATTERN),
    "sharing_filter": SharingFilterRule(),
}

FIELD_RULES: Final[Mapping[str, Mapping[str, Rule]]] = {
    FIRST_OPEN: {
        **_COMMON,
        "request_id": StringRule(36, 36, LOWERCASE_UUID_PATTERN),
        "user_agent": StringRule(1, 256, USER_AGENT_PATTERN),
        "device_os_version": StringRule(1, 24, OS_VERSION_PATTERN),
    },
    SESSION: {
        **_COMMON,
        "app_version": StringRule(1, 24, NUMERIC_APP_VERSION_PATTERN),
    },
    INAPP: {
        **_COMMON,
        "event_name": StringRule(1, 64),
        "event_parameters": EventParametersRule(),
        "event_custom_parameters": JsonObjectStringRule(),
    },
}

# Id types outside the C2S enum that an AppsFlyer SDK sends (a warning naming it).
SDK_ID_TYPES: Final[Mapping[str, str]] = {
    "vidaa": "id type vidaa, as AppsFlyer's HTML5 SDK sends it on VIDAA (the enum says vidaaid)",
}

_C2S_COMMON: Final[dict[str, Rule]] = {
    "timestamp": C2STimestampRule(),
    "request_id": StringRule(36, 36),
    "device_os_version": StringRule(1, 12, OS_VERSION_PATTERN),
    "device_model": SdkTolerantRule(
        StringRule(1, 50, DEVICE_MODEL_PATTERN), r"Windows_(?:32|64)-bit",
        "Windows_32-bit or Windows_64-bit, as AppsFlyer's C++ PC samples send it (the "
        "pattern has no underscore)"),
    "device_ids": DeviceIdsRule(
        StringRule(0, enum=frozenset(C2S_ID_TYPES)),
        StringRule(1, pattern=C2S_DEVICE_ID_VALUE_PATTERN),
        SDK_ID_TYPES),
    "limit_ad_tracking": BooleanRule(),
    "customer_user_id": StringRule(1, 64),
    "app_version": StringRule(1, 24, APP_VERSION_PATTERN),
}

C2S_FIELD_RULES: Final[Mapping[str, Mapping[str, Rule]]] = {
    FIRST_OPEN: {
        **_C2S_COMMON,
        "request_id": StringRule(36, 36, LOWERCASE_UUID_PATTERN),
        "device_os_version": StringRule(1, 24, OS_VERSION_PATTERN),
    },
    SESSION: {
        **_C2S_COMMON,
        "app_version": StringRule(1, 24, NUMERIC_APP_VERSION_PATTERN),
    },
    INAPP: {
        **_C2S_COMMON,
        "event_name": StringRule(1, 64),
        "event_parameters": EventParametersRule(
            numbers=("af_revenue", "af_price"), integers=("af_duration_seconds",)),
        "event_custom_parameters": JsonObjectStringRule(sdk_object=(
            "an object, as AppsFlyer's HTML5, Roku and Unity SDKs send it (the schema says a "
            "JSON string)")),
    },
}

# Fields outside the C2S schema (which allows extra fields) that an SDK is known to send.
C2S_SDK_FIELDS: Final[Mapping[str, str]] = {
    "isFirstCall": "isFirstCall, which the Roku BrightScript SDK adds",
    "sharing_filter": "sharing_filter, which the Unity SDK adds (an S2S field)",
}

_RULES: Final = {S2S: FIELD_RULES, C2S: C2S_FIELD_RULES}
_REQUIRED: Final = {S2S: REQUIRED_FIELDS, C2S: C2S_REQUIRED_FIELDS}


def field_rules(channel: str) -> Mapping[str, Mapping[str, Rule]]:
    """Per operation, the rule of each field a body may carry on `channel`."""
    return _RULES[channel]


def required_fields(channel: str) -> Mapping[str, tuple[str, ...]]:
    return _REQUIRED[channel]


# The order in which a generator writes fields: stable, so bodies are byte-identical per seed.
FIELD_ORDER: Final = (
    "timestamp", "request_id", "ip", "user_agent", "device_os_version", "device_model",
    "device_ids", "limit_ad_tracking", "customer_user_id", "app_version", "event_name",
    "event_custom_parameters", "event_parameters", "sharing_filter",
)


def request_schema(operation: str, channel: str = S2S) -> dict[str, Any]:
    """The JSON Schema of one operation's body, built from the same rules validation uses
    (the published rules: an SDK deviation the mock tolerates is not in it)."""
    rules = _RULES[channel][operation]
    return {
        "type": "object",
        "required": list(_REQUIRED[channel][operation]),
        "properties": {name: rule.json_schema() for name, rule in rules.items()},
    }


# --------------------------------------------------------------------------- validation


def inspect(operation: str, body: Any, *, platform: str | None = None, channel: str = S2S,
            unchecked: frozenset[str] = frozenset()) -> Findings:
    """Every broken rule and every soft finding of one request body on `channel`.

    ``platform`` (from the path) enables the platform-fit warning for ad id types.
    ``unchecked`` fields are not required here (the mock's memo checks them apart).
    """
    findings = Findings()
    if type(body) is not dict:
        findings.violations.append(
            Violation("body", "type", f"must be a JSON object, got {_type_name(body)}")
        )
        return findings
    rules = _RULES[channel][operation]
    for name in _REQUIRED[channel][operation]:
        if name not in body and name not in unchecked:
            findings.violations.append(Violation(name, "required", "is required"))
    sdk_fields = C2S_SDK_FIELDS if channel == C2S else {}
    for name, value in body.items():
        rule = rules.get(name)
        if rule is not None:
            rule.check(name, value, findings)
        elif name in sdk_fields:
            findings.warnings.append(Violation(name, SDK_DEVIATION, sdk_fields[name]))
        else:
            findings.warnings.append(Violation(name, "unknown_field", "is not a known field"))
    if platform is not None:
        _check_id_types_fit(platform, body.get("device_ids"), findings)
    return findings


def validate(operation: str, body: Any, *, platform: str | None = None,
             channel: str = S2S) -> list[Violation]:
    """The broken rules of one body (empty when the body is valid for ``operation``)."""
    return inspect(operation, body, platform=platform, channel=channel).violations


def _check_id_types_fit(platform: str, device_ids: Any, out: Findings) -> None:
    if type(device_ids) is not list:
        return
    expected = PLATFORM_AD_ID_TYPE.get(platform)
    for index, item in enumerate(device_ids):
        id_type = item.get("type") if type(item) is dict else None
        if id_type in ID_TYPES and id_type not in ("custom", expected):
            out.warnings.append(Violation(
                f"device_ids[{index}].type", "platform_id_type",
                f"{id_type!r} is unusual on {platform} (expected custom"
                + (f" or {expected})" if expected else ")"),
            ))


def custom_id(body: Mapping[str, Any]) -> str | None:
    """The device's `custom` id (the app's install id), which identifies it across requests."""
    device_ids = body.get("device_ids")
    if type(device_ids) is list:
        for item in device_ids:
            if type(item) is dict and item.get("type") == "custom":
                value = item.get("value")
                return value if type(value) is str else None
    return None
