"""The schema of a platform profile (``profiles/<platform>.yaml``): models, OS versions,
user-agent templates, the ad id and limit-ad-tracking rule, households, viewing rhythm.
Values that end up in request bodies are checked with contract.py's own rules."""

from __future__ import annotations

import string
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from yaml.nodes import Node, ScalarNode

from simulator import contract
from simulator.profiles.model import (
    AD_ID_FORMATS,
    CURVES_FILE,
    MAX_HOUSEHOLD,
    UA_PLACEHOLDERS,
    UNDER_LAT,
    AdId,
    Behaviour,
    DeviceModel,
    Profile,
    Sdk,
    T,
    WeightedTable,
    render,
)
from simulator.profiles.yamldoc import (
    MISSING,
    Entry,
    YamlDoc,
    contract_problems,
    join,
    kind,
    read_sources,
)

_PROFILE_KEYS = ("platform", "display_name", "weight", "ad_id", "household_sizes", "models",
                 "behaviour", "sources")
_BEHAVIOUR_KEYS = ("sessions_per_active_day", "session_minutes", "diurnal_curve",
                   "weekend_factor", "timezones", "daily_active_probability",
                   "retention_half_life_days", "second_first_open_share")


def read_profile(doc: YamlDoc, curves: Mapping[str, Any] | None,
                 sdks: Mapping[str, Sdk] | None) -> Profile | None:
    if doc.root is None:
        return None
    before = doc.failed
    found = doc.fields(doc.root, "", _PROFILE_KEYS, ("os_versions", "user_agents", "sdk"))
    if found is None:
        return None
    platform = doc.choice(found["platform"], "platform", contract.PLATFORMS) \
        if "platform" in found else None
    display_name = doc.text(found["display_name"], "display_name")
    weight = doc.weight(found["weight"], "weight")
    ad_id = _read_ad_id(doc, found["ad_id"], platform)
    households = doc.weighted_map(found["household_sizes"], "household_sizes",
                                  _household_size(doc))
    models = _read_models(doc, found["models"], found)
    behaviour = _read_behaviour(doc, found["behaviour"], curves)
    sources = read_sources(doc, found["sources"])
    sdk = _read_sdk(doc, found["sdk"], platform, sdks) if "sdk" in found else None
    if doc.failed != before or platform is None:
        return None
    return Profile(
        platform=platform, display_name=_read(display_name), weight=_read(weight),
        ad_id=_read(ad_id), models=_read(models), household_sizes=_read(households),
        behaviour=_read(behaviour), sources=_read(sources), path=doc.name, sdk=sdk,
    )


def _read_sdk(doc: YamlDoc, node: Node, platform: str | None,
              sdks: Mapping[str, Sdk] | None) -> Sdk | None:
    """The persona in sdks.yaml that the platform's devices run (None: sdks.yaml is broken,
    which its own problems say)."""
    if sdks is None:
        return None
    name = doc.choice(node, "sdk", tuple(sdks))
    if name is not None and platform in contract.S2S_ONLY_PLATFORMS:
        doc.fail(node, "sdk", f"{platform} has no C2S channel (S2S only): leave sdk out")
        return None
    return sdks.get(name) if name else None


def _read(value: T | None) -> T:
    """A value whose read found no problem. Every read that returns None records a problem,
    so once a caller has seen ``doc.failed`` unchanged, None cannot be here."""
    if value is None:
        raise AssertionError("a read returned None without recording a problem")
    return value


def _household_size(doc: YamlDoc) -> Callable[[Node, str], int | None]:
    def read(node: Node, where: str) -> int | None:
        value = doc.scalar(node, where)
        if type(value) is not int or not 1 <= value <= MAX_HOUSEHOLD:
            doc.fail(node, where, f"household size must be an integer 1..{MAX_HOUSEHOLD}")
            return None
        return value
    return read


