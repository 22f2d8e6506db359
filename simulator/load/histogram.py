"""A latency histogram in microseconds with HDR-style log-linear buckets.

Locust buckets response times to whole milliseconds below 100 ms, so a target that answers in
300 µs shows p50 = p99 = 0 or 1 ms. This histogram keeps every value below 128 µs exactly and
every larger value within 1/64 (about 1.6 %) of its true size, records in O(1), and merges by
adding counts, which is what shipping it from Locust workers to the master needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

_SUB_BITS = 6  # 64 linear sub-buckets per power of two: the relative resolution
_SUB = 1 << _SUB_BITS
_EXACT = _SUB * 2  # values below this get a bucket each
_MAX_EXPONENT = 36  # 2**42 µs (about 51 days): anything slower is clamped into the last bucket
_BUCKETS = _EXACT + _MAX_EXPONENT * _SUB


def bucket_index(micros: int) -> int:
    """The bucket a value falls into; values below 128 µs map to themselves."""
    if micros < _EXACT:
        return micros if micros > 0 else 0
    exponent = micros.bit_length() - _SUB_BITS - 1
    if exponent > _MAX_EXPONENT:
        return _BUCKETS - 1
    return _EXACT + (exponent - 1) * _SUB + (micros >> exponent) - _SUB


def bucket_upper(index: int) -> int:
    """The largest value that lands in bucket `index` (HDR's "highest equivalent value")."""
    if index < _EXACT:
        return index
    exponent, sub = divmod(index - _EXACT, _SUB)
    exponent += 1
    return ((sub + _SUB + 1) << exponent) - 1


@dataclass(slots=True)
class Histogram:
    """Counts of latencies in microseconds; exact count, sum, min and max beside the buckets."""

    counts: list[int] = field(default_factory=lambda: [0] * _BUCKETS)
    count: int = 0
    total: int = 0
    min: int = 0
    max: int = 0

    def record(self, micros: int) -> None:
        if micros < 0:
            micros = 0
        self.counts[bucket_index(micros)] += 1
        if self.count == 0 or micros < self.min:
            self.min = micros
        if micros > self.max:
            self.max = micros
        self.count += 1
        self.total += micros

    def merge(self, other: Histogram) -> None:
        if other.count == 0:
            return
        counts = self.counts
        for index, value in enumerate(other.counts):
            if value:
                counts[index] += value
        self.min = other.min if self.count == 0 else min(self.min, other.min)
        self.max = max(self.max, other.max)
        self.count += other.count
        self.total += other.total

    def percentile(self, fraction: float) -> int:
        """The value at or below which `fraction` (0..1) of the recorded values lie, in µs."""
        if self.count == 0:
            return 0
        if fraction >= 1.0:
            return self.max
        rank = max(1, -(-int(fraction * self.count * 1_000_000) // 1_000_000))
        seen = 0
        for index, value in enumerate(self.counts):
            seen += value
            if seen >= rank:
                return min(max(bucket_upper(index), self.min), self.max)
        return self.max

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def to_dict(self) -> dict[str, object]:
        """A compact, msgpack/JSON-safe form (sparse buckets) for worker reports and files."""
        return {
            "buckets": {str(i): v for i, v in enumerate(self.counts) if v},
            "count": self.count,
            "total": self.total,
            "min": self.min,
            "max": self.max,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Histogram:
        histogram = cls()
        buckets = data["buckets"]
        assert isinstance(buckets, Mapping)
        for index, value in buckets.items():
            histogram.counts[int(index)] = int(value)
        histogram.count = int(data["count"])  # type: ignore[call-overload]
        histogram.total = int(data["total"])  # type: ignore[call-overload]
        histogram.min = int(data["min"])  # type: ignore[call-overload]
        histogram.max = int(data["max"])  # type: ignore[call-overload]
        return histogram
