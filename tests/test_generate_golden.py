"""`ctvsim generate` writes the same bytes as it did when these digests were taken (before the
issue-10 restructuring, and checked against the code before the hardening): a refactoring
that changes one byte of generated traffic fails here. A deliberate change of the traffic
updates the digests in the same commit, saying why."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from simulator.cli import main

GOLDEN = [
    ("--devices 300 --days 2 --seed 1",
     "e6873b3f591a031e12b80036f28d1c5c39836f73387934e60c4fa890d8be0d02"),
    ("--devices 200 --days 3 --seed 7 --platforms roku,tizen",
     "6f7603217c96cf2891942dd32c7334006fb0b46885e7d59afe590298912ec1ae"),
    ("--devices 500 --days 1 --seed 42 --start 2026-03-01T00:00:00Z",
     "78ad43ecebf09d0b4896e9af6f2693b9f09d3c5900afb5539d5f6356f815118d"),
    ("--devices 50 --days 7 --seed 3 --app 3202204027284",
     "1aed26cfc4ebb4c910b89b0ee518dbd2942d362578490111677d054277ad1a9c"),
    ("--devices 120 --days 1.5 --seed 99 --mix",
     "94306844c361ff7a761950da9fff654e7536782e37fe0ebdce315103a48f876a"),
]


@pytest.mark.parametrize(("args", "digest"), GOLDEN)
def test_generate_writes_the_recorded_bytes(args: str, digest: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTVSIM_KEY_SOURCE", raising=False)
    out = tmp_path / "traffic.jsonl"
    assert main(["generate", *args.split(), "-o", str(out)]) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
