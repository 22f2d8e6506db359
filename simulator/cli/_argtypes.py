"""argparse ``type=`` callables for numbers with a lower bound and for paths, with messages that
say what is allowed (argparse turns ArgumentTypeError into a one-line usage error, exit 2)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

_NAMES = {int: "whole number", float: "number"}


def number(kind: type, minimum: float, *, strict: bool,
           maximum: float | None = None) -> Callable[[str], Any]:
    """A parser for a ``kind`` above ``minimum`` (at least ``minimum`` when not ``strict``),
    and at most ``maximum`` when one is given."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {_NAMES.get(kind, kind.__name__)}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if value < minimum or (strict and value == minimum):
            raise argparse.ArgumentTypeError(
                f"must be {'>' if strict else '>='} {minimum:g}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum:g}, got {text}")
        return value
    return parse


positive_int = number(int, 0, strict=True)
non_negative_int = number(int, 0, strict=False)
positive_float = number(float, 0, strict=True)
non_negative_float = number(float, 0, strict=False)
port = number(int, 0, strict=False, maximum=65535)  # 0: any free port


def installed_base(text: str) -> float | str:
    """``--installed-base``: ``auto`` or a share of the devices from 0 to 1."""
    from simulator.behaviour import parse_installed_base

    try:
        return parse_installed_base(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def channel(text: str) -> Any:
    """``--channel``: s2s, c2s, mixed or mixed:SHARE (``channels.ChannelMix``)."""
    from simulator.channels import parse_channel

    try:
        return parse_channel(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


CHANNEL_HELP = (
    "s2s (the default): a server relay's requests on the S2S API; c2s: the devices' own, as "
    "each platform's AppsFlyer SDK sends them (platforms without one, vega, are left out); "
    "mixed: a SHARE of the devices (default 0.5) on C2S, the rest on S2S")
SDK_QUIRKS_HELP = (
    "on (the default): C2S bodies as the SDKs really send them, departures from the published "
    "schema included; off: valid under the published C2S schema")


def on_off(text: str) -> bool:
    """``on`` or ``off``."""
    if text not in ("on", "off"):
        raise argparse.ArgumentTypeError(f"{text!r}: use on or off")
    return text == "on"


def path_text(text: str) -> str:
    """A file or directory name as given (``-`` included); no operating system takes one with
    a NUL byte in it, so it is refused here, with the other usage errors."""
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot contain a NUL byte")
    return text


def path(text: str) -> Path:
    return Path(path_text(text))
