"""The positioned YAML reader: a file's node tree (not plain dicts), so that every problem
names its file, line, column and field path, and every problem of a file is collected in one
pass. Profiles, apps and fault plans are all read through it."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from simulator import contract
from simulator.profiles.model import MAX_WEIGHT, T, WeightedTable


class YamlDoc:
    """One YAML file's node tree; every read names its place when it finds a problem."""

    def __init__(self, name: str, root: Node | None, path: Path | None = None) -> None:
        self.name = name
        self.root = root
        self.path = path
        self._found: list[tuple[int, int, str]] = []  # (line, column, problem)
        self.flagged: set[int] = set()  # ids of nodes already reported (shared templates)
        self._constructor = yaml.constructor.SafeConstructor()

    @classmethod
    def open(cls, path: Path) -> YamlDoc:
        """The file's node tree; a file that cannot be read or parsed has none."""
        doc = cls(display(path), None, path)
        try:
            doc.root = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
        except OSError as error:
            doc.fail(None, "(file)", f"cannot read: {error.strerror or error}")
        except UnicodeDecodeError:
            doc.fail(None, "(file)", "is not UTF-8 text")
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            doc.fail(_Position(mark) if mark else None, "(yaml)",
                     str(error.problem or error.context))
        else:
            if doc.root is None:
                doc.fail(None, "(document)", "is empty")
        return doc

    @property
    def failed(self) -> int:
        return len(self._found)

    def data(self) -> Any:
        """The document as plain Python values (for files read as a whole, such as fault
        plans); a duplicate key is a problem here, where a plain YAML load keeps the last."""
        if self.root is None:
            return None
        self._check_unique_keys(self.root)
        return yaml.constructor.SafeConstructor().construct_document(self.root)

    def _check_unique_keys(self, node: Node, where: str = "") -> None:
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self._check_unique_keys(item, f"{where}[{index}]")
        elif isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, ScalarNode) else id(key_node)
                at = join(where, str(key))
                if key in seen:
                    self.fail(key_node, at, "duplicate key")
                seen.add(key)
                self._check_unique_keys(value_node, at)

    def node_at(self, where: str) -> Node | None:
        """The deepest node on a path such as ``rules[0].latency.ms``: where a problem that
        was found in the plain values stands in the file."""
        node = self.root
        for step in re.findall(r"[^.\[\]]+|\[\d+\]", where):
            if isinstance(node, SequenceNode) and step.startswith("["):
                index = int(step[1:-1])
                if index >= len(node.value):
                    break
                node = node.value[index]
            elif isinstance(node, MappingNode):
                found = [value for key, value in node.value
                         if isinstance(key, ScalarNode) and key.value == step]
                if not found:
                    break
                node = found[-1]
            else:
                break
        return node

    def problems(self) -> list[str]:
        """Every problem found, in file order (by line, then column)."""
        return [problem for _, _, problem in sorted(self._found, key=lambda f: f[:2])]

    def fail(self, node: Node | _Position | None, where: str, rule: str) -> None:
        anchor = node or self.root
        mark = anchor.start_mark if anchor is not None else None
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        self._found.append(
            (line, column, f"{self.name}:{line}:{column}: {where or '(document)'}: {rule}")
        )

    def peek(self, key: str) -> str | None:
        """A top-level string value without validating anything (to find overrides)."""
        if isinstance(self.root, MappingNode):
            for key_node, value_node in self.root.value:
                if key_node.value == key and isinstance(value_node, ScalarNode):
                    return str(value_node.value)
        return None

    # -- structure

    def fields(self, node: Node, where: str, required: Sequence[str],
               optional: Sequence[str] = ()) -> dict[str, Node] | None:
        """The mapping's values by key; unknown, duplicate and missing keys are problems.

        A missing required key maps to MISSING, which every read skips silently, so the
        keys that are there still get checked.
        """
        if node is MISSING:
            return None
        if not isinstance(node, MappingNode):
            self.fail(node, where, "must be a mapping")
            return None
        allowed = (*required, *optional)
        found: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            at = join(where, str(key))
            if key not in allowed:
                self.fail(key_node, at, f"unknown key (allowed: {', '.join(allowed)})")
            elif key in found:
                self.fail(key_node, at, "duplicate key")
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.fail(node, join(where, key), "is required")
                found[key] = MISSING
        return found

    def items(self, node: Node, where: str) -> list[Node]:
        if node is MISSING:
            return []
        if not isinstance(node, SequenceNode):
            self.fail(node, where, "must be a list")
            return []
        if not node.value:
            self.fail(node, where, "must have at least one item")
        return list(node.value)

    def pairs(self, node: Node, where: str) -> list[tuple[Node, Node]]:
        if node is MISSING:
            return []
        if not isinstance(node, MappingNode):
            self.fail(node, where, "must be a mapping")
            return []
        if not node.value:
            self.fail(node, where, "must have at least one entry")
        return list(node.value)

    # -- scalars

    def scalar(self, node: Node, where: str) -> Any:
        if node is MISSING:
            return _INVALID
        if not isinstance(node, ScalarNode):
            self.fail(node, where, "must be a single value")
            return _INVALID
        construct = self._constructor.yaml_constructors.get(node.tag)
        if construct is None:
            self.fail(node, where, f"unsupported tag {node.tag}")
            return _INVALID
        return construct(self._constructor, node)

    def text(self, node: Node, where: str) -> str | None:
        value = self.scalar(node, where)
        if value is _INVALID:
            return None
        if type(value) is not str:
            self.fail(node, where, f"must be a string, got {kind(value)} (quote it)")
            return None
        if not value.strip():
            self.fail(node, where, "must not be empty")
            return None
        return value

    def choice(self, node: Node, where: str, allowed: Sequence[str]) -> str | None:
        value = self.text(node, where)
        if value is not None and value not in allowed:
            self.fail(node, where, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return value

    def number(self, node: Node, where: str, low: float, high: float | None = None,
               *, open_low: bool = False) -> float | None:
        """A finite number in [low, high] (or (low, high] with ``open_low``)."""
        value = self.scalar(node, where)
        if value is _INVALID:
            return None
        if type(value) is str and _is_float(value):
            self.fail(node, where, f"must be a number, got the string {value!r}: YAML reads "
                      "an exponent without a dot as text; write it with one, e.g. 1.0e+3")
            return None
        if type(value) not in (int, float):
            self.fail(node, where, f"must be a number, got {kind(value)}")
            return None
        if not math.isfinite(value):
            self.fail(node, where, f"must be a finite number, got {node.value}")
            return None
        if open_low and value <= low:
            self.fail(node, where, f"must be > {low:g}")
        elif value < low:
            self.fail(node, where, f"must be >= {low:g}")
        elif high is not None and value > high:
            self.fail(node, where, f"must be <= {high:g}")
        else:
            return float(value)
        return None

    def weight(self, node: Node, where: str) -> float | None:
        return self.number(node, where, 0, MAX_WEIGHT, open_low=True)

    def body_value(self, node: Node, where: str, field: str) -> str | None:
        """A string that ends up in request bodies: valid as ``field`` on every operation."""
        value = self.text(node, where)
        if value is not None:
            for problem in contract_problems(field, value):
                self.fail(node, where, problem)
                value = None
        return value

    def weighted(self, node: Node, where: str, key: str, read: Callable[[Node, str], T | None],
                 optional: Sequence[str] = ()) -> list[Entry[T]] | None:
        """A list of {key, weight, *optional} items; None when any has a problem."""
        before = self.failed
        entries: list[Entry[T]] = []
        seen: set[Any] = set()
        for index, item in enumerate(self.items(node, where)):
            at = f"{where}[{index}]"
            found = self.fields(item, at, (key, "weight"), optional)
            if not found:
                continue
            value = read(found[key], f"{at}.{key}")
            weight = self.weight(found["weight"], f"{at}.weight")
            if value in seen:
                self.fail(found[key], f"{at}.{key}", f"duplicate {value!r}")
            elif value is not None and weight is not None:
                seen.add(value)
                entries.append(Entry(value, weight, found, f"{at}.{key}"))
        return entries if self.failed == before and entries else None

    def weighted_map(self, node: Node, where: str,
                     read: Callable[[Node, str], T | None]) -> WeightedTable[T] | None:
        """A mapping {value: weight}."""
        before = self.failed
        pairs: list[tuple[T, float]] = []
        for key_node, value_node in self.pairs(node, where):
            at = join(where, str(key_node.value))
            value = read(key_node, at)
            weight = self.weight(value_node, at)
            if value is not None and weight is not None:
                pairs.append((value, weight))
        return WeightedTable.of(pairs) if self.failed == before and pairs else None


@dataclass(frozen=True, slots=True)
class Entry(Generic[T]):
    """One item of a weighted list, with its nodes so later checks can point at it."""

    value: T
    weight: float
    nodes: dict[str, Node]
    where: str  # field path of the value


@dataclass(frozen=True, slots=True)
class _Position:
    """Stands in for a node where only a mark is known (YAML syntax errors)."""

    start_mark: Any


class _Invalid:
    """Marks a scalar that could not be read (already reported)."""


_INVALID = _Invalid()
MISSING: Final = ScalarNode("tag:yaml.org,2002:null", "")  # a required key that is absent
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _is_float(text: str) -> bool:
    """A finite number that YAML 1.1 left as text (``1e308``: no dot before the exponent)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def kind(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string",
            type(None): "null"}.get(type(value), type(value).__name__)


def contract_problems(field: str, value: Any, wrap: Callable[[str], Any] | None = None,
                      channel: str = contract.S2S) -> list[str]:
    """contract.py's verdict on ``value`` as ``field`` on every operation that has the field
    (a known SDK deviation, a warning on C2S, passes)."""
    failing: dict[str, list[str]] = {}
    for operation in contract.OPERATIONS:
        rule = contract.field_rules(channel)[operation].get(field)
        if rule is None:
            continue
        findings = contract.Findings()
        rule.check(field, wrap(value) if wrap else value, findings)
        for violation in findings.violations:
            failing.setdefault(violation.message, []).append(operation)
    return [f"must be a valid {field} on {', '.join(ops)}: {message}"
            for message, ops in failing.items()]


# --------------------------------------------------------------------------- curves and apps



def display(path: Path) -> str:
    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else Path(relative).as_posix()

def read_sources(doc: YamlDoc, node: Node) -> tuple[str, ...]:
    sources = [doc.text(item, f"sources[{i}]") for i, item in enumerate(doc.items(node, "sources"))]
    return tuple(source for source in sources if source)
