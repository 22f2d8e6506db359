"""Locust's CSV statistics, rewritten once more when the run ends."""

from __future__ import annotations

import csv
from typing import Any

from locust.stats import PERCENTILES_TO_REPORT, StatsCSV


def final_csv(environment: Any) -> None:
    """Rewrites Locust's `_stats.csv` and `_failures.csv` with the final figures.

    Locust refreshes them once a second while running and not again at the end, so the last
    second (and the stop timeout) would be missing and the CSV would disagree with the HTML
    report and the summary. Uses Locust's own row writers (`StatsCSV`).
    """
    prefix = environment.parsed_options.csv_prefix
    if not prefix:
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    with open(f"{prefix}_stats.csv", "w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(writer.requests_csv_columns)
        writer._requests_data_rows(rows)
    with open(f"{prefix}_failures.csv", "w", newline="") as handle:
        rows = csv.writer(handle)
        rows.writerow(writer.failures_columns)
        writer._failures_data_rows(rows)
