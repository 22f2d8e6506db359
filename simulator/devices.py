"""Simulated devices and the Faker provider that makes them.

INTERFACE DRAFT (foundation): `Device` is the agreed interface; the provider is being written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Device:
    """One simulated device; attribute names are the API's body field names."""

    platform: str
    ip: str
    user_agent: str
    device_os_version: str
    device_model: str
    device_ids: tuple[tuple[str, str], ...]  # (type, value) pairs; `custom` always first
    limit_ad_tracking: bool
    customer_user_id: str | None
    household_id: int  # devices of one household share `ip`
    timezone: str  # IANA name: where the device's local day happens

    @property
    def custom_id(self) -> str:
        return self.device_ids[0][1]
