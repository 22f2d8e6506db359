"""Generated traffic, the library side of ``ctvsim generate``: devices, their timelines and
their payload builders, streamed in time order as JSON-lines records (``records.py``).

A fixed default start (``instants.DEFAULT_START``) keeps the output byte-identical across
days; ``ctvsim send --rebase-time`` replays an old file live.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from simulator import behaviour, collector, contract, devices, payloads, profiles, records, targets
from simulator.behaviour import Period, Simulation
from simulator.channels import S2S_ONLY, ChannelMix, Wire, channel_platforms
from simulator.devices import Device
from simulator.profiles.model import REQUEST_ID_FORMATS
from simulator.progress import ProgressBar

__all__ = ["Summary", "Traffic"]
_FLUSH_LINES = 4096


@dataclass(slots=True)
class Summary:
    devices: int
    start_ms: int
    end_ms: int
    app_id: str
    requests: Counter[tuple[str, str]]  # (operation, platform) -> count
    warm_up: int = 0  # of them, the installed base's first_opens before the period

    @property
    def total(self) -> int:
        return sum(self.requests.values())


class Traffic:
    """Devices, their timelines and their payload builders: everything ``generate`` writes."""

    def __init__(self, simulation: Simulation, wire: Wire,
                 devices: Callable[[], Iterator[Device]], count: int,
                 left_out: Sequence[str] = ()) -> None:
        self.simulation = simulation
        self.wire = wire
        self.devices = devices  # a fresh stream of the same devices per call
        self.count = count
        self.left_out = tuple(left_out)  # platforms the channel has no client for

    @classmethod
    def build(cls, profiles_dir: Path | None, app_id: str | None,
              platforms: list[str] | None, n_devices: int, period: Period,
              seed: int, *, installed_base: behaviour.InstalledBase = behaviour.AUTO,
              warm_up: bool = True, channel: ChannelMix = S2S_ONLY,
              sdk_quirks: bool = True) -> Traffic:
        profile_set = profiles.load_profiles(profiles_dir)
        app = profile_set.app(app_id)
        chosen, left_out = channel_platforms(profile_set, app, platforms, channel)
        restricted = dataclasses.replace(
            profile_set, profiles={name: profile_set.profiles[name] for name in chosen})
        # Traffic made for the local mock: each C2S device's address in X-Forwarded-For.
        wire = Wire(restricted, app, targets.signing_key(app, None), channel, seed=seed,
                    quirks=sdk_quirks, forward_address=True)
        return cls(behaviour.Simulation(restricted, app, period, seed,
                                        installed_base=installed_base, warm_up=warm_up),
                   wire, lambda: devices.DeviceFactory(restricted, seed).devices(n_devices),
                   n_devices, left_out)

    def write(self, out: BinaryIO) -> Summary:
        """Stream every request in time order to ``out``.

        Memory holds one entry per device (its timeline state once installed, until it
        churns) and one window of events: it does not grow with days or requests.

        The pipeline makes no reference cycles (reference counting frees every event), so
        the cyclic collector is paused while it runs: with thousands of live timelines its
        scans cost a fifth of the throughput and reclaim nothing.
        """
        with collector.paused():
            return self._write(out)

    def _write(self, out: BinaryIO) -> Summary:
        sim, wire = self.simulation, self.wire
        period = sim.period
        ids = {id_format: payloads.request_id_bytes(random.Random(
                   f"ctvsim-request-ids:{sim.seed}{'' if id_format == 'uuid4' else ':guid'}"),
                   id_format)
               for id_format in REQUEST_ID_FORMATS}
        heads = {(platform, channel): records.line_heads(sim.app.app_id, platform, channel)
                 for platform in sim.profile_set.profiles for channel in contract.CHANNELS}

        def builder(index: int, device: Device) -> tuple[Any, dict[str, list[Any]], Any]:
            built = wire.device(device, str(index))
            return built, heads[device.platform, built.channel], ids[built.request_id_format]

        streams = ((*sim.bounded_timeline(device, index), builder(index, device))
                   for index, device in enumerate(self.devices()))
        progress = ProgressBar("generate")
        chunk: list[bytes] = []
        append, written, warm_up = chunk.append, 0, 0
        for time_ms, event, (built, line_heads, id_stream) in behaviour.merge_by_time(streams):
            if event.warm_up:
                warm_up += 1
            head = line_heads[event.operation]
            head[1] += 1
            append(built.record(event, next(id_stream), head[0]))
            if len(chunk) >= _FLUSH_LINES:
                out.write(b"".join(chunk))
                written += len(chunk)
                chunk.clear()
                progress.update(max(0, time_ms - period.start_ms) / period.duration_ms,
                                written, "requests")
        out.write(b"".join(chunk))
        progress.close()
        counts: Counter[tuple[str, str]] = Counter()
        for (platform, _), line_heads in heads.items():
            for operation, head in line_heads.items():
                counts[operation, platform] += head[1]
        counts = +counts  # without the zeros
        return Summary(self.count, period.start_ms, period.end_ms, sim.app.app_id,
                       counts, warm_up)
