"""Injected faults: what to do to a request that passed every contract check.

A plan is a seed plus an ordered list of rules. Each rule may be scoped (operation, app,
platform), fires with a probability, may be limited to the first N matching requests, to a
window after activation (an outage), and reverts by itself after a duration. For one request,
the latencies of all rules that fire add up, and the first firing rule with an action
(an error status, reset, empty, hang) decides the answer.

One rule has three spellings, all parsed here into the same thing:
- a mapping (YAML file, ``PUT /__admin/faults``): ``{status: 503, probability: 0.1,
  retry_after: 2, operation: session, latency: {distribution: lognormal, median_ms: 80,
  sigma: 0.4, max_ms: 200}}``;
- a string (``--fault`` flag, ``X-Mock-Fault`` header): comma-separated ``key=value`` items
  with the same keys, latency written ``latency=120`` (fixed ms), ``latency=uniform:10:50``,
  ``latency=lognormal:80:0.4:200`` (median ms, sigma, cap ms); a bare ``reset``, ``empty`` or
  ``hang`` names the action, a bare number an error status: ``X-Mock-Fault: 503,retry_after=2``.

Latency uses the event loop's timers (``asyncio.sleep``): thousands of waiting requests cost
nothing but memory, never a thread each.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.contract import OPERATIONS, PLATFORMS, Route
from simulator.errors import FaultError

ERROR_STATUSES = (429, 500, 502, 503, 504)
ACTIONS = ("error", "reset", "empty", "hang")
DISTRIBUTIONS = ("fixed", "uniform", "lognormal")
RULE_KEYS = ("status", "action", "probability", "retry_after", "latency", "operation", "app",
             "platform", "first", "after", "for", "duration", "name")


MAX_LATENCY_MS = 300_000.0  # 5 minutes: past any client's timeout; a hang is the action for more
MAX_RETRY_AFTER_S = 3_600


@dataclass(frozen=True, slots=True)
class Latency:
    distribution: str
    a: float  # fixed: ms; uniform: lower ms; lognormal: median ms
    b: float = 0.0  # uniform: upper ms; lognormal: sigma
    cap: float = math.inf  # lognormal: the largest delay in ms

    def sample(self, rng: random.Random) -> float:
        """A delay in seconds."""
        if self.distribution == "fixed":
            ms = self.a
        elif self.distribution == "uniform":
            ms = rng.uniform(self.a, self.b)
        else:
            ms = min(self.a * math.exp(self.b * rng.gauss(0.0, 1.0)), self.cap)
        return ms / 1000.0

    def describe(self) -> dict[str, Any]:
        if self.distribution == "fixed":
            return {"distribution": "fixed", "ms": self.a}
        if self.distribution == "uniform":
            return {"distribution": "uniform", "lower_ms": self.a, "upper_ms": self.b}
        cap = None if math.isinf(self.cap) else self.cap
        return {"distribution": "lognormal", "median_ms": self.a, "sigma": self.b, "max_ms": cap}


@dataclass(slots=True)
class Rule:
    action: str | None  # None: latency only
    status: int = 0
    probability: float = 1.0
    retry_after: int | None = None
    latency: Latency | None = None
    operation: str | None = None
    app: str | None = None
    platform: str | None = None
    first: int | None = None
    after: float = 0.0
    window: float | None = None  # the "for" key: how long an outage lasts
    duration: float | None = None
    name: str = ""
    matched: int = field(default=0)
    fired: int = field(default=0)

    def in_scope(self, route: Route) -> bool:
        return (self.operation in (None, route.operation) and self.app in (None, route.app_id)
                and self.platform in (None, route.platform))

    def label(self) -> str:
        return str(self.status) if self.action == "error" else (self.action or "latency")

    def describe(self, age: float) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": self.name, "action": self.action or "latency"}
        if self.action == "error":
            spec["status"] = self.status
        optional = {
            "probability": self.probability if self.probability != 1.0 else None,
            "retry_after": self.retry_after,
            "latency": self.latency.describe() if self.latency else None,
            "operation": self.operation, "app": self.app, "platform": self.platform,
            "first": self.first, "after": self.after or None, "for": self.window,
            "duration": self.duration,
        }
        spec.update({key: value for key, value in optional.items() if value is not None})
        if self.duration is not None:
            spec["remaining_s"] = round(max(0.0, self.duration - age), 3)
        spec["matched"] = self.matched
        spec["fired"] = self.fired
        return spec


@dataclass(frozen=True, slots=True)
class Decision:
    delay: float  # seconds
    action: str | None  # None: answer normally after the delay
    status: int
    retry_after: int | None
    label: str  # how the journal counts it: "503", "reset", "latency", ...


class FaultPlan:
    """The active rules with their random generator, clock and counts.

    ``clock`` (seconds, monotonic) times the rules' windows and durations from the moment
    the plan is made; a test passes its own to step through an outage without sleeping.
    """

    def __init__(self, rules: list[Rule] | None = None, seed: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seed = seed
        self.rules = rules or []
        self._rng = random.Random(seed)
        self._clock = clock
        self._activated = clock()

    @classmethod
    def from_spec(cls, spec: Any, clock: Callable[[], float] = time.monotonic) -> FaultPlan:
        """A plan from a mapping ``{seed, duration, rules: [...]}``, a list of rules or None."""
        if spec is None:
            return cls()
        if isinstance(spec, list):
            spec = {"rules": spec}
        if not isinstance(spec, Mapping):
            raise FaultError("faults", "must be a mapping with 'rules' (and optional 'seed', "
                             "'duration') or a list of rules")
        unknown = set(spec) - {"seed", "duration", "rules"}
        if unknown:
            raise FaultError(f"faults.{sorted(map(str, unknown))[0]}",
                             "unknown key; allowed: seed, duration, rules")
        seed = _number(spec, "seed", int, "faults")
        duration = _number(spec, "duration", float, "faults")
        raw_rules = spec.get("rules") or []
        if not isinstance(raw_rules, list):
            raise FaultError("faults.rules", "must be a list of rules")
        rules = [parse_rule(raw, f"faults.rules[{i}]") for i, raw in enumerate(raw_rules)]
        for rule in rules:
            if rule.duration is None:
                rule.duration = duration
        return cls(rules, seed, clock)

    def describe(self) -> dict[str, Any]:
        age = self._clock() - self._activated
        return {"seed": self.seed, "rules": [rule.describe(age) for rule in self._live(age)]}

    def _live(self, age: float) -> list[Rule]:
        """The rules whose duration has not run out; expired ones are dropped for good."""
        live = [r for r in self.rules if r.duration is None or age < r.duration]
        if len(live) != len(self.rules):
            self.rules = live
        return live

    def decide(self, route: Route, extra: Rule | None = None) -> Decision | None:
        """What to inject for one valid request, or None to answer it normally."""
        age = self._clock() - self._activated
        rules = self._live(age)
        if extra is not None:
            rules = [extra, *rules]
        delay = 0.0
        chosen: Rule | None = None
        for rule in rules:
            if not self._fires(rule, route, age):
                continue
            if rule.latency is not None:
                delay += rule.latency.sample(self._rng)
            if chosen is None and rule.action is not None:
                chosen = rule
        if chosen is None:
            return Decision(delay, None, 0, None, "latency") if delay else None
        return Decision(delay, chosen.action, chosen.status, chosen.retry_after, chosen.label())

    def _fires(self, rule: Rule, route: Route, age: float) -> bool:
        if not rule.in_scope(route):
            return False
        if age < rule.after or (rule.window is not None and age >= rule.after + rule.window):
            return False
        rule.matched += 1
        if rule.first is not None and rule.matched > rule.first:
            return False
        if rule.probability < 1.0 and self._rng.random() >= rule.probability:
            return False
        rule.fired += 1
        return True


def parse_rule(raw: Any, where: str = "fault") -> Rule:
    """One rule from a mapping or from the ``key=value,...`` string form."""
    if isinstance(raw, str):
        raw = _split_string(raw, where)
    if not isinstance(raw, Mapping):
        raise FaultError(where, "must be a mapping or a 'key=value,...' string")
    unknown = set(raw) - set(RULE_KEYS)
    if unknown:
        raise FaultError(f"{where}.{sorted(map(str, unknown))[0]}",
                         "unknown key; allowed: " + ", ".join(RULE_KEYS))
    status = _number(raw, "status", int, where)
    action = raw.get("action")
    if action is None and status is not None:
        action = "error"
    if action is not None and action not in ACTIONS:
        raise FaultError(f"{where}.action", f"{action!r} is not one of {', '.join(ACTIONS)}")
    if action == "error" and status not in ERROR_STATUSES:
        raise FaultError(f"{where}.status",
                         "must be one of " + ", ".join(map(str, ERROR_STATUSES)))
    latency = _latency(raw.get("latency"), f"{where}.latency")
    probability = _number(raw, "probability", float, where, 0.0, 1.0)
    retry_after = _number(raw, "retry_after", int, where, 0, MAX_RETRY_AFTER_S)
    if retry_after is None and status == 429:
        retry_after = 1
    rule = Rule(
        action=action, status=status or 0,
        probability=1.0 if probability is None else probability,
        retry_after=retry_after, latency=latency,
        operation=_choice(raw, "operation", OPERATIONS, where),
        app=_text(raw, "app", where), platform=_choice(raw, "platform", PLATFORMS, where),
        first=_number(raw, "first", int, where, 0),
        after=_number(raw, "after", float, where, 0) or 0.0,
        window=_number(raw, "for", float, where, 0),
        duration=_number(raw, "duration", float, where, 0),
        name=_text(raw, "name", where) or "",
    )
    if action is None and latency is None:
        raise FaultError(where, f"needs a status, an action ({', '.join(ACTIONS[1:])}) or a "
                         "latency")
    return rule


def _split_string(text: str, where: str) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower().replace("-", "_")
        if not sep:
            if key in ACTIONS[1:]:
                key, value = "action", key
            elif key.isdigit():
                key, value = "status", key
            else:
                raise FaultError(where, f"{item!r} is not key=value, a status, or one of "
                                 + ", ".join(ACTIONS[1:]))
        if key in spec:
            raise FaultError(f"{where}.{key}", "given twice; give each key once")
        spec[key] = value.strip()
    return spec


def _number(raw: Mapping[str, Any], key: str, kind: type, where: str,
            low: float | None = None, high: float | None = None) -> Any:
    """``raw[key]`` as a finite ``kind`` within [low, high], or None when absent."""
    value = raw.get(key)
    if value is None:
        return None
    at = f"{where}.{key}"
    name = "an integer" if kind is int else "a number"
    if isinstance(value, bool):
        raise FaultError(at, f"must be {name}, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        raise FaultError(at, f"must be {name}, got {value!r}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise FaultError(at, f"must be a finite number, got {value!r}")
    if (low is not None and number < low) or (high is not None and number > high):
        allowed = (f"from {low:g} to {high:g}" if low is not None and high is not None
                   else f">= {low:g}" if low is not None else f"<= {high:g}")
        raise FaultError(at, f"must be {allowed}, got {value!r}")
    return number


def _text(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise FaultError(f"{where}.{key}", "must be a string")
    return value


def _choice(raw: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str | None:
    value = _text(raw, key, where)
    if value is not None and value not in allowed:
        raise FaultError(f"{where}.{key}", f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _latency(raw: Any, where: str) -> Latency | None:
    """``120``, ``"fixed:120"``, ``"uniform:10:50"``, ``"lognormal:80:0.4:200"`` or a mapping;
    every delay in milliseconds, at most MAX_LATENCY_MS (a lognormal is capped there too)."""
    if raw is None:
        return None
    if isinstance(raw, str) and ":" in raw:
        name, *numbers = raw.split(":")
        keys = {"fixed": ("ms",), "uniform": ("lower_ms", "upper_ms"),
                "lognormal": ("median_ms", "sigma", "max_ms")}.get(name.strip())
        if keys is None or not 1 <= len(numbers) <= len(keys):
            raise FaultError(where, "write fixed:MS, uniform:LOW:HIGH or "
                             "lognormal:MEDIAN:SIGMA[:MAX] (milliseconds)")
        raw = {"distribution": name.strip(), **dict(zip(keys, numbers, strict=False))}
    elif not isinstance(raw, Mapping):
        raw = {"distribution": "fixed", "ms": raw}
    distribution = raw.get("distribution", "fixed")
    if distribution not in DISTRIBUTIONS:
        raise FaultError(f"{where}.distribution",
                         f"{distribution!r} is not one of " + ", ".join(DISTRIBUTIONS))
    needed = {"fixed": ("ms",), "uniform": ("lower_ms", "upper_ms"),
              "lognormal": ("median_ms", "sigma")}[distribution]
    values = []
    for key in needed:
        high = 10.0 if key == "sigma" else MAX_LATENCY_MS
        value = _number(raw, key, float, where, 0, high)
        if value is None:
            raise FaultError(f"{where}.{key}", f"required for {distribution}, a number from 0 "
                             f"to {high:g}")
        values.append(value)
    if distribution == "uniform" and values[1] < values[0]:
        raise FaultError(f"{where}.upper_ms", "must be >= lower_ms")
    cap = (_number(raw, "max_ms", float, where, 0, MAX_LATENCY_MS)
           if distribution == "lognormal" else None)
    if cap is not None and cap < values[0]:
        raise FaultError(f"{where}.max_ms", "must be >= median_ms")
    if distribution == "lognormal":
        return Latency(distribution, values[0], values[1],
                       MAX_LATENCY_MS if cap is None else cap)
    return Latency(distribution, *values)


def load_file(path: str) -> FaultPlan:
    """A plan from a YAML (or JSON) file, read by the profiles' positioned reader: every
    problem is ``file:line:column: field: rule``."""
    from pathlib import Path

    from simulator.errors import ProfileError
    from simulator.profiles import YamlDoc

    doc = YamlDoc.open(Path(path))
    spec = doc.data() if not doc.failed else None
    if not doc.failed:
        try:
            return FaultPlan.from_spec(spec)
        except FaultError as error:
            # The plan's fields are named from its root ("faults.rules[0]..."); a bare list
            # of rules is read as {"rules": [...]}.
            where = error.where.removeprefix("faults").lstrip(".")
            if isinstance(spec, list):
                where = where.removeprefix("rules")
            doc.fail(doc.node_at(where), error.where, error.rule)
    raise ProfileError(doc.problems())
