"""Files that ship with the package but live at the top of the source tree: the YAML
``profiles/`` and the ``locustfiles/``. An installed package carries a copy of each as
``simulator/bundled_<name>`` (pyproject.toml maps them), found with importlib.resources; a
source checkout, and an editable install of one, has no copy and uses the top-level
directory beside the package."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from simulator.errors import CtvSimError


def bundled_directory(name: str) -> Path:
    """The bundled directory ``name`` (``profiles`` or ``locustfiles``)."""
    package = importlib.resources.files("simulator")
    if not isinstance(package, Path):  # a zip import: the loaders need real directories
        raise CtvSimError(f"ctv-simulator is installed as {package}, not as files; install "
                          "it unzipped")
    bundled = package / f"bundled_{name}"
    return bundled if bundled.is_dir() else package.parent / name
