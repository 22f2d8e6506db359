"""`ctvsim devices`: a deterministic sample of simulated devices, as a table or JSON."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from simulator.cli._argtypes import path, positive_int
from simulator.cli._table import format_table

if TYPE_CHECKING:
    from simulator.devices import Device

FORMATS = ("table", "json", "jsonl")

_EPILOG = """examples:
  ctvsim devices --platform roku -n 5 --seed 1
  ctvsim devices --mix -n 1000 --seed 1 --format jsonl > devices.jsonl
  ctvsim devices --platform steam -n 3 --format json --profiles ./my-profiles

The same --seed (and profiles) always gives byte-identical output. jsonl has one device per
line: `platform` and the API body fields ip, user_agent, device_os_version, device_model,
device_ids, limit_ad_tracking and customer_user_id (where set).
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "devices", help="print simulated devices",
        description="Print simulated devices drawn from the profiles.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--platform", metavar="P", help="one platform, e.g. roku, tizen, steam")
    source.add_argument("--mix", action="store_true",
                        help="the default mix: platforms by their profile weight")
    parser.add_argument("-n", type=positive_int, default=10, metavar="N",
                        help="how many devices (default 10)")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="seed (default 1)")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="output format (default table)")
    parser.add_argument("--profiles", type=path, metavar="DIR",
                        help="a directory whose YAML files add or override profiles")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from simulator.devices import DeviceFactory
    from simulator.profiles import load_profiles

    profile_set = load_profiles(args.profiles)
    devices = DeviceFactory(profile_set, args.seed).devices(args.n, args.platform)
    write = {"table": _write_table, "json": _write_json, "jsonl": _write_jsonl}[args.format]
    try:
        write(devices)
    except BrokenPipeError:
        # The reader stopped early (`| head`): not an error; silence the flush at exit too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _record(device: Device) -> dict[str, object]:
    return {"platform": device.platform, **device.body_fields()}


def _write_jsonl(devices: Iterable[Device]) -> None:
    import orjson

    out = sys.stdout.buffer
    for device in devices:
        out.write(orjson.dumps(_record(device)) + b"\n")
    out.flush()


def _write_json(devices: Iterable[Device]) -> None:
    import orjson

    sys.stdout.buffer.write(
        orjson.dumps([_record(device) for device in devices], option=orjson.OPT_INDENT_2) + b"\n"
    )
    sys.stdout.buffer.flush()


def _write_table(devices: Iterable[Device]) -> None:
    rows = [
        (d.platform, d.device_model, d.device_os_version, d.ip, "yes" if d.limit_ad_tracking
         else "no", d.device_ids[1][0] if len(d.device_ids) > 1 else "-", d.custom_id)
        for d in devices
    ]
    print(format_table(("platform", "model", "os", "ip", "LAT", "ad id", "custom id"), rows))