def _read_ad_id(doc: YamlDoc, node: Node, platform: str | None) -> AdId | None:
    before = doc.failed
    found = doc.fields(node, "ad_id", ("type", "lat_probability"), ("format", "under_lat"))
    if found is None:
        return None
    lat = doc.number(found["lat_probability"], "ad_id.lat_probability", 0, 1)
    if found["type"] is MISSING:
        return None
    id_type = _read_id_type(doc, found["type"], platform)
    id_format, under_lat = None, "omit"
    if id_type is None:
        for key in ("format", "under_lat"):
            if key in found:
                doc.fail(found[key], f"ad_id.{key}", "must be left out when type is null")
    else:
        for key in ("format", "under_lat"):
            if key not in found:
                doc.fail(node, f"ad_id.{key}", "is required when type is set")
        if "format" in found:
            id_format = doc.choice(found["format"], "ad_id.format", AD_ID_FORMATS)
        if "under_lat" in found:
            under_lat = doc.choice(found["under_lat"], "ad_id.under_lat", UNDER_LAT) or ""
    if doc.failed != before:
        return None
    return AdId(id_type, id_format, lat or 0.0, under_lat)


def _read_id_type(doc: YamlDoc, node: Node, platform: str | None) -> str | None:
    if isinstance(node, ScalarNode) and node.tag.endswith(":null"):
        return None
    id_type = doc.text(node, "ad_id.type")
    expected = contract.PLATFORM_AD_ID_TYPE.get(platform or "")
    if id_type is not None and platform is not None and id_type != expected:
        allowed = f"{expected!r} or null" if expected else "null"
        doc.fail(node, "ad_id.type", f"must be {allowed} on platform {platform!r}")
    return id_type


def _read_models(doc: YamlDoc, node: Node, profile: Mapping[str, Node],
                 ) -> WeightedTable[DeviceModel] | None:
    before = doc.failed
    defaults = {
        key: doc.weighted(profile[key], key, field, reader)
        for key, field, reader in _model_lists(doc) if key in profile
    }
    models: list[tuple[DeviceModel, float]] = []
    names: set[str] = set()
    for index, item in enumerate(doc.items(node, "models")):
        model = _read_model(doc, item, f"models[{index}]", defaults, profile)
        if model and model[0].name in names:
            doc.fail(item, f"models[{index}].name", f"duplicate {model[0].name!r}")
        elif model:
            names.add(model[0].name)
            models.append(model)
    return WeightedTable.of(models) if doc.failed == before and models else None


def _model_lists(doc: YamlDoc) -> tuple[tuple[str, str, Callable[[Node, str], str | None]], ...]:
    return (
        ("os_versions", "version", lambda n, w: doc.body_value(n, w, "device_os_version")),
        ("user_agents", "template", lambda n, w: doc.text(n, w)),
    )


def _read_model(doc: YamlDoc, node: Node, where: str, defaults: Mapping[str, Any],
                profile: Mapping[str, Node]) -> tuple[DeviceModel, float] | None:
    before = doc.failed
    found = doc.fields(node, where, ("name", "weight"), ("os_versions", "user_agents", "vars"))
    if found is None:
        return None
    name = doc.body_value(found["name"], f"{where}.name", "device_model")
    weight = doc.weight(found["weight"], f"{where}.weight")
    variables = _read_vars(doc, found["vars"], f"{where}.vars") if "vars" in found else ()
    lists = {}
    for key, field, reader in _model_lists(doc):
        if key in found:
            lists[key] = doc.weighted(found[key], f"{where}.{key}", field, reader)
        elif key in profile:
            lists[key] = defaults.get(key)
        else:
            doc.fail(node, f"{where}.{key}", f"is required (the profile has no default {key})")
    os_versions = tuple(entry.value for entry in lists.get("os_versions") or ())
    for entry in lists.get("user_agents") or ():
        _check_template(doc, entry, name or "", variables or (), os_versions)
    if doc.failed != before or not (name and weight and os_versions and lists["user_agents"]):
        return None  # a broken shared default list is reported where it is
    model = DeviceModel(name, _table(_read(lists["os_versions"])),
                        _table(_read(lists["user_agents"])), variables or ())
    return model, weight


def _table(entries: list[Entry[str]]) -> WeightedTable[str]:
    return WeightedTable.of([(entry.value, entry.weight) for entry in entries])


