"""The end-of-run summary: one data structure, printed as a table and written as JSON.

Everything printed comes from `Summary.to_dict()`, so the JSON report and the terminal can
never disagree. Latencies are kept in microseconds and shown in milliseconds with three
decimals (sub-millisecond resolution).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.load.account import DROP_REASONS, LATE_AFTER_MS, RateAccount
from simulator.load.histogram import Histogram
from simulator.load.recorder import Entry, Recorder
from simulator.load.thresholds import RateFigures, Selection, Verdict

PERCENTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99), ("p99.9", 0.999))


def latency(histogram: Histogram) -> dict[str, float]:
    """Percentiles, mean and max in milliseconds (rounded to the microsecond)."""
    values = {name: histogram.percentile(f) / 1000 for name, f in PERCENTILES}
    values["max"] = histogram.max / 1000
    values["mean"] = round(histogram.mean) / 1000
    return values


def _per_second(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _merged(entries: Iterable[Entry]) -> Entry:
    total = Entry()
    for entry in entries:
        total.merge(entry)
    return total


# Shown in the printed summary from this share of user time up (always in summary.json).
BLOCKED_NOTE_SHARE = 0.01

@dataclass
class Summary:
    recorder: Recorder
    seconds: float
    run: dict[str, Any] = field(default_factory=dict)  # settings worth showing (no secrets)
    verdicts: list[Verdict] = field(default_factory=list)
    reconciliation: dict[str, Any] | None = None
    rate: RateAccount | None = None  # the open model's account; None in the closed model

    def select(self, operation: str | None, platform: str | None,
               channel: str | None = None) -> Selection:
        """Final outcomes of one scope (None matches all), for thresholds."""
        entry = _merged(
            e for o, p, e in self.recorder.items(channel=channel)
            if operation in (None, o) and platform in (None, p)
        )
        rate = self.rate
        figures = None if rate is None else RateFigures(
            _per_second(rate.sent, rate.window_s), sum(rate.dropped.values()), rate.late,
            rate.lateness, rate.from_schedule)
        return Selection(entry.histogram, entry.histogram.count, entry.failures, self.seconds,
                         figures)

    def _rate(self) -> dict[str, Any] | None:
        """The open model's accounting: every scheduled request sent on time, sent late or
        dropped (with the reason), and the time series of those counts."""
        rate = self.rate
        if rate is None:
            return None
        return {
            "target_rps": round(_per_second(rate.planned, rate.window_s), 2),
            "achieved_rps": round(_per_second(rate.sent, rate.window_s), 2),
            "peak_rps": rate.peak_rps,
            "window_s": round(rate.window_s, 3),
            "scheduled": rate.scheduled,
            "sent": rate.sent,
            "on_time": rate.on_time,
            "late": rate.late,
            "late_after_ms": LATE_AFTER_MS,
            "dropped": sum(rate.dropped.values()),
            "dropped_reasons": {reason: rate.dropped.get(reason, 0) for reason in DROP_REASONS},
            "unaccounted": rate.unaccounted,
            "lateness_ms": latency(rate.lateness),
            "latency_from_schedule_ms": latency(rate.from_schedule),
            "devices": rate.devices,
            "max_in_flight": rate.max_in_flight,
            "in_flight_peak": rate.in_flight_peak,
            "series": {"columns": ["second", "scheduled", "sent", "late", "dropped"],
                       "rows": [[second, *row] for second, row in enumerate(rate.series)]},
        }

    def _row(self, operation: str, platform: str, entry: Entry) -> dict[str, Any]:
        count = entry.histogram.count
        return {
            "operation": operation,
            "platform": platform,
            "requests": count,
            "rps": round(count / self.seconds, 2) if self.seconds > 0 else 0.0,
            "failures": entry.failures,
            "latency_ms": latency(entry.histogram),
            "outcomes": dict(sorted(entry.outcomes.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        finals = list(self.recorder.items())
        retried = list(self.recorder.items(retried=True))
        total = _merged(e for _, _, e in finals)
        per_operation: dict[str, Counter[str]] = {}
        for operation, _, entry in finals:
            per_operation.setdefault(operation, Counter())["requests"] += entry.histogram.count
        retried_attempts = sum(e.histogram.count for _, _, e in retried)
        requests = total.histogram.count
        blocked_s = sum(e.unanswered_ms for _, _, e in (*finals, *retried)) / 1000
        return {
            "run": {**self.run, "seconds": round(self.seconds, 3)},
            "rate": self._rate(),
            "totals": {
                **self._row("all", "all", total),
                "error_rate": total.failures / requests if requests else 0.0,
                "attempts": requests + retried_attempts,
                "retried_attempts": retried_attempts,
                # The closed model's: in the open model a wait blocks one device, not a user,
                # and the rate section tells what became of every request.
                "blocked": self._blocked(blocked_s) if self.rate is None else None,
            },
            "per_operation": {op: c["requests"] for op, c in sorted(per_operation.items())},
            "per_channel": self._per_channel(),
            "rows": [self._row(o, p, e) for o, p, e in finals],
            "retried": [
                {"operation": o, "platform": p, "attempts": e.histogram.count,
                 "outcomes": dict(sorted(e.outcomes.items()))}
                for o, p, e in retried
            ],
            "errors": [
                {"outcome": outcome, "operation": o, "platform": p,
                 "count": e.outcomes[outcome], "reasons": e.reasons.get(outcome, [])}
                for o, p, e in finals for outcome in sorted(e.reasons)
            ],
            "thresholds": [
                {"expression": v.threshold.text, "passed": v.passed, "actual": v.actual,
                 "message": v.message}
                for v in self.verdicts
            ],
            "reconciliation": self.reconciliation,
            "warm_up": self._warm_up(),
        }

    def _per_channel(self) -> dict[str, dict[str, Any]]:
        """Final outcomes of the measured window on each channel requests went out on."""
        out = {}
        for channel in self.recorder.channels():
            entries = [e for _, _, e in self.recorder.items(channel=channel)]
            if entries:
                out[channel] = self._row("all", "all", _merged(entries))
        return out

    def _warm_up(self) -> dict[str, Any] | None:
        """The installed base's first_opens before the measured window (sent and reconciled,
        outside every figure above); None when there was none."""
        finals = [e for _, _, e in self.recorder.items(warm_up=True)]
        if not finals:
            return None
        retried = [e for _, _, e in self.recorder.items(retried=True, warm_up=True)]
        total = _merged(finals)
        return {
            "requests": total.histogram.count,
            "failures": total.failures,
            "retried_attempts": sum(e.histogram.count for e in retried),
            "outcomes": dict(sorted(total.outcomes.items())),
            "seconds": None if self.rate is None else round(self.rate.warm_up_s, 3),
        }


    def _blocked(self, seconds: float) -> dict[str, float | None]:
        """User time spent waiting on attempts that got no answer, and its share of all the
        user time of the run (from the users timeline: one sample a second)."""
        timeline = self.run.get("users_timeline") or []
        # Each sample's users from the previous sample (the first: from the start) to it,
        # and the last count until the figures end (after the stop timeout, which hung
        # requests spend waiting too). One sample a second: an approximation to a second.
        starts = [0.0, *(t for t, _ in timeline)][:len(timeline)]
        user_seconds = sum(users * max(0.0, t - start)
                           for (t, users), start in zip(timeline, starts, strict=True))
        if timeline:
            user_seconds += timeline[-1][1] * max(0.0, self.seconds - timeline[-1][0])
        share = min(1.0, seconds / user_seconds) if user_seconds else None
        return {"user_seconds": round(seconds, 3),
                "share": None if share is None else round(share, 4)}


def format_table(data: dict[str, Any]) -> str:
    """The summary as the terminal shows it (from the same dict the JSON report holds)."""
    head = ("name", "reqs", "req/s", "fail", "p50", "p90", "p95", "p99", "p99.9", "max")
    lines = [_run_line(data["run"])] if "target" in data["run"] else []
    lines.append(f"{head[0]:<26}" + "".join(f"{h:>9}" for h in head[1:]) + "   (latency in ms)")
    for row in [*data["rows"], data["totals"]]:
        name = "Total" if row["operation"] == "all" else f"{row['operation']} [{row['platform']}]"
        ms = row["latency_ms"]
        cells = [row["requests"], f"{row['rps']:.1f}", row["failures"]]
        cells += [f"{ms[k]:.3f}" for k in ("p50", "p90", "p95", "p99", "p99.9", "max")]
        lines.append(f"{name:<26}" + "".join(f"{c!s:>9}" for c in cells))
    totals = data["totals"]
    warm_up = data.get("warm_up")
    if warm_up is not None:
        took = f" in {warm_up['seconds']:g} s" if warm_up["seconds"] is not None else ""
        outcomes = ", ".join(f"{k}: {v}" for k, v in warm_up["outcomes"].items())
        lines.append(f"warm-up (not in the figures above): {warm_up['requests']:,} first_opens "
                     f"of the installed base{took}; {outcomes}")
    if data.get("rate") is not None:
        lines += _rate_lines(data["rate"])
    outcomes = ", ".join(f"{k}: {v}" for k, v in totals["outcomes"].items()) or "none"
    lines.append(f"status codes: {outcomes}")
    channels = data.get("per_channel") or {}
    if len(channels) > 1:  # a mixed run: each channel's share
        lines.append("by channel: " + "; ".join(
            f"{name} {c['requests']:,} requests, {c['failures']:,} failed, p99 "
            f"{c['latency_ms']['p99']:.3f} ms" for name, c in channels.items()))
    lines.append(
        f"attempts: {totals['attempts']} (retried attempts: {totals['retried_attempts']}); "
        f"error rate: {totals['error_rate'] * 100:.3f} %"
    )
    blocked = totals.get("blocked") or {}
    if (blocked.get("share") or 0) >= BLOCKED_NOTE_SHARE:
        lines.append(
            f"users blocked: {blocked['share'] * 100:.1f} % of user time "
            f"({blocked['user_seconds']:,.1f} user-seconds) went waiting on requests that got "
            "no answer (timeouts, resets, hangs); in a closed model the rate falls with it")
    lines += [
        f"  {e['outcome']} {e['operation']} [{e['platform']}] x{e['count']}: "
        + "; ".join(e["reasons"])
        for e in data["errors"]
    ]
    lines += [
        f"threshold {t['expression']}: {'PASS' if t['passed'] else 'FAIL'} ({t['message']})"
        for t in data["thresholds"]
    ]
    recon = data.get("reconciliation")
    if recon is not None:
        verdict = "OK" if recon["passed"] else "FAILED"
        if recon["lost"] is not None:
            verdict += (f" (lost {recon['lost']}, unexpected {recon['unexpected']}, "
                        f"unexplained duplicates {recon['duplicates']['unexplained']}, "
                        f"misordered {recon['misordered']}; unanswered "
                        f"{recon['unanswered']}, of which in flight at the stop "
                        f"{recon['unanswered_in_flight']})")
        else:
            verdict += " (the mock's journal could not be read: every count unknown)"
        lines.append(f"reconciliation with the mock: {verdict}")
        lines += [f"  {problem}" for problem in recon["problems"]]
    return "\n".join(lines)


def _rate_lines(rate: dict[str, Any]) -> list[str]:
    reasons = ", ".join(f"{k} {v}" for k, v in rate["dropped_reasons"].items() if v)
    late, sched = rate["lateness_ms"], rate["latency_from_schedule_ms"]
    return [
        f"rate: target {rate['target_rps']:,.1f}/s, achieved {rate['achieved_rps']:,.1f}/s "
        f"over {rate['window_s']:g} s; scheduled {rate['scheduled']:,} = on time "
        f"{rate['on_time']:,} + late {rate['late']:,} + dropped {rate['dropped']:,}"
        + (f" ({reasons})" if reasons else "")
        + (f" + unaccounted {rate['unaccounted']:,}" if rate["unaccounted"] else ""),
        f"  sent late (after {rate['late_after_ms']:g} ms): lateness p50 {late['p50']:.3f}, "
        f"p99 {late['p99']:.3f}, max {late['max']:.3f} ms; {rate['devices']:,} devices, "
        f"in flight at most {rate['in_flight_peak']:,} (cap {rate['max_in_flight']:,})",
        f"  from scheduled send to answer (queueing included): p50 {sched['p50']:.3f}, "
        f"p90 {sched['p90']:.3f}, p99 {sched['p99']:.3f}, max {sched['max']:.3f} ms",
    ]


def _run_line(run: dict[str, Any]) -> str:
    load = (f"rate {run['rate']}" if run.get("rate") else f"{run['users']} users") \
        + f" ({run['shape']})"
    channel = run.get("channel", "s2s")
    quirks = "" if channel == "s2s" or run.get("sdk_quirks", True) else ", SDK quirks off"
    return (
        f"ctvsim load: {run['target']}, app {run['app']}, {load}, {run['seconds']:g} s, "
        f"channel {channel}{quirks}, speed {run['speed']}, seed {run['seed']}, "
        f"retries {run['retries']}, processes {run['processes']}"
    )
