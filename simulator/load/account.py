"""Every request the open model's plan scheduled, accounted for as exactly one of: sent on
time, sent late, or dropped with the reason.

- on time: it left within `LATE_AFTER_MS` of its scheduled instant;
- late: it left later (the lateness of every send is in a histogram, on time or not);
- dropped: it was never sent: ``in_flight_cap`` (``--max-in-flight`` requests were already
  waiting for answers), ``pool_exhausted`` (every device was waiting for an answer), or
  ``harness_saturated`` (the generator fell more than `MAX_LATENESS_S` behind its plan; the
  slot is given up rather than sent in a burst that would misstate the rate).

Beside each answer's own latency (send to answer, in the recorder), the account keeps the
time from the *scheduled* send to the final answer (wrk2's corrected latency): queueing in
the generator, a late send and retries all count, so a slow target cannot hide behind a
generator that slowed down with it. Per-second counts are kept as a time series.

Workers ship their whole account (not deltas) with each report; the master keeps the latest
per worker and adds them up, so the merged account is exact whenever reports arrive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulator.load.histogram import Histogram

LATE_AFTER_MS = 10.0
MAX_LATENESS_S = 1.0
DROP_REASONS = ("in_flight_cap", "pool_exhausted", "harness_saturated")
SCHEDULED, SENT, LATE, DROPPED = range(4)  # columns of the per-second series


@dataclass(slots=True)
class RateAccount:
    planned: float = 0.0  # what the plan asked for over the window (fractional)
    window_s: float = 0.0  # seconds from the schedule's start to its end
    peak_rps: float = 0.0
    devices: int = 0
    max_in_flight: int = 0
    in_flight_peak: int = 0
    scheduled: int = 0
    on_time: int = 0
    late: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    lateness: Histogram = field(default_factory=Histogram)  # µs, every send
    from_schedule: Histogram = field(default_factory=Histogram)  # µs, scheduled -> answer
    series: list[list[int]] = field(default_factory=list)  # per second: the four columns
    warm_up_s: float = 0.0  # before the schedule: the installed base's first_opens

    # -- the hot path
    def _second(self, offset: float) -> list[int]:
        second = int(offset) if offset > 0 else 0
        series = self.series
        while len(series) <= second:
            series.append([0, 0, 0, 0])
        return series[second]

    def schedule(self, offset: float) -> None:
        self.scheduled += 1
        self._second(offset)[SCHEDULED] += 1

    def drop(self, offset: float, reason: str) -> None:
        self.dropped[reason] += 1
        self._second(offset)[DROPPED] += 1

    def send(self, offset: float, lateness_s: float) -> None:
        micros = int(lateness_s * 1_000_000)
        self.lateness.record(micros)
        row = self._second(offset)
        row[SENT] += 1
        if micros > LATE_AFTER_MS * 1000:
            self.late += 1
            row[LATE] += 1
        else:
            self.on_time += 1

    def answer(self, since_scheduled_s: float) -> None:
        self.from_schedule.record(int(since_scheduled_s * 1_000_000))

    # -- figures
    @property
    def sent(self) -> int:
        return self.on_time + self.late

    @property
    def unaccounted(self) -> int:
        """Scheduled sends neither sent nor dropped (0 once the run has ended)."""
        return self.scheduled - self.sent - sum(self.dropped.values())

    def merge(self, other: RateAccount) -> None:
        self.planned += other.planned
        self.window_s = max(self.window_s, other.window_s)
        self.warm_up_s = max(self.warm_up_s, other.warm_up_s)
        self.peak_rps += other.peak_rps
        self.devices += other.devices
        self.max_in_flight += other.max_in_flight
        self.in_flight_peak += other.in_flight_peak
        self.scheduled += other.scheduled
        self.on_time += other.on_time
        self.late += other.late
        self.dropped.update(other.dropped)
        self.lateness.merge(other.lateness)
        self.from_schedule.merge(other.from_schedule)
        for second, row in enumerate(other.series):
            mine = self._second(second)
            for column, value in enumerate(row):
                mine[column] += value

    def to_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned, "window_s": self.window_s, "peak_rps": self.peak_rps,
            "devices": self.devices, "max_in_flight": self.max_in_flight,
            "in_flight_peak": self.in_flight_peak, "scheduled": self.scheduled,
            "on_time": self.on_time, "late": self.late, "dropped": dict(self.dropped),
            "lateness": self.lateness.to_dict(), "from_schedule": self.from_schedule.to_dict(),
            "series": self.series, "warm_up_s": self.warm_up_s,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RateAccount:
        return cls(
            float(data["planned"]), float(data["window_s"]), float(data["peak_rps"]),
            int(data["devices"]), int(data["max_in_flight"]), int(data["in_flight_peak"]),
            int(data["scheduled"]), int(data["on_time"]), int(data["late"]),
            Counter({str(k): int(v) for k, v in data["dropped"].items()}),
            Histogram.from_dict(data["lateness"]), Histogram.from_dict(data["from_schedule"]),
            [[int(v) for v in row] for row in data["series"]], float(data["warm_up_s"]),
        )

    @classmethod
    def merged(cls, accounts: Iterable[Mapping[str, Any]]) -> RateAccount:
        total = cls()
        for data in accounts:
            total.merge(cls.from_dict(data))
        return total
