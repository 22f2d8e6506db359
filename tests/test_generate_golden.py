"""`ctvsim generate` writes the same bytes as it did when these digests were taken: a
refactoring that changes one byte of generated traffic fails here. A deliberate change of the
traffic updates the digests in the same commit, saying why.

History: the `--installed-base 0` digests are those taken before the issue-10 restructuring
(a launch: every device installs during the period, as all did then); the installed base
(issue 11, on by default) changed the default output, so those digests are new. Issue 12
changed every digest: each line names its channel ("channel":"s2s") and two catalogue events
carry event_custom_parameters; with those taken out, the lines are the same as before.
(The C2S digests are of `--channel c2s`, new then.)"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from simulator.cli import main

GOLDEN = [
    ("--devices 300 --days 2 --seed 1 --installed-base 0",
     "481c6abf2fec3fd85190e58619cb136b6d7fa5ba5dbc0efec635091d74dd4b37"),
    ("--devices 200 --days 3 --seed 7 --platforms roku,tizen --installed-base 0",
     "df2952f73f9be13e87b4b24800b30c6e033c6ccc3424fbef6191de2a11a34b60"),
    ("--devices 500 --days 1 --seed 42 --start 2026-03-01T00:00:00Z --installed-base 0",
     "21b95274f44dde996908ea410fbba7a1c9dbd032f72d2b80c1542d7bb30e6bb7"),
    ("--devices 50 --days 7 --seed 3 --app 3202204027284 --installed-base 0",
     "2d58e9f036b31fe1645b6e7dd0724c59059ee4bfcc1d1ab9787ee51b2589217d"),
    ("--devices 120 --days 1.5 --seed 99 --mix --installed-base 0",
     "8433282e0906c15dd26befd277cc664d6991c5e9ed98a04b107efb3381c84984"),
    ("--devices 300 --days 2 --seed 1",
     "95e73e095d0f5ba783f32f3df6725e3ee62e842fed824025b223b28a70ce5a55"),
    ("--devices 200 --days 3 --seed 7 --platforms roku,tizen",
     "f348763919d1e3b4f57590e9311b76b7535319e1ffd3e2789308bbb5f6fd3c37"),
    ("--devices 500 --days 1 --seed 42 --start 2026-03-01T00:00:00Z",
     "737d0cfdc3c44da220158c4c28bbb2c10c0d7a94cf42e361c910963b2a44ecf1"),
    ("--devices 50 --days 7 --seed 3 --app 3202204027284",
     "8a4ccb59bf1025ccc67a3e08790c5c07f516723cd6779ccac60dae676078e805"),
    ("--devices 120 --days 1.5 --seed 99 --mix",
     "aa7315570c75ee92af23c4c7a54aa50a39207d8f91dacd8c14895615e787dfbe"),
    ("--devices 300 --days 2 --seed 1 --no-warm-up",
     "3b3e47d89dbe1ee92f621e84cbcde70b3abe94c935d938659218479ac5bcc146"),
    ("--devices 300 --days 2 --seed 1 --installed-base 0.5",
     "441e6d0a218af85affbe9b25280910ef4a37954a9be99f264e3f4c97ac169a08"),
    ("--devices 300 --days 2 --seed 1 --channel c2s",
     "a6a0aa8ca4dc5708b0645d60ef19e574c4dd88ef0362513e2b5a625b5445d34b"),
    ("--devices 300 --days 2 --seed 1 --channel c2s --sdk-quirks off",
     "342b7ee17fdc63d87a1da96263b651620190e2daa1bdd3baeb5b0df1d7291507"),
    ("--devices 200 --days 1 --seed 5 --app com.example.arcadegame --channel mixed:0.7",
     "0ec0785c47c1852670bd103e19dad865c8cd3b53d532b83a7cef445b8f736dd0"),
]


@pytest.mark.parametrize(("args", "digest"), GOLDEN)
def test_generate_writes_the_recorded_bytes(args: str, digest: str, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CTVSIM_KEY_SOURCE", raising=False)
    out = tmp_path / "traffic.jsonl"
    assert main(["generate", *args.split(), "-o", str(out)]) == 0
    assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
