"""Which channel each simulated device speaks, and its payload builder there.

``--channel s2s`` (the default): every device's requests go through a server relay on the
S2S API. ``c2s``: every device sends itself, as its platform's AppsFlyer SDK does
(``c2s.py``); platforms whose profile names no SDK (Fire TV Vega: S2S only) are left out.
``mixed`` (or ``mixed:SHARE``): a share of the devices, half by default, on C2S and the rest
through a relay on S2S, as an app whose TV apps report from the device and whose backend
reports for the rest; a platform without an SDK is all S2S. Which device is which is fixed
by the seed and the device's place in its stream, whatever else runs beside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from simulator import contract
from simulator.c2s import SdkDevicePayloads, SdkPayloads
from simulator.devices import Device
from simulator.errors import InputError
from simulator.payloads import AppPayloads, DevicePayloads
from simulator.profiles import App, ProfileSet

__all__ = ["S2S_ONLY", "ChannelMix", "Wire", "channel_platforms", "left_out_note",
           "parse_channel"]

MIXED: Final = "mixed"
MIXED_SHARE: Final = 0.5  # of the devices on C2S in a mixed run, unless given


@dataclass(frozen=True, slots=True)
class ChannelMix:
    c2s_share: float  # 0: all S2S; 1: all C2S

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels some device speaks."""
        return tuple(c for c, share in ((contract.S2S, 1 - self.c2s_share),
                                        (contract.C2S, self.c2s_share)) if share > 0)


S2S_ONLY: Final = ChannelMix(0.0)


def parse_channel(text: str) -> ChannelMix:
    """``s2s``, ``c2s``, ``mixed`` or ``mixed:SHARE`` (SHARE of devices on C2S, 0 < SHARE < 1);
    ValueError says what is allowed."""
    name, _, share = text.strip().partition(":")
    allowed = "s2s, c2s, mixed or mixed:SHARE (the share of devices on C2S, e.g. mixed:0.8)"
    if name in (contract.S2S, contract.C2S) and not share:
        return ChannelMix(1.0 if name == contract.C2S else 0.0)
    if name != MIXED:
        raise ValueError(f"{text!r} is not a channel: use {allowed}")
    if not share:
        return ChannelMix(MIXED_SHARE)
    try:
        value = float(share)
    except ValueError:
        raise ValueError(f"{text!r}: the share must be a number between 0 and 1") from None
    if not 0 < value < 1:
        raise ValueError(f"{text!r}: the share must lie strictly between 0 and 1 (for all "
                         "or none, use c2s or s2s)")
    return ChannelMix(value)


def channel_platforms(profile_set: ProfileSet, app: App, wanted: Sequence[str] | None,
                      mix: ChannelMix) -> tuple[list[str], list[str]]:
    """The platforms to simulate, and those the default mix left out because their devices
    have no C2S client (a run on C2S alone); asking for one of those is an InputError."""
    chosen = profile_set.app_platforms(app, wanted)
    if mix.c2s_share < 1:
        return chosen, []
    without = [name for name in chosen if profile_set.profiles[name].sdk is None]
    if wanted and without:
        raise InputError(f"--channel c2s: {', '.join(without)} has no C2S client (its profile "
                         "names no sdk: S2S only); leave it out or use --channel s2s or mixed")
    kept = [name for name in chosen if name not in without]
    if not kept:
        raise InputError(f"--channel c2s: none of {', '.join(chosen)} has a C2S client")
    return kept, without


def left_out_note(platforms: Sequence[str]) -> str:
    """The one line that says which platforms ``--channel c2s`` left out, and why."""
    return (f"ctvsim: note: --channel c2s leaves out {', '.join(platforms)} (no C2S client: "
            "S2S only)")


class Wire:
    """The payload builder of each device: S2S, or its platform's SDK on C2S."""

    def __init__(self, profile_set: ProfileSet, app: App, dev_key: str, mix: ChannelMix, *,
                 seed: int, quirks: bool = True, forward_address: bool = True,
                 path_prefixes: Mapping[str, str] | None = None) -> None:
        """``path_prefixes``: each channel's path under a base URL shared by both
        (``Target.shared_base``); ``forward_address``: the target is loopback."""
        prefixes = path_prefixes or {}
        self.mix = mix
        self.s2s = AppPayloads(app, dev_key, prefixes.get(contract.S2S, ""))
        self.sign = self.s2s.sign
        self._seed = seed
        self._sdks = {
            name: SdkPayloads(self.s2s, profile.sdk, quirks=quirks,
                              forward_address=forward_address,
                              path_prefix=prefixes.get(contract.C2S, ""))
            for name, profile in profile_set.profiles.items() if profile.sdk is not None
        } if mix.c2s_share > 0 else {}

    def device(self, device: Device, key: str) -> DevicePayloads | SdkDevicePayloads:
        """``device``'s builder; ``key`` names its place in its stream (the channel draw's)."""
        sdk = self._sdks.get(device.platform)
        if sdk is None or not self._on_c2s(key):
            return self.s2s.device(device)
        return sdk.device(device)

    def _on_c2s(self, key: str) -> bool:
        share = self.mix.c2s_share
        if share >= 1:
            return True
        digest = hashlib.blake2b(f"ctvsim-channel:{self._seed}:{key}".encode(),
                                 digest_size=8).digest()
        return int.from_bytes(digest) < share * 2**64
