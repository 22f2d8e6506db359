"""`ctvsim profiles` and `ctvsim devices` as a user runs them: real processes, real files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from simulator import contract
from simulator.cli import main

ROOT = Path(__file__).resolve().parent.parent


def ctvsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "simulator", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=60, check=False)


def test_profiles_list_shows_all_14_platforms(capsys) -> None:
    assert main(["profiles", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["platform", "name", "weight", "models", "id", "type", "LAT"]
    assert [line.split()[0] for line in lines[2:]] == list(contract.PLATFORMS)
    assert "custom only" in "\n".join(lines)  # xbox, switch, ...


def test_profiles_validate_bundled(capsys) -> None:
    assert main(["profiles", "validate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"ok: {len(contract.PLATFORMS)} profiles, ") and out.endswith(" apps\n")


def test_profiles_validate_reports_every_problem_and_exits_2(tmp_path) -> None:
    broken = (ROOT / "profiles" / "roku.yaml").read_text()
    broken = broken.replace("weight: 38", "weight: 0").replace("under_lat: omit", "under_lat: x")
    (tmp_path / "roku.yaml").write_text(broken)
    result = ctvsim("profiles", "validate", str(tmp_path), cwd=tmp_path.parent)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"ctvsim: error: {tmp_path.name}/roku.yaml:")
    assert lines[0].endswith(": weight: must be > 0")
    assert lines[1].endswith(": ad_id.under_lat: 'x' is not one of omit, zeros, keep")


@pytest.mark.parametrize(("args", "says"), [
    (("devices", "--platform", "android", "-n", "3"), "allowed: roku, smartcast"),
    (("devices", "--mix", "-n", "0"), "-n: must be > 0, got 0"),
    (("devices", "--mix", "-n", "many"), "-n: 'many' is not a whole number"),
    (("devices", "-n", "3"), "one of the arguments --platform --mix is required"),
    (("devices", "--mix", "--platform", "roku"), "not allowed with argument"),
    (("devices", "--mix", "--format", "xml"), "invalid choice: 'xml'"),
    (("devices", "--mix", "--profiles", "/nonexistent/dir"), "/nonexistent/dir: not a directory"),
    (("profiles",), "the following arguments are required: ACTION"),
])
def test_bad_input_is_one_line_exit_2_no_traceback(args, says) -> None:
    result = ctvsim(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith("ctvsim: error: ") and says in result.stderr


@pytest.mark.parametrize("command", [("profiles",), ("profiles", "list"),
                                     ("profiles", "validate"), ("devices",)])
def test_help_has_examples(command, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    assert "examples:\n  ctvsim " + command[0] in capsys.readouterr().out


def test_devices_formats(capsys) -> None:
    assert main(["devices", "--platform", "steam", "-n", "3", "--format", "json"]) == 0
    records = orjson.loads(capsys.readouterr().out)
    assert [r["platform"] for r in records] == ["steam"] * 3
    assert all(r["device_ids"][0]["type"] == "custom" for r in records)
    assert main(["devices", "--platform", "roku", "-n", "4"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["platform", "model", "os"] and len(table) == 6
    assert all(line.startswith("roku ") for line in table[2:])


def test_reader_closing_early_is_not_an_error() -> None:
    """`ctvsim devices ... | head -1`: exit 0, no traceback."""
    process = subprocess.Popen(
        [sys.executable, "-m", "simulator", "devices", "--mix", "-n", "200000", "--format",
         "jsonl"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    assert orjson.loads(process.stdout.readline())["platform"] in contract.PLATFORMS
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert process.stderr.read() == b""
    process.stderr.close()
