"""Output files that appear whole or not at all.

A command writes to a temporary file beside the target and renames it over the target only
when it finishes; a failed or interrupted run removes the temporary file, so a reader never
sees half an output.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from simulator.errors import UsageError


@contextmanager
def atomic_output(path: Path, flag: str) -> Iterator[BinaryIO]:
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"{flag}: directory {str(directory)!r} does not exist")
    temporary = directory / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with temporary.open("xb") as out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
