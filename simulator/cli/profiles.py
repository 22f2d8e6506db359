"""`ctvsim profiles list|validate`: which platforms the simulator knows, and is the YAML sound."""

from __future__ import annotations

import argparse

from simulator.cli._argtypes import path
from simulator.cli._table import format_table

_LIST_EPILOG = """examples:
  ctvsim profiles list
  ctvsim profiles list --profiles ./my-profiles   # with your added or overriding profiles
"""
_VALIDATE_EPILOG = """examples:
  ctvsim profiles validate                  # the bundled profiles, curves and apps
  ctvsim profiles validate ./my-profiles    # the bundled set with DIR's files layered on top

Prints "ok: N profiles, M apps", or every problem as file:line:column: field: rule and
exits with status 2.
"""


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "profiles", help="list or validate the device profiles",
        description="The YAML device profiles: one per platform, plus curves.yaml and apps.yaml.",
        epilog=_LIST_EPILOG + "\n" + _VALIDATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser(
        "list", help="a table of the loaded platforms",
        description="A table of the loaded platforms: weight in the default mix, models, "
        "advertising id type, limit-ad-tracking share.",
        epilog=_LIST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument("--profiles", type=path, metavar="DIR",
                         help="a directory whose YAML files add or override profiles")
    listing.set_defaults(run=run_list)
    validate = actions.add_parser(
        "validate", help="check every profile, curve and app; report all problems",
        description="Load and check every field; report all problems at once.",
        epilog=_VALIDATE_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    validate.add_argument("dir", nargs="?", type=path, metavar="DIR",
                          help="a directory layered over the bundled profiles (as --profiles)")
    validate.set_defaults(run=run_validate)


def run_list(args: argparse.Namespace) -> int:
    from simulator.profiles import load_profiles

    profile_set = load_profiles(args.profiles)
    rows = [
        (name, profile.display_name, f"{profile.weight:.1%}", len(profile.models.values),
         profile.ad_id.type or "custom only", f"{profile.ad_id.lat_probability:.0%}")
        for name, profile in profile_set.profiles.items()
    ]
    print(format_table(("platform", "name", "weight", "models", "id type", "LAT"), rows))
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from simulator.profiles import load_profiles

    profile_set = load_profiles(args.dir)
    print(f"ok: {len(profile_set.profiles)} profiles, {len(profile_set.apps)} apps")
    return 0
