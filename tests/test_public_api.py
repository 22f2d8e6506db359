"""The package's public API: a small set of names at the top, each defined in one module."""

from __future__ import annotations

import subprocess
import sys

import pytest

import simulator


def test_every_public_name_resolves_to_the_object_its_module_defines() -> None:
    import importlib

    for name in simulator.__all__:
        value = getattr(simulator, name)
        home = getattr(value, "__module__", None) or value.__name__
        if name in ("contract", "signing"):
            assert value is importlib.import_module(f"simulator.{name}")
        else:
            assert getattr(importlib.import_module(home), name) is value, name
    assert set(simulator.__all__) <= set(dir(simulator))


def test_the_exception_tree_has_one_root() -> None:
    for name in ("FaultError", "MockAdminError", "OutputError", "ProfileError", "TargetError",
                 "InputError"):
        assert issubclass(getattr(simulator, name), simulator.CtvSimError), name


@pytest.mark.parametrize("module", ["simulator", "simulator.mock", "simulator.cli._commands"])
def test_importing_pulls_in_no_heavy_dependency(module: str) -> None:
    """Every Locust worker imports the package, and `ctvsim --help` every command module:
    httpx, uvicorn, Locust and Faker load when first used, not before."""
    code = (f"import sys, {module}; print(sorted(m for m in ('httpx', 'uvicorn', 'locust', "
            "'faker') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_the_client_module_exports_only_its_clients() -> None:
    from simulator import client

    assert client.__all__ == ["AppsFlyerClient", "AsyncAppsFlyerClient"]
