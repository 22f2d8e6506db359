"""The YAML loader over real files: bundled profiles load; broken ones name file:line:col."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from simulator import contract
from simulator.errors import InputError, ProfileError
from simulator.profiles import default_profiles_dir, load_apps, load_profiles

FIXTURES = Path(__file__).parent / "data" / "foundation"

# A small valid profile; tests break one line of it and know where that line is.
PROFILE = """\
platform: roku
display_name: Test Roku
weight: 10
ad_id:
  type: rida
  format: uuid5
  lat_probability: 0.2
  under_lat: omit
household_sizes: {1: 3, 2: 1}
os_versions:
  - {version: "15.3.4", weight: 3}
  - {version: "14.6.4", weight: 1}
user_agents:
  - {template: "Roku/DVP-{os_major}.{os_minor} ({os}.{build})", weight: 1}
models:
  - {name: Roku 3930X, weight: 2, vars: {build: "4186-55"}}
  - {name: Roku 4850X, weight: 1, vars: {build: "4312-46"}}
behaviour:
  sessions_per_active_day: 1.9
  session_minutes: {median: 33, sigma: 0.9}
  diurnal_curve: us_streaming
  weekend_factor: 1.2
  timezones: {America/New_York: 1}
  daily_active_probability: 0.55
  retention_half_life_days: 20
  second_first_open_share: 0.6
