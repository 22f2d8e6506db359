"""The `--ctv-*` options of the locustfile, registered through Locust's own parser.

Registering them with `events.init_command_line_parser` makes them work with plain
`locust -f locustfiles/ctv.py` and shows them in the web UI. `ctvsim load` passes the same
options to the Locust process it starts. No option carries a dev key: keys come from the
environment (sandbox, production) or the apps file (the local mock) and never from argv.
"""

from __future__ import annotations

import math
from typing import Any

from simulator.load.shapes import SHAPES

SPEED_MAX = "max"
NETWORK_TIMEOUT_S = 10.0  # per attempt: connecting, and waiting for the answer
# Enough for 1,000 requests/s against a target that takes a second to answer, with room to
# spare; each is an open connection, so ctvsim raises its open-files limit to match.
DEFAULT_MAX_IN_FLIGHT = 2000
# A bare `ctvsim load`: the open model at a rate a performance engineer calls load, which
# one core of Locust holds with room to spare against the embedded mock.
DEFAULT_RATE = 500.0
DEFAULT_DURATION = "30s"
DEFAULT_USERS = 50  # the closed model's, when --speed max asks for it without --users


def add_arguments(parser: Any) -> None:
    # Locust's parser (not an argument group) understands include_in_web_ui.
    group = parser
    group.add_argument(
        "--ctv-target", default="mock",
        help="production, sandbox, mock (the local default URL) or a base URL ending /v1.0/s2s/ "
        "(or /v1.0/c2s/: either serves both channels)",
    )
    group.add_argument("--ctv-app", default="", help="app id (default: the first app that fits)")
    group.add_argument("--ctv-profiles", default="", help="extra profiles directory")
    group.add_argument("--ctv-seed", type=int, default=1, help="seed of all generated data")
    group.add_argument(
        "--ctv-speed", default="1440",
        help="simulated seconds per real second (1440: a day per minute); 'max': no waiting",
    )
    group.add_argument(
        "--ctv-platforms", default="", help="comma-separated platforms (default: the whole mix)"
    )
    group.add_argument("--ctv-retries", type=int, default=0,
                       help="retries per S2S request (a C2S device retries as its SDK does)")
    group.add_argument(
        "--ctv-channel", default="s2s",
        help="s2s (a server relay's requests), c2s (the devices' own, as their AppsFlyer SDKs "
        "send them; vega has no C2S) or mixed[:SHARE] (that share of devices on C2S, 0.5)",
    )
    group.add_argument(
        "--ctv-sdk-quirks", default="on", choices=("on", "off"),
        help="on: C2S bodies as the SDKs send them; off: valid under the published C2S schema",
    )
    group.add_argument(
        "--ctv-shape", default="day", choices=SHAPES,
        help="load shape (when locustfiles/shapes.py is loaded too)",
    )
    group.add_argument(
        "--ctv-allow-production", action="store_true", default=False,
        help="allow the production target (requests then count in real dashboards)",
    )
    group.add_argument(
        "--ctv-max-rps", type=float, default=0.0,
        help="cap on requests per second of this process (0: none; production: required)",
    )
    group.add_argument(
        "--ctv-rate", type=float, default=0.0,
        help="open model: requests per second, sent on schedule by one DeviceFleet user per "
        "process (0: the closed model, one device per user)",
    )
    group.add_argument(
        "--ctv-ramp", default="",
        help="open model: rate over time as TIME:RATE points, e.g. '0s:100,30s:2000,1m:2000'",
    )
    group.add_argument(
        "--ctv-max-in-flight", type=int, default=DEFAULT_MAX_IN_FLIGHT,
        help="open model: requests waiting for answers at most, all processes together "
        f"(default {DEFAULT_MAX_IN_FLIGHT}); past it a due request is dropped and counted",
    )
    group.add_argument(
        "--ctv-schedule-seconds", type=float, default=0.0,
        help="open model: send for this long from the fleet's first request, then end the run "
        "once answered (distributed: once every worker's is; 0: until Locust's run time; set "
        "-t a little longer)",
    )
    group.add_argument(
        "--ctv-installed-base", default="auto",
        help="share of the starting devices installed already, 0 to 1 (auto: the share at "
        "which the first simulated day's new installs balance churn; a device that churns is "
        "replaced by a new install either way)",
    )
    group.add_argument(
        "--ctv-no-warm-up", action="store_true", default=False,
        help="the target knows the installed base already: send no warm-up first_opens",
    )
    group.add_argument(
        "--ctv-threshold", action="append", default=[],
        help="pass/fail rule such as p99<50ms (repeatable)", include_in_web_ui=False,
    )
    group.add_argument(
        "--ctv-results", default="", include_in_web_ui=False,
        help="write the harness's raw figures here as JSON (used by ctvsim load)",
    )
    group.add_argument(
        "--ctv-progress-fd", type=int, default=-1, include_in_web_ui=False,
        help="file descriptor that gets one JSON progress line a second (used by ctvsim load)",
    )


MAX_SPEED = 1e9  # simulated seconds per second: beyond it, use 'max'


def parse_speed(text: str) -> float | None:
    """Simulated seconds per real second; None means "as fast as possible" (no waiting).

    Raises ValueError, saying what is allowed, for anything but 'max' or a finite number
    above 0 and at most MAX_SPEED (0 is not "max": it would mean that time stands still).
    """
    if str(text).strip().lower() == SPEED_MAX:
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = math.nan
    if not 0 < speed <= MAX_SPEED:
        raise ValueError(f"{str(text)!r}: a number > 0 and <= {MAX_SPEED:g}, or 'max'")
    return speed


def parse_platforms(text: str) -> list[str] | None:
    names = [p.strip().lower() for p in str(text).split(",") if p.strip()]
    return names or None
