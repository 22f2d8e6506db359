"""The exceptions ctv-simulator raises, one hierarchy so callers can catch broadly or narrowly,
and the exit codes the command line maps them (and every other outcome) to."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """What a ``ctvsim`` command (or a locustfile run) exits with; the README has the table."""

    OK = 0
    FAILED = 1  # requests finally failed, the run failed, or an output could not be written
    USAGE = 2  # bad input: nothing was sent, nothing half-written
    THRESHOLD = 3  # a load-test threshold was breached
    RECONCILIATION = 4  # the mock's journal disagrees with what the harness sent
    INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)


class CtvSimError(Exception):
    """Base of every error this package raises on purpose."""


class InputError(CtvSimError):
    """What the caller asked for cannot be done as asked (an unknown app or platform, a
    broken profile, a value out of range): nothing was done. The command line prints its
    message, one line per problem, and exits 2."""


class ProfileError(InputError):
    """One or more problems in a YAML file the tool reads (profiles, apps, fault plans), each
    as `file:line:column: field: rule`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class FaultError(InputError):
    """A fault specification that cannot be understood: ``where`` names the field (e.g.
    ``faults.rules[0].probability``), ``rule`` what is allowed."""

    def __init__(self, where: str, rule: str) -> None:
        self.where = where
        self.rule = rule
        super().__init__(f"{where}: {rule}")


class MockAdminError(CtvSimError):
    """The mock's admin API refused a request; the message is the mock's own reason."""


class TargetError(InputError):
    """A send target cannot be used as asked: an unknown name, production without the opt-in,
    or no dev key for it."""


class OutputError(CtvSimError):
    """An output file could not be written once work had begun (a full disk, say): the CLI
    prints one line and exits 1; nothing half-written is left at the destination."""