sources: ["https://developer.roku.com/docs/specs/hardware.md"]
"""


def extra_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **files: str) -> Path:
    """A --profiles directory `extra/` with the given files; cwd is its parent."""
    monkeypatch.chdir(tmp_path)
    directory = tmp_path / "extra"
    directory.mkdir()
    for name, text in files.items():
        (directory / f"{name}.yaml").write_text(text, encoding="utf-8")
    return directory


def problems(directory: Path) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        load_profiles(directory)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def test_every_bundled_profile_loads() -> None:
    profile_set = load_profiles()
    assert tuple(profile_set.profiles) == contract.PLATFORMS
    assert sum(p.weight for p in profile_set.profiles.values()) == pytest.approx(1)
    for name, profile in profile_set.profiles.items():
        assert profile.platform == name
        assert profile.sources
        assert profile.ad_id.type in (contract.PLATFORM_AD_ID_TYPE.get(name), None)
        assert profile.behaviour.diurnal_curve in profile_set.curves
        assert sum(profile.models.weights) == pytest.approx(1)
    for curve in profile_set.curves.values():
        assert len(curve) == 24 and sum(curve) == pytest.approx(1)
    plans = {app.plan for app in profile_set.apps.values()}
    assert plans == {"normal", "zero"}
    assert load_apps() == profile_set.apps
    assert load_apps(default_profiles_dir() / "apps.yaml") == profile_set.apps


def test_ctv_platforms_dominate_the_default_mix() -> None:
    profiles = load_profiles().profiles
    ctv = ("roku", "tizen", "webos", "smartcast", "vidaa", "vega")
    assert sum(profiles[name].weight for name in ctv) > 0.8


def test_override_replaces_the_bundled_profile(tmp_path, monkeypatch) -> None:
    directory = extra_dir(tmp_path, monkeypatch, **{"my-roku": PROFILE})
    profile_set = load_profiles(directory)
    roku = profile_set.profiles["roku"]
    assert roku.display_name == "Test Roku"
    assert roku.path == "extra/my-roku.yaml"
    assert [m.name for m in roku.models.values] == ["Roku 3930X", "Roku 4850X"]
    assert roku.models.weights == pytest.approx((2 / 3, 1 / 3))
    assert roku.household_sizes.share(1) == pytest.approx(0.75)
    assert len(profile_set.profiles) == len(contract.PLATFORMS)  # the others stay bundled


def test_override_of_curves_and_apps(tmp_path, monkeypatch) -> None:
    directory = extra_dir(tmp_path, monkeypatch, roku=PROFILE)
    for name in ("curves.yaml", "apps.yaml"):
        shutil.copy(FIXTURES / name, directory / name)
    with pytest.raises(ProfileError) as caught:  # bundled profiles use curves we dropped
        load_profiles(directory)
    assert all("behaviour.diurnal_curve" in line for line in caught.value.problems)
    assert "extra/roku.yaml" not in str(caught.value)
    assert set(load_apps(directory / "apps.yaml")) == {"com.example.ctv", "3202204027284"}


def test_weights_are_normalised_over_the_loaded_set(tmp_path, monkeypatch) -> None:
    bundled = load_profiles()
    heavy = PROFILE.replace("weight: 10", "weight: 1000")
    loaded = load_profiles(extra_dir(tmp_path, monkeypatch, roku=heavy))
    assert loaded.profiles["roku"].weight > 0.9 > bundled.profiles["roku"].weight
    assert sum(p.weight for p in loaded.profiles.values()) == pytest.approx(1)


def test_a_broken_value_gives_file_line_column_field_rule(tmp_path, monkeypatch) -> None:
    broken = PROFILE.replace("{name: Roku 4850X, weight: 1,", "{name: Roku 4850X, weight: 0,")
    assert problems(extra_dir(tmp_path, monkeypatch, roku=broken)) == [
        "extra/roku.yaml:17:32: models[1].weight: must be > 0",
    ]


def test_several_problems_are_all_reported_in_file_order(tmp_path, monkeypatch) -> None:
    broken = (PROFILE
              .replace("weight: 10", "weight: -1")
              .replace("format: uuid5", "format: uuid7")
              .replace('"14.6.4"', '"14.6.4.4405.46"')
              .replace("Roku 3930X", "Roku_3930X")
              .replace("median: 33", "median: thirty")
              .replace("America/New_York", "America/Gotham"))
    assert problems(extra_dir(tmp_path, monkeypatch, roku=broken)) == [
        "extra/roku.yaml:3:9: weight: must be > 0",
        "extra/roku.yaml:6:11: ad_id.format: 'uuid7' is not one of uuid4, uuid5, guid, hex32, "
        "steamid64, uint64",
        "extra/roku.yaml:12:15: os_versions[1].version: must be a valid device_os_version on "
        "session, inapp: must have at most 12 characters, got 14",
        "extra/roku.yaml:16:12: models[0].name: must be a valid device_model on first_open, "
        r"session, inapp: must match ^[A-Za-z0-9.()\- ]+$",
        "extra/roku.yaml:20:29: behaviour.session_minutes.median: must be a number, got string",
        "extra/roku.yaml:23:15: behaviour.timezones.America/Gotham: 'America/Gotham' is not an "
        "IANA time zone",
    ]


def test_unknown_and_missing_keys_are_errors(tmp_path, monkeypatch) -> None:
    broken = (PROFILE
              .replace("display_name:", "display_nmae:")
              .replace("under_lat: omit", "under_lat: omit\n  lat_rate: 0.1")
              .replace("{name: Roku 3930X, weight: 2,", "{name: Roku 3930X, wieght: 2,"))
    assert problems(extra_dir(tmp_path, monkeypatch, roku=broken)) == [
        "extra/roku.yaml:1:1: display_name: is required",
        "extra/roku.yaml:2:1: display_nmae: unknown key (allowed: platform, display_name, weight, "
        "ad_id, household_sizes, models, behaviour, sources, os_versions, user_agents, sdk)",
        "extra/roku.yaml:9:3: ad_id.lat_rate: unknown key (allowed: type, lat_probability, "
        "format, under_lat)",
        "extra/roku.yaml:17:5: models[0].weight: is required",
        "extra/roku.yaml:17:24: models[0].wieght: unknown key (allowed: name, weight, "
        "os_versions, user_agents, vars)",
    ]


def test_user_agent_templates_are_checked(tmp_path, monkeypatch) -> None:
    broken = (PROFILE
              .replace("({os}.{build})", "({os}.{bulid})")
              .replace("  - {name: Roku 4850X, weight: 1, vars: {build: \"4312-46\"}}",
                       "  - name: Roku 4850X\n    weight: 1\n"
                       "    user_agents: [{template: \"Roku/{model} a=b\", weight: 1}]"))
    assert problems(extra_dir(tmp_path, monkeypatch, roku=broken)) == [
        "extra/roku.yaml:14:16: user_agents[0].template: unknown placeholder {bulid} for model "
        "'Roku 3930X' (allowed: model, os, os_major, os_minor, os_patch, build)",
        "extra/roku.yaml:19:30: models[1].user_agents[0].template: renders 'Roku/Roku 4850X a=b' "
        "for 'Roku 4850X' on '15.3.4', which is not a valid user_agent on first_open: must "
        "match ^[^@=]+$",
    ]


def test_platform_and_id_type_come_from_the_contract(tmp_path, monkeypatch) -> None:
    other = PROFILE.replace("platform: roku", "platform: android")
    wrong_id = PROFILE.replace("type: rida", "type: tifa")
    directory = extra_dir(tmp_path, monkeypatch, other=other, roku=wrong_id)
    found = problems(directory)
    assert found == [
        "extra/other.yaml:1:11: platform: 'android' is not one of " + ", ".join(contract.PLATFORMS),
        "extra/roku.yaml:5:9: ad_id.type: must be 'rida' or null on platform 'roku'",
    ]


def test_custom_only_platform_takes_no_format(tmp_path, monkeypatch) -> None:
    xbox = PROFILE.replace("platform: roku", "platform: xbox").replace("type: rida", "type: null")
    found = problems(extra_dir(tmp_path, monkeypatch, xbox=xbox))
    assert found == [
        "extra/xbox.yaml:6:11: ad_id.format: must be left out when type is null",
        "extra/xbox.yaml:8:14: ad_id.under_lat: must be left out when type is null",
    ]
    fixed = xbox.replace("  format: uuid5\n", "").replace("  under_lat: omit\n", "")
    (tmp_path / "extra" / "xbox.yaml").write_text(fixed)
    ad_id = load_profiles(tmp_path / "extra").profiles["xbox"].ad_id
    assert (ad_id.type, ad_id.format) == (None, None)


def test_yaml_syntax_error_and_duplicates(tmp_path, monkeypatch) -> None:
    directory = extra_dir(tmp_path, monkeypatch, a=PROFILE, b=PROFILE,
                          c="platform: steam\nweight: [1\n")
    found = problems(directory)
    assert found == [
        "extra/b.yaml:1:1: platform: 'roku' is also defined in extra/a.yaml",
        "extra/c.yaml:3:1: (yaml): did not find expected ',' or ']'",
    ]


def test_apps_are_validated(tmp_path, monkeypatch) -> None:
    apps = (FIXTURES / "apps.yaml").read_text()
    broken = (apps.replace('"3.2.0"', '"3.2.0b"').replace("currency: USD", "currency: usd")
              .replace("plan: zero", "plan: free").replace("[tizen, roku]", "[tizen, android]"))
    path = extra_dir(tmp_path, monkeypatch, apps=broken) / "apps.yaml"
    with pytest.raises(ProfileError) as caught:
        load_apps(path)
    assert caught.value.problems == [
        "extra/apps.yaml:8:19: apps[0].versions[0].version: must be a valid app_version on "
        r"session: must match ^[0-9.\-]+$",
        "extra/apps.yaml:12:82: apps[0].events[1].currency: must be a valid event_parameters on "
        "inapp: 'usd' is not an allowed value",
        "extra/apps.yaml:15:24: apps[1].platforms[1]: 'android' is not one of "
        + ", ".join(contract.PLATFORMS),
        "extra/apps.yaml:16:11: apps[1].plan: 'free' is not one of normal, zero",
    ]


def test_mix_draws_by_weight_and_rejects_unknown_platforms() -> None:
    profile_set = load_profiles()
    mix = profile_set.mix(["roku", "steam"])
    assert [p.platform for p in mix.values] == ["roku", "steam"]
    assert sum(mix.weights) == pytest.approx(1)
    ratio = profile_set.profiles["roku"].weight / profile_set.profiles["steam"].weight
    assert mix.weights[0] / mix.weights[1] == pytest.approx(ratio)
    with pytest.raises(InputError, match="unknown platform 'android'; allowed: roku"):
        profile_set.mix(["android"])


def test_a_missing_key_does_not_hide_problems_beside_it(tmp_path, monkeypatch) -> None:
    broken = (PROFILE
              .replace("{name: Roku 4850X, weight: 1,", "{name: Roku_4850X,")
              .replace("  weekend_factor: 1.2\n", "")
              .replace("retention_half_life_days: 20", "retention_half_life_days: 0"))
    assert problems(extra_dir(tmp_path, monkeypatch, roku=broken)) == [
        "extra/roku.yaml:17:5: models[1].weight: is required",
        "extra/roku.yaml:17:12: models[1].name: must be a valid device_model on first_open, "
        r"session, inapp: must match ^[A-Za-z0-9.()\- ]+$",
        "extra/roku.yaml:19:3: behaviour.weekend_factor: is required",
        "extra/roku.yaml:24:29: behaviour.retention_half_life_days: must be > 0",
    ]


# --------------------------------------------------------------------------- hardening


@pytest.mark.parametrize(("value", "problem"), [
    (".inf", "extra/roku.yaml:3:9: weight: must be a finite number, got .inf"),
    ("-.inf", "extra/roku.yaml:3:9: weight: must be a finite number, got -.inf"),
    (".nan", "extra/roku.yaml:3:9: weight: must be a finite number, got .nan"),
    ("1e308", "extra/roku.yaml:3:9: weight: must be a number, got the string '1e308': YAML "
              "reads an exponent without a dot as text; write it with one, e.g. 1.0e+3"),
    ("1.0e+308", "extra/roku.yaml:3:9: weight: must be <= 1e+06"),
    ("0", "extra/roku.yaml:3:9: weight: must be > 0"),
])
def test_a_weight_is_a_finite_positive_number_within_its_bound(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, problem: str) -> None:
    directory = extra_dir(tmp_path, monkeypatch,
                          roku=PROFILE.replace("weight: 10", f"weight: {value}"))
    assert problems(directory) == [problem]


def test_yml_profiles_load_like_yaml_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          ) -> None:
    directory = extra_dir(tmp_path, monkeypatch)
    (directory / "roku.yml").write_text(PROFILE.replace("Test Roku", "Roku from yml"))
    assert load_profiles(directory).profiles["roku"].display_name == "Roku from yml"
    (directory / "roku.yml").write_text(PROFILE.replace("weight: 10", "weight: .inf"))
    assert problems(directory) == [
        "extra/roku.yml:3:9: weight: must be a finite number, got .inf"]


def test_an_apps_file_spelled_twice_is_a_problem(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    apps = (default_profiles_dir() / "apps.yaml").read_text()
    directory = extra_dir(tmp_path, monkeypatch, apps=apps)
    (directory / "apps.yml").write_text(apps)
    assert any("apps.yml" in p and "twin" in p for p in problems(directory))


def test_a_bad_release_day_names_its_own_field(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    apps = (default_profiles_dir() / "apps.yaml").read_text()
    broken = apps.replace("release_day: 3}", "release_day: -1}", 1)
    assert broken != apps
    directory = extra_dir(tmp_path, monkeypatch, apps=broken)
    [problem] = problems(directory)
    assert problem == "extra/apps.yaml:25:53: apps[0].versions[2].release_day: must be >= 0"
    assert "release_days" not in problem
