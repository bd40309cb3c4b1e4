"""`blindmark keys init`: a key file or shares, refused when ambiguous, weak or repeated."""

from __future__ import annotations

import json
from pathlib import Path

from anonymizer.unseal import SessionKey
from tests.conftest import FreshDatabase
from tests.integration.cli.cli_support import (
    CODE,
    KEYS_INIT,
    TWO_OF_THREE,
    Run,
    ok,
    refused,
    session_row,
)

PASSPHRASE = "correct horse battery staple"


def test_keys_init_with_a_key_file(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase, fast_kdf: None
) -> None:
    ok(ready("session", "create", session_toml))
    key_file = tmp_path / "custody" / "CLI-01.key"
    key_file.parent.mkdir()
    env = {"BLINDMARK_KEY_PASSPHRASE": PASSPHRASE}

    output = ok(ready(*KEYS_INIT, "--key-file", key_file, env=env))

    assert f"wrote {key_file}" in output
    assert "passphrase" in output
    state, public_key = session_row(fresh_db.engine)
    assert public_key is not None
    assert json.loads(key_file.read_text())["session"] == CODE
    # The file opens with the passphrase and holds the key whose public half was stored.
    SessionKey.from_key_file(key_file, PASSPHRASE, expected_public_key=public_key)

    again = tmp_path / "custody" / "second.key"
    refusal = refused(ready(*KEYS_INIT, "--key-file", again, env=env), 4)
    assert "already has a key" in refusal
    assert not again.exists()
    assert session_row(fresh_db.engine) == (state, public_key)


def test_keys_init_with_shares(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))
    out = tmp_path / "shares"

    output = ok(ready(*KEYS_INIT, *TWO_OF_THREE, "--out", out))

    shares = sorted(out.glob("share-*-of-3.txt"))
    assert len(shares) == 3
    for share in shares:
        assert f"wrote {share}" in output
    assert "any 2" in output
    _state, public_key = session_row(fresh_db.engine)
    for pair in ([shares[0], shares[1]], [shares[1], shares[2]], [shares[0], shares[2]]):
        SessionKey.from_share_files(pair, expected_public_key=public_key)

    refusal = refused(ready(*KEYS_INIT, *TWO_OF_THREE, "--out", tmp_path / "more"), 4)
    assert "already has a key" in refusal
    assert not (tmp_path / "more").exists()
    assert session_row(fresh_db.engine)[1] == public_key


def test_keys_init_refuses_two_custody_modes_at_once(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))
    key_file = tmp_path / "k.key"

    result = ready(
        *KEYS_INIT,
        *("--key-file", key_file),
        *(*TWO_OF_THREE, "--out", tmp_path / "shares"),
        env={"BLINDMARK_KEY_PASSPHRASE": PASSPHRASE},
    )

    output = refused(result, 2)
    assert "Usage: blindmark keys init" in output
    assert "choose one custody" in output
    assert not key_file.exists()
    assert not (tmp_path / "shares").exists()
    assert session_row(fresh_db.engine)[1] is None
    refused(ready("keys", "init", "--session", CODE), 2)  # neither mode


def test_keys_init_without_a_passphrase_stores_no_key(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))

    output = refused(ready(*KEYS_INIT, "--key-file", tmp_path / "k"), 1)

    assert "BLINDMARK_KEY_PASSPHRASE" in output
    assert not (tmp_path / "k").exists()
    assert session_row(fresh_db.engine)[1] is None


def test_keys_init_refuses_a_guessable_passphrase_saying_why(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))
    key_file = tmp_path / "k.key"

    for weak in ("password1234", "qwertyuiop", CODE + "-key"):
        output = refused(
            ready(*KEYS_INIT, "--key-file", key_file, env={"BLINDMARK_KEY_PASSPHRASE": weak}), 5
        )
        assert "too easy to guess" in output and "of 4" in output

    assert not key_file.exists()
    assert session_row(fresh_db.engine)[1] is None