def _read_vars(doc: YamlDoc, node: Node, where: str) -> tuple[tuple[str, str], ...] | None:
    before = doc.failed
    variables: list[tuple[str, str]] = []
    for key_node, value_node in doc.pairs(node, where):
        key = str(key_node.value)
        at = join(where, key)
        if not key.isidentifier() or key in UA_PLACEHOLDERS:
            doc.fail(key_node, at, f"must be an identifier other than {', '.join(UA_PLACEHOLDERS)}")
        value = doc.scalar(value_node, at)
        if type(value) not in (str, int):
            doc.fail(value_node, at, f"must be a string, got {kind(value)}")
        else:
            variables.append((key, str(value)))
    return tuple(variables) if doc.failed == before else None


def _check_template(doc: YamlDoc, entry: Entry[str], model_name: str,
                    variables: tuple[tuple[str, str], ...], os_versions: Sequence[str]) -> None:
    """Placeholders must be known for the model, and every rendering a valid user_agent.

    A template shared by many models is reported once, naming the first model it fails for.
    """
    node = entry.nodes["template"]
    if id(node) in doc.flagged:
        return
    allowed = (*UA_PLACEHOLDERS, *(key for key, _ in variables))
    problem = _template_problem(entry.value, allowed)
    for os_version in os_versions if problem is None else ():
        agent = render(entry.value, model_name, os_version, variables)
        for verdict in contract_problems("user_agent", agent):
            problem = f"renders {agent!r} for {model_name!r} on {os_version!r}, which " \
                + verdict.replace("must be", "is not", 1)
            break
        if problem:
            break
    if problem:
        doc.flagged.add(id(node))
        doc.fail(node, entry.where, problem.replace("{MODEL}", repr(model_name)))


def _template_problem(template: str, allowed: Sequence[str]) -> str | None:
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"malformed template: {error}"
    for _, field, spec, conversion in fields:
        if field is not None and (field not in allowed or spec or conversion):
            return (f"unknown placeholder {{{field}}} for model {{MODEL}} "
                    f"(allowed: {', '.join(allowed)})")
    return None


def _read_behaviour(doc: YamlDoc, node: Node, curves: Mapping[str, Any] | None,
                    ) -> Behaviour | None:
    before = doc.failed
    found = doc.fields(node, "behaviour", _BEHAVIOUR_KEYS)
    if found is None:
        return None
    at = "behaviour."
    minutes = doc.fields(found["session_minutes"], f"{at}session_minutes", ("median", "sigma"))
    median = sigma = None
    if minutes:
        median = doc.number(minutes["median"], f"{at}session_minutes.median", 0, open_low=True)
        sigma = doc.number(minutes["sigma"], f"{at}session_minutes.sigma", 0, 5)
    curve = doc.text(found["diurnal_curve"], f"{at}diurnal_curve")
    if curve and curves is not None and curve not in curves:
        doc.fail(found["diurnal_curve"], f"{at}diurnal_curve",
                 f"{curve!r} is not a curve in {CURVES_FILE} ({', '.join(curves) or 'none'})")
    sessions = doc.weight(found["sessions_per_active_day"], f"{at}sessions_per_active_day")
    weekend = doc.weight(found["weekend_factor"], f"{at}weekend_factor")
    timezones = doc.weighted_map(found["timezones"], f"{at}timezones", _timezone(doc))
    active = doc.number(found["daily_active_probability"], f"{at}daily_active_probability",
                        0, 1, open_low=True)
    half_life = doc.weight(found["retention_half_life_days"], f"{at}retention_half_life_days")
    second = doc.number(found["second_first_open_share"], f"{at}second_first_open_share", 0, 1)
    if doc.failed != before:
        return None
    return Behaviour(
        sessions_per_active_day=_read(sessions), session_minutes_median=_read(median),
        session_minutes_sigma=_read(sigma), diurnal_curve=_read(curve),
        weekend_factor=_read(weekend), timezones=_read(timezones),
        daily_active_probability=_read(active), retention_half_life_days=_read(half_life),
        second_first_open_share=_read(second),
    )


def _timezone(doc: YamlDoc) -> Callable[[Node, str], str | None]:
    def read(node: Node, where: str) -> str | None:
        name = doc.text(node, where)
        if name is None:
            return None
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            doc.fail(node, where, f"{name!r} is not an IANA time zone")
            return None
        return name
    return read
