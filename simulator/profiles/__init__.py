"""Typed, immutable device profiles and apps, loaded and validated from YAML.

The YAML is composed into a node tree (not loaded into plain dicts) so that every problem can
name its file, line, column and field path; all problems of a run are collected and raised
together, so a user fixes a broken profile in one pass. Values that end up in request bodies
are checked with contract.py's own rules for every operation, so a profile that loads cannot
make the generator emit an invalid request.

One module a job: ``model`` (the data and ``ProfileSet``'s queries), ``yamldoc`` (the
positioned reader, which fault plans use too), ``apps`` (apps.yaml and curves.yaml),
``platforms`` (a platform profile), ``sdks`` (sdks.yaml: what each AppsFlyer SDK sends on
C2S), ``loading`` (bundled and ``--profiles`` directories).
"""

from simulator.profiles.loading import default_profiles_dir, load_apps, load_profiles
from simulator.profiles.model import (
    AD_ID_FORMATS,
    UA_PLACEHOLDERS,
    AdId,
    App,
    AppVersion,
    Behaviour,
    DeviceModel,
    EventSpec,
    Profile,
    ProfileSet,
    Sdk,
    SdkQuirk,
    WeightedTable,
    render_user_agent,
)
from simulator.profiles.yamldoc import YamlDoc

__all__ = [
    "AD_ID_FORMATS", "UA_PLACEHOLDERS", "AdId", "App", "AppVersion", "Behaviour", "DeviceModel",
    "EventSpec", "Profile", "ProfileSet", "Sdk", "SdkQuirk", "WeightedTable",
    "YamlDoc", "default_profiles_dir", "load_apps", "load_profiles", "render_user_agent",
]
