"""Output files that appear whole or not at all, and never over one of their command's inputs.

Every file a command writes (generated traffic, send results, reports) goes through here. It
is checked before any work starts (a directory, a missing parent or one of the command's own
inputs, however the path is spelled, is a usage error), written to a temporary file beside
it and renamed over the destination only when complete. A failed or interrupted write
removes the temporary file, so a reader never sees half an output; a write that fails once
work has begun (a full disk) is an ``OutputError``: one line, exit 1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from simulator.errors import InputError, OutputError

__all__ = ["atomic_output", "check_output", "write_text_atomically"]

# An input is a path the command reads, or an open file descriptor (stdin).
Input = Path | int


def check_output(path: Path, flag: str, inputs: Iterable[Input] = ()) -> None:
    """Raises InputError unless ``path`` can be written as a new or replaced regular file
    that is none of ``inputs``."""
    if path.is_dir():
        raise InputError(f"{flag} {path}: is a directory; give a file name")
    directory = path.parent
    if not directory.is_dir():
        raise InputError(f"{flag} {path}: directory {str(directory)!r} does not exist")
    if path.exists():
        target = path.stat()
        for source in inputs:
            try:
                seen = os.fstat(source) if isinstance(source, int) else source.stat()
            except OSError:
                continue
            if (seen.st_dev, seen.st_ino) == (target.st_dev, target.st_ino):
                raise InputError(f"{flag} {path}: is one of this command's inputs; "
                                 "write the output to another file")


@contextmanager
def atomic_output(path: Path, flag: str, inputs: Iterable[Input] = ()) -> Iterator[BinaryIO]:
    """A binary file that replaces ``path`` when the block ends without an exception."""
    check_output(path, flag, inputs)
    temporary = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        out = temporary.open("xb")
    except OSError as error:
        raise InputError(f"{flag} {path}: cannot write there: {_reason(error)}") from None
    try:
        with out:
            yield out
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"{flag} {path}: cannot write: {_reason(error)}; nothing was "
                          "written") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text_atomically(path: Path, text: str, flag: str) -> None:
    with atomic_output(path, flag) as out:
        out.write(text.encode("utf-8"))


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__
