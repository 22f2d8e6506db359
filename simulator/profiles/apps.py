"""The schema of ``apps.yaml`` (apps: ids, mock keys, platforms, plans, versions, events)
and ``curves.yaml`` (24 hourly weights per named diurnal curve)."""

from __future__ import annotations

from yaml.nodes import Node, ScalarNode

from simulator import contract
from simulator.profiles.model import HOURS, PLANS, App, AppVersion, EventSpec
from simulator.profiles.yamldoc import Entry, YamlDoc, contract_problems, read_sources


def read_curves(doc: YamlDoc | None) -> dict[str, tuple[float, ...]] | None:
    if doc is None or doc.root is None:
        return None
    before = doc.failed
    found = doc.fields(doc.root, "", ("curves",), ("sources",))
    curves: dict[str, tuple[float, ...]] = {}
    if found and "curves" in found:
        for key_node, value_node in doc.pairs(found["curves"], "curves"):
            name = doc.text(key_node, f"curves.{key_node.value}")
            curve = _read_curve(doc, value_node, f"curves.{key_node.value}")
            if name and curve:
                curves[name] = curve
    if found and "sources" in found:
        read_sources(doc, found["sources"])
    return curves if doc.failed == before else None


def _read_curve(doc: YamlDoc, node: Node, where: str) -> tuple[float, ...] | None:
    items = doc.items(node, where)
    if items and len(items) != HOURS:
        doc.fail(node, where, f"must have {HOURS} hourly values, got {len(items)}")
        return None
    values = [doc.number(item, f"{where}[{hour}]", 0) for hour, item in enumerate(items)]
    if any(value is None for value in values) or not items:
        return None
    total = sum(values)  # type: ignore[arg-type]
    if total <= 0:
        doc.fail(node, where, "must have a positive sum")
        return None
    return tuple(value / total for value in values)  # type: ignore[operator]



def read_apps(doc: YamlDoc | None) -> dict[str, App] | None:
    if doc is None or doc.root is None:
        return None
    before = doc.failed
    found = doc.fields(doc.root, "", ("apps",))
    apps: dict[str, App] = {}
    for index, node in enumerate(doc.items(found["apps"], "apps") if found and "apps" in found
                                 else []):
        app = _read_app(doc, node, f"apps[{index}]")
        if app and app.app_id in apps:
            doc.fail(node, f"apps[{index}].app_id", f"duplicate {app.app_id!r}")
        elif app:
            apps[app.app_id] = app
    return apps if doc.failed == before else None


def _read_app(doc: YamlDoc, node: Node, where: str) -> App | None:
    before = doc.failed
    found = doc.fields(node, where, ("app_id", "dev_key", "platforms", "plan", "versions",
                                     "events"))
    if found is None:
        return None
    app_id = doc.text(found["app_id"], f"{where}.app_id")
    if app_id and not contract.APP_ID_PATTERN.fullmatch(app_id):
        doc.fail(found["app_id"], f"{where}.app_id",
                 f"must match {contract.APP_ID_PATTERN.pattern}")
    dev_key = doc.text(found["dev_key"], f"{where}.dev_key")
    if dev_key and not dev_key.isascii():
        doc.fail(found["dev_key"], f"{where}.dev_key", "must be ASCII (it keys the HMAC)")
    platforms = _read_app_platforms(doc, found["platforms"], f"{where}.platforms")
    plan = doc.choice(found["plan"], f"{where}.plan", PLANS)
    versions = doc.weighted(found["versions"], f"{where}.versions", "version",
                            lambda n, w: doc.body_value(n, w, "app_version"), ("release_day",))
    days = [_read_release_day(doc, entry) for entry in versions or ()]
    events = [_read_event(doc, item, f"{where}.events[{i}]")
              for i, item in enumerate(doc.items(found["events"], f"{where}.events"))]
    if doc.failed != before:
        return None
    total = sum(entry.weight for entry in versions or ())
    return App(
        app_id=app_id or "", dev_key=dev_key or "", platforms=platforms or (), plan=plan or "",
        versions=tuple(AppVersion(entry.value, entry.weight / total, day)
                       for entry, day in zip(versions or (), days, strict=True)),
        events=tuple(event for event in events if event),
    )


def _read_app_platforms(doc: YamlDoc, node: Node, where: str) -> tuple[str, ...] | None:
    if isinstance(node, ScalarNode):
        if doc.choice(node, where, ("all",)):
            return contract.PLATFORMS
        return None
    names = [doc.choice(item, f"{where}[{i}]", contract.PLATFORMS)
             for i, item in enumerate(doc.items(node, where))]
    return tuple(dict.fromkeys(name for name in names if name))


def _read_release_day(doc: YamlDoc, entry: Entry[str]) -> float:
    node = entry.nodes.get("release_day")
    if node is None:
        return 0.0
    return doc.number(node, entry.where.removesuffix(".version") + ".release_day", 0) or 0.0


def _read_event(doc: YamlDoc, node: Node, where: str) -> EventSpec | None:
    before = doc.failed
    found = doc.fields(node, where, ("name", "per_session"),
                       ("revenue", "currency", "custom_parameters"))
    if found is None:
        return None
    name = doc.body_value(found["name"], f"{where}.name", "event_name")
    per_session = doc.number(found["per_session"], f"{where}.per_session", 0)
    revenue = _read_revenue(doc, found["revenue"], f"{where}.revenue") if "revenue" in found \
        else None
    currency = None
    if "currency" in found:
        currency = doc.text(found["currency"], f"{where}.currency")
        for problem in contract_problems("event_parameters", currency,
                                          lambda c: {"af_currency": c}) if currency else ():
            doc.fail(found["currency"], f"{where}.currency", problem)
    custom = _read_custom_parameters(doc, found["custom_parameters"],
                                     f"{where}.custom_parameters") \
        if "custom_parameters" in found else ()
    if doc.failed != before:
        return None
    return EventSpec(name or "", per_session or 0.0, revenue, currency, custom)


def _read_custom_parameters(doc: YamlDoc, node: Node, where: str) -> tuple[tuple[str, str], ...]:
    """{key: text}: what an app adds to an event beyond AppsFlyer's predefined parameters
    (`event_custom_parameters`; the SDKs send every value as a string)."""
    pairs = []
    for key_node, value_node in doc.pairs(node, where):
        at = f"{where}.{key_node.value}"
        key, value = doc.text(key_node, at), doc.text(value_node, at)
        if key is not None and value is not None:
            pairs.append((key, value))
    return tuple(pairs)


def _read_revenue(doc: YamlDoc, node: Node, where: str) -> tuple[float, float] | None:
    items = doc.items(node, where)
    if len(items) != 2:
        doc.fail(node, where, "must be [min, max]")
        return None
    low = doc.number(items[0], f"{where}[0]", 0)
    high = doc.number(items[1], f"{where}[1]", 0)
    if low is None or high is None:
        return None
    if high < low:
        doc.fail(node, where, "max must be >= min")
        return None
    return (low, high)


# --------------------------------------------------------------------------- profiles
