"""After a run against the local mock: does what the mock journaled match what was sent?

Per platform and operation of the app under test, the harness knows every attempt it made and
how each ended: with an HTTP status (the mock answered, so it must have journaled it) or with
no status (connection error, timeout: the mock may or may not have seen it). The mock counts
validation outcomes per status and injected faults apart. The checks:

An attempt the harness gave up on (a timeout, a reset, one still on the wire when the run
stopped its user: ``in_flight_at_stop``) may or may not have reached the journal, so it is
counted as sent and unanswered: it explains one journaled request, never a missing one.

- lost: the mock journaled fewer requests than the harness got answers for;
- unexpected: the mock journaled more than the harness sent;
- status mismatch: per HTTP status the mock's count differs from the answers the harness got
  (beyond what unanswered attempts can explain);
- duplicates: the mock saw a request id twice more often than the harness re-sent a request
  whose first attempt went unanswered (a re-send after an answered attempt that the mock
  accepted would be a harness bug);
- ordering: the mock saw a session or in-app event before its device's first_open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from simulator.load.recorder import IN_FLIGHT_AT_STOP, Recorder, request_name
from simulator.mock.stats import Counts, Stats

ORDERING_WARNING = "ordering"
# The counts that need the mock's journal: null (unknown) when it could not be read.
UNKNOWN_WITHOUT_JOURNAL = ("lost", "unexpected", "status_mismatches", "duplicates",
                           "misordered", "unanswered", "unanswered_in_flight")


Stream = tuple[str, str, str]  # (channel, platform, operation)


def _harness_attempts(recorder: Recorder) -> dict[Stream, Counter[str]]:
    """Outcomes of every attempt (final and retried, warm-up included) per stream."""
    attempts: dict[Stream, Counter[str]] = {}
    for channel in recorder.channels():
        for retried in (False, True):
            for operation, platform, entry in recorder.items(retried=retried, warm_up=None,
                                                             channel=channel):
                attempts.setdefault((channel, platform, operation),
                                    Counter()).update(entry.outcomes)
    return attempts


def _mock_counts(stats: Counts, app_id: str) -> dict[Stream, Counter[str]]:
    """What the mock counted per stream: statuses, and injected faults."""
    counts: dict[Stream, Counter[str]] = {}
    for sections, prefix in ((stats["by_channel_app"], ""),
                             (stats["injected_by_channel_app"], "injected:")):
        for channel, section in sections.items():
            for platform, operations in section.get(app_id, {}).items():
                for operation, outcomes in operations.items():
                    counter = counts.setdefault((channel, platform, operation), Counter())
                    for outcome, count in outcomes.items():
                        counter[prefix + str(outcome)] += int(count)
    return counts


def _stream_name(stream: Stream) -> str:
    channel, platform, operation = stream
    return request_name(operation, platform, channel=channel)


def _check_stream(name: str, sent: Counter[str], seen: Counter[str], counts: Counter[str],
                  ) -> list[str]:
    answered = sum(n for outcome, n in sent.items() if outcome.isdigit())
    unanswered = sum(n for outcome, n in sent.items() if not outcome.isdigit())
    journaled = sum(seen.values())
    problems = []
    if journaled < answered:
        counts["lost"] += answered - journaled
        problems.append(f"{name}: lost {answered - journaled} requests (the harness got "
                        f"{answered} answers, the mock journaled {journaled})")
    if journaled > answered + unanswered:
        counts["unexpected"] += journaled - answered - unanswered
        problems.append(f"{name}: the mock journaled {journaled - answered - unanswered} "
                        f"requests more than the harness sent ({answered + unanswered})")
    validation = Counter({k: v for k, v in seen.items() if k.isdigit()})
    injected = sum(v for k, v in seen.items() if not k.isdigit())
    for status in sorted(set(validation) | {k for k in sent if k.isdigit()}):
        got, counted = sent.get(status, 0), validation.get(status, 0)
        slack = unanswered + (injected if counted < got else 0)
        if abs(got - counted) > slack:
            counts["status_mismatches"] += 1
            problems.append(f"{name}: status {status}: the harness got {got}, "
                            f"the mock counted {counted}")
    return problems


def reconcile(recorder: Recorder, stats: Counts | str, app_id: str) -> dict[str, Any]:
    """The verdict, with every problem as one line, and the figures it was drawn from.

    ``stats`` is what the mock counted during the run, or why its journal could not be read.
    """
    sent = _harness_attempts(recorder)
    if isinstance(stats, str):  # nothing to compare with: every count unknown, never a pass
        return {"passed": False, "problems": [stats], **dict.fromkeys(UNKNOWN_WITHOUT_JOURNAL),
                "harness_attempts": sum(sum(c.values()) for c in sent.values())}
    seen = _mock_counts(stats, app_id)
    problems: list[str] = []
    counts: Counter[str] = Counter()
    for key in sorted(set(sent) | set(seen)):
        problems += _check_stream(_stream_name(key), sent.get(key, Counter()),
                                  seen.get(key, Counter()), counts)
    resent_unanswered = sum(
        n for _, _, entry in recorder.items(retried=True, warm_up=None)
        for outcome, n in entry.outcomes.items() if not outcome.isdigit()
    )
    duplicates = stats["duplicates"]
    if duplicates > resent_unanswered:
        problems.append(f"unexpected duplicates: the mock saw {duplicates} repeated request "
                        f"ids, the harness re-sent {resent_unanswered} unanswered requests")
    ordering = stats["warnings"].get(ORDERING_WARNING, 0)
    # Sent by devices whose SDK went on after a first_open the mock did not accept (Roku's,
    # the HTML5 SDK's, under faults): out of order by the SDK's design, not a harness fault.
    by_design = sum(e.before_first_open for _, _, e in recorder.items(warm_up=None))
    if ordering > by_design:
        problems.append(f"ordering: {ordering - by_design} sessions or in-app events arrived "
                        "before their device's first_open"
                        + (f" (beyond the {by_design} sent after a first_open their SDK gave "
                           "up on)" if by_design else ""))
    unanswered = Counter({outcome: n for attempts in sent.values()
                          for outcome, n in attempts.items() if not outcome.isdigit()})
    return {
        "passed": not problems,
        "problems": problems,
        # What differs, as numbers (all 0 when passed): requests answered to the harness but
        # not journaled; journaled but never sent; repeated request ids that a re-send of an
        # unanswered attempt explains, and those it does not; events before their first_open.
        "lost": counts["lost"],
        "unexpected": counts["unexpected"],
        "status_mismatches": counts["status_mismatches"],
        "duplicates": {"explained": min(duplicates, resent_unanswered),
                       "unexplained": max(0, duplicates - resent_unanswered)},
        "misordered": max(0, ordering - by_design),
        # Events the SDK sent after its first_open failed (as it does): may arrive first.
        "sent_before_first_open": by_design,
        # Sent and never answered (the mock may or may not have journaled them): timeouts,
        # connection errors, and attempts still on the wire when the run stopped.
        "unanswered": sum(unanswered.values()),
        "unanswered_by_kind": dict(sorted(unanswered.items())),
        "unanswered_in_flight": unanswered.get(IN_FLIGHT_AT_STOP, 0),
        "harness_attempts": sum(sum(c.values()) for c in sent.values()),
        "mock_journaled": sum(sum(c.values()) for c in seen.values()),
        "mock_duplicates": duplicates,
        "mock_ordering_warnings": ordering,
        "per_operation": {
            operation: {
                "harness_final": sum(e.histogram.count
                                     for o, _, e in recorder.items(warm_up=None)
                                     if o == operation),
                "mock_journaled": sum(sum(c.values()) for (_, _, o), c in seen.items()
                                      if o == operation),
            }
            for operation in sorted({o for _, _, o in set(sent) | set(seen)})
        },
        "per_channel": {
            channel: {
                "harness_attempts": sum(sum(c.values()) for (ch, _, _), c in sent.items()
                                        if ch == channel),
                "mock_journaled": sum(sum(c.values()) for (ch, _, _), c in seen.items()
                                      if ch == channel),
            }
            for channel in sorted({ch for ch, _, _ in set(sent) | set(seen)})
        },
    }


def difference(after: Stats, before: Stats) -> Counts:
    """The counters a run added to a mock that was already running (`after - before`).

    Lets a run against a separately started `ctvsim mock` reconcile without resetting it, as
    long as nothing else sends to it meanwhile.
    """
    def minus(new: Any, old: Any) -> Any:
        if isinstance(new, Mapping):
            old = old if isinstance(old, Mapping) else {}
            return {key: minus(value, old.get(key)) for key, value in new.items()}
        return new - (old or 0) if isinstance(new, int) else new

    return {
        "by_app": minus(after["by_app"], before["by_app"]),
        "injected_by_app": minus(after["injected_by_app"], before["injected_by_app"]),
        "by_channel_app": minus(after["by_channel_app"], before["by_channel_app"]),
        "injected_by_channel_app": minus(after["injected_by_channel_app"],
                                         before["injected_by_channel_app"]),
        "duplicates": after["duplicates"] - before["duplicates"],
        "warnings": minus(after["warnings"], before["warnings"]),
    }
