"""Names a package exports but loads on first use (PEP 562), so that importing the package,
which every ``ctvsim`` command and Locust worker does, stays cheap: httpx, uvicorn and
Faker load when a name that needs them is first touched, and stay loaded after."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def exports(package: str, defined_in: Mapping[str, str], names: Sequence[str],
            ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``: each of ``defined_in``'s names
    is imported from its module when first asked for, then kept as a plain attribute."""
    namespace = sys.modules[package].__dict__

    def getattr_(name: str) -> Any:
        module = defined_in.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted({*namespace, *names})

    return getattr_, dir_
