"""`ctvsim`: the command line. Each command lives in its own module and registers itself here.

Exit codes are ``errors.ExitCode``: 0 success; 1 requests finally failed (send), the run failed,
or an output could not be written once work had begun (a full disk); 2 usage error (bad flag,
broken profile); 3 a load-test threshold breached; 4 reconciliation found lost or misordered
requests; 130 interrupted.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence

from simulator.errors import ExitCode, InputError, OutputError


class UsageError(InputError):
    """A command line that argparse, or a command's own checks, refuse."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every usage error takes one path.

    A value that starts with a minus and a digit (``--duration -5s``, ``--rate -1e3``) is
    read as the flag's value, so that its own check can say what is allowed, instead of
    argparse's "expected one argument". No flag of ctvsim looks like a negative number, so
    nothing else changes. The matcher is argparse's own hook (present since Python 3.2);
    without it the stock behaviour remains.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if hasattr(self, "_negative_number_matcher"):
            self._negative_number_matcher = re.compile(r"^-\.?\d")

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def note_left_out(platforms: Sequence[str]) -> None:
    """The one line saying which platforms ``--channel c2s`` left out of the default mix."""
    if platforms:
        from simulator.channels import left_out_note

        print(left_out_note(platforms), file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    from simulator.cli import _commands

    parser = _Parser(
        prog="ctvsim",
        description="CTV device simulator and load-testing harness for AppsFlyer's "
        "PC/Console/CTV events API (S2S and C2S).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for register in _commands.REGISTRY:
        register(commands)
    return parser


def _print_error(error: Exception, fallback: str) -> None:
    for line in str(error).splitlines() or [fallback]:
        print(f"ctvsim: error: {line}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.run(args) or ExitCode.OK)
    except InputError as error:  # the command line's, and the library's
        _print_error(error, "invalid usage")
        return ExitCode.USAGE
    except OutputError as error:
        _print_error(error, "an output could not be written")
        return ExitCode.FAILED
    except KeyboardInterrupt:
        print("ctvsim: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
