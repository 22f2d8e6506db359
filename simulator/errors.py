"""The exceptions ctv-simulator raises, one hierarchy so callers can catch broadly or narrowly."""

from __future__ import annotations


class CtvSimError(Exception):
    """Base of every error this package raises on purpose."""


class UsageError(CtvSimError):
    """The user asked for something impossible: the CLI prints one line and exits 2."""


class ProfileError(UsageError):
    """One or more problems in a YAML file the tool reads (profiles, apps, fault plans), each
    as `file:line:column: field: rule`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class TargetError(UsageError):
    """A send target cannot be used as asked: an unknown name, production without the opt-in,
    or no dev key for it."""


class OutputError(CtvSimError):
    """An output file could not be written once work had begun (a full disk, say): the CLI
    prints one line and exits 1; nothing half-written is left at the destination."""
