"""What ctv-simulator relies on inside Locust and geventhttpclient, checked once when a
Locust process starts, so that a version that changed them fails at once with the version
needed, instead of quietly writing a different CSV or keeping cookies.

- ``StatsCSV._requests_data_rows`` and ``_failures_data_rows``: Locust's own CSV row
  writers, reused to rewrite the CSV with the final figures (``locust_csv.py``);
- geventhttpclient's ``UserAgent(cookiejar=...)``: the device users drop the cookie jar
  (``users.py``); a wire test checks that no cookie goes back.
"""

from __future__ import annotations

import inspect

import locust
from geventhttpclient.useragent import UserAgent
from locust.stats import StatsCSV

LOCUST_NEEDED = ">=2.30,<3"  # as pyproject.toml says


def problems() -> list[str]:
    """One line per missing part, each naming the Locust versions that have it."""
    missing = [f"locust.stats.StatsCSV.{name}" for name in
               ("_requests_data_rows", "_failures_data_rows")
               if not callable(getattr(StatsCSV, name, None))]
    if "cookiejar" not in inspect.signature(UserAgent.__init__).parameters:
        missing.append("geventhttpclient's UserAgent(cookiejar=...)")
    installed = getattr(locust, "__version__", "unknown")
    return [f"{part} is not there: ctv-simulator needs locust{LOCUST_NEEDED} "
            f"(installed: {installed})" for part in missing]
