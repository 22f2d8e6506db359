"""`ctvsim generate` writes the same bytes as it did when these digests were taken: a
refactoring that changes one byte of generated traffic fails here. A deliberate change of the
traffic updates the digests in the same commit, saying why.

History: the `--installed-base 0` digests are those taken before the issue-10 restructuring
(a launch: every device installs during the period, as all did then); the installed base
(issue 11, on by default) changed the default output, so those digests are new."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from simulator.cli import main

GOLDEN = [
    ("--devices 300 --days 2 --seed 1 --installed-base 0",
     "e6873b3f591a031e12b80036f28d1c5c39836f73387934e60c4fa890d8be0d02"),
    ("--devices 200 --days 3 --seed 7 --platforms roku,tizen --installed-base 0",
     "6f7603217c96cf2891942dd32c7334006fb0b46885e7d59afe590298912ec1ae"),
    ("--devices 500 --days 1 --seed 42 --start 2026-03-01T00:00:00Z --installed-base 0",
     "78ad43ecebf09d0b4896e9af6f2693b9f09d3c5900afb5539d5f6356f815118d"),
    ("--devices 50 --days 7 --seed 3 --app 3202204027284 --installed-base 0",
     "1aed26cfc4ebb4c910b89b0ee518dbd2942d362578490111677d054277ad1a9c"),
    ("--devices 120 --days 1.5 --seed 99 --mix --installed-base 0",
     "94306844c361ff7a761950da9fff654e7536782e37fe0ebdce315103a48f876a"),
    ("--devices 300 --days 2 --seed 1",
     "68ae30fb2d33fa85e9fa1309c0251f944cbee3c5ac4a4e618550b75bbaab179d"),
    ("--devices 200 --days 3 --seed 7 --platforms roku,tizen",
     "2931322142136ca775b18c5ef391acaf3fbdbdad011c0b8fa17f253fcdbd0d3b"),
    ("--devices 500 --days 1 --seed 42 --start 2026-03-01T00:00:00Z",
     "8cbd94cdf29b960293d186ec48a387b6173d5b0aa570800fb7d4bea43c0762ef"),
    ("--devices 50 --days 7 --seed 3 --app 3202204027284",
     "bc3024a67be5b21ec6c739e36143740f8dbf09e36ed200fc36971ebf8e710d88"),
    ("--devices 120 --days 1.5 --seed 99 --mix",
     "7cb3b14d022e94a7940b48f6c0402b4d82cd291db81ea2dc308baeb05ec4e839"),
    ("--devices 300 --days 2 --seed 1 --no-warm-up",
     "8cac72c8c18e858cb5af4b195d375b0bbd8afc9cf00e9ee09423da8f963752b7"),
    ("--devices 300 --days 2 --seed 1 --installed-base 0.5",
     "be2ee1d6dfce334b950a7cfa28ada81a4b2b8dbed7a666db281a14e0f0f4d725"),
]


@pytest.mark.parametrize(("args", "digest"), GOLDEN)
def test_generate_writes_the_recorded_bytes(args: str, digest: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTVSIM_KEY_SOURCE", raising=False)
    out = tmp_path / "traffic.jsonl"
    assert main(["generate", *args.split(), "-o", str(out)]) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
