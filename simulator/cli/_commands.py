"""The commands `ctvsim` offers: each module's `register(subparsers)` adds one or more.

Command modules import heavy dependencies (locust, uvicorn) inside their `run` functions so
that `ctvsim --help` and quick commands stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator.cli import devices, profiles
from simulator.cli import generate as generate_command
from simulator.cli import load as load_command
from simulator.cli import mock as mock_command
from simulator.cli import send as send_command

REGISTRY: list[Callable[[Any], None]] = []
REGISTRY.append(profiles.register)
REGISTRY.append(devices.register)
REGISTRY.append(generate_command.register)
REGISTRY.append(send_command.register)
REGISTRY.append(mock_command.register)
REGISTRY.append(load_command.register)
