"""Anonymizer: key custody, sealing and unsealing, and the errors people see when they fail."""

from __future__ import annotations

import ast
import itertools
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import shamir_mnemonic.shamir
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from anonymizer.errors import (
    AnonymizerError,
    BadKeyFile,
    BadShare,
    InvalidSharing,
    KeyMismatch,
    NotEnoughShares,
    OutputExists,
    TamperedCiphertext,
    WeakPassphrase,
    WrongPassphrase,
)
from anonymizer.keys import (
    KdfParams,
    generate_keypair,
    public_key_fingerprint,
    split_into_shares,
    write_key_file,
    write_shares,
)
from anonymizer.seal import BatchSealer, associated_data, seal_record
from anonymizer.unseal import SessionKey

FAST = KdfParams(iterations=1, lanes=1, memory_cost=8)
PASSPHRASE = "correct horse battery staple"
SESSION = "2026-GD-0412"
IDENTITY = "张三,440101199001011234,A0001".encode()
KeyPair = tuple[X25519PrivateKey, bytes]
ANONYMIZER = Path(__file__).resolve().parents[2] / "anonymizer"


@pytest.fixture(scope="module")
def keypair() -> KeyPair:
    return generate_keypair()


@pytest.fixture(scope="module")
def shares(keypair: KeyPair) -> list[str]:
    private_key, _ = keypair
    return split_into_shares(private_key, custodians=5, threshold=3, session_code=SESSION)


def _key_file(tmp_path: Path, private_key: X25519PrivateKey, session: str = SESSION) -> Path:
    path = tmp_path / "session.key"
    write_key_file(private_key, path, PASSPHRASE, session_code=session, kdf_params=FAST)
    return path


def _mnemonic_words(share_text: str) -> list[str]:
    return share_text.strip().splitlines()[-1].split()


# -- round trips ---------------------------------------------------------------------------


def test_record_sealed_with_public_key_opens_with_key_file_and_passphrase(
    tmp_path: Path, keypair: KeyPair
) -> None:
    private_key, public_key = keypair
    aad = associated_data("violation", 12)
    sealed_key, ciphertext = seal_record(public_key, IDENTITY, aad)

    key = SessionKey.from_key_file(
        _key_file(tmp_path, private_key), PASSPHRASE, expected_public_key=public_key
    )

    assert key.public_key == public_key
    assert key.unseal(sealed_key, ciphertext, aad) == IDENTITY


def test_batch_sealed_records_open_together(keypair: KeyPair) -> None:
    private_key, public_key = keypair
    records = [f"candidate {i}".encode() for i in range(5)]
    with BatchSealer(public_key) as sealer:
        sealed = [
            (sealer.encrypt(r, associated_data("identity", i)), associated_data("identity", i))
            for i, r in enumerate(records)
        ]
        sealed_key = sealer.sealed_key(associated_data("batch", 7))

    key = SessionKey(private_key)
    assert key.unseal_many(sealed_key, sealed, key_aad=associated_data("batch", 7)) == records


def test_exactly_threshold_shares_rebuild_the_key(keypair: KeyPair, shares: list[str]) -> None:
    _, public_key = keypair
    sealed_key, ciphertext = seal_record(public_key, IDENTITY, b"row")

    key = SessionKey.from_shares(shares[:3], expected_public_key=public_key)

    assert key.unseal(sealed_key, ciphertext, b"row") == IDENTITY


def test_all_shares_rebuild_the_key(keypair: KeyPair, shares: list[str]) -> None:
    _, public_key = keypair
    assert SessionKey.from_shares(shares).public_key == public_key


def test_every_threshold_subset_rebuilds_the_same_key(keypair: KeyPair, shares: list[str]) -> None:
    _, public_key = keypair
    for subset in itertools.combinations(shares, 3):
        assert SessionKey.from_shares(list(subset)).public_key == public_key


def test_share_files_are_written_readable_only_by_owner_and_rebuild_the_key(
    tmp_path: Path, keypair: KeyPair
) -> None:
    private_key, public_key = keypair
    paths = write_shares(
        private_key,
        tmp_path / "shares",
        custodians=3,
        threshold=2,
        session_code=SESSION,
    )

    assert [p.name for p in paths] == ["share-1-of-3.txt", "share-2-of-3.txt", "share-3-of-3.txt"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    assert SessionKey.from_share_files(paths[1:], expected_public_key=public_key)


def test_share_file_says_what_it_is(shares: list[str]) -> None:
    lines = shares[1].splitlines()
    assert lines[0] == "# blindmark session key share"
    assert f"session: {SESSION}" in lines
    assert "share: 2 of 5, any 3 rebuild the key" in lines
    assert any(line.startswith("public key: ") for line in lines)
    assert len(_mnemonic_words(shares[1])) >= 20


def test_share_retyped_over_several_lines_still_counts(shares: list[str]) -> None:
    words = _mnemonic_words(shares[0])
    retyped = "\n".join(" ".join(words[i : i + 5]).upper() for i in range(0, len(words), 5))
    assert SessionKey.from_shares([retyped, *shares[1:3]]).public_key == (
        SessionKey.from_shares(shares[:3]).public_key
    )


# -- custody failures ----------------------------------------------------------------------


def test_wrong_passphrase_is_named(tmp_path: Path, keypair: KeyPair) -> None:
    path = _key_file(tmp_path, keypair[0])
    with pytest.raises(WrongPassphrase, match="wrong passphrase for key file"):
        SessionKey.from_key_file(path, "correct horse battery stable")


def test_key_file_of_another_session_is_a_mismatch(tmp_path: Path, keypair: KeyPair) -> None:
    other_private, _ = generate_keypair()
    path = _key_file(tmp_path, other_private, session="2026-GD-0999")
    with pytest.raises(KeyMismatch, match="2026-GD-0999"):
        SessionKey.from_key_file(path, PASSPHRASE, expected_public_key=keypair[1])


def test_edited_key_file_header_does_not_open(tmp_path: Path, keypair: KeyPair) -> None:
    path = _key_file(tmp_path, keypair[0])
    document = json.loads(path.read_text())
    document["session"] = "2026-GD-0999"
    path.write_text(json.dumps(document))
    with pytest.raises(WrongPassphrase, match="altered"):
        SessionKey.from_key_file(path, PASSPHRASE)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("not json", "not JSON"),
        ('{"format": "something-else"}', "format"),
        ('{"format": "blindmark-session-key/1", "session": "X"}', "missing field"),
    ],
)
def test_malformed_key_file_is_named(tmp_path: Path, content: str, reason: str) -> None:
    path = tmp_path / "broken.key"
    path.write_text(content)
    with pytest.raises(BadKeyFile, match=reason) as caught:
        SessionKey.from_key_file(path, PASSPHRASE)
    assert str(path) in str(caught.value)


def test_missing_key_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadKeyFile, match="cannot read key file"):
        SessionKey.from_key_file(tmp_path / "absent.key", PASSPHRASE)


def test_forged_key_file_cannot_demand_unbounded_memory(tmp_path: Path, keypair: KeyPair) -> None:
    path = _key_file(tmp_path, keypair[0])
    document = json.loads(path.read_text())
    document["kdf"]["memory_cost"] = 2**40
    path.write_text(json.dumps(document))
    with pytest.raises(BadKeyFile, match="memory_cost"):
        SessionKey.from_key_file(path, PASSPHRASE)


def test_fewer_shares_than_threshold_says_how_many_are_needed(shares: list[str]) -> None:
    with pytest.raises(NotEnoughShares, match="2 distinct shares given, 3 needed") as caught:
        SessionKey.from_shares(shares[:2])
    assert (caught.value.given, caught.value.needed) == (2, 3)


def test_a_share_given_twice_counts_once(shares: list[str]) -> None:
    with pytest.raises(NotEnoughShares, match="2 distinct shares given, 3 needed"):
        SessionKey.from_shares([shares[0], shares[1], shares[0]])


def test_no_share_at_all(shares: list[str]) -> None:
    with pytest.raises(NotEnoughShares, match="no share given"):
        SessionKey.from_shares([])


def test_share_with_one_word_changed_is_named(shares: list[str]) -> None:
    words = _mnemonic_words(shares[1])
    words[10] = "academic" if words[10] != "academic" else "acid"  # another valid word
    damaged = " ".join(words)
    with pytest.raises(BadShare, match="share 2 is damaged"):
        SessionKey.from_shares([shares[0], damaged, shares[2]])


def test_share_with_misspelt_word_says_which_word(shares: list[str]) -> None:
    words = _mnemonic_words(shares[2])
    words[4] = "zzzz"
    with pytest.raises(BadShare, match="share 3 is damaged: word 5 ") as caught:
        SessionKey.from_shares([shares[0], shares[1], " ".join(words)])
    assert "zzzz" not in str(caught.value)


def test_damaged_share_file_is_named_by_path(tmp_path: Path, shares: list[str]) -> None:
    paths = []
    for i, text in enumerate(shares[:3], start=1):
        paths.append(tmp_path / f"share-{i}.txt")
        paths[-1].write_text(text)
    words = _mnemonic_words(shares[2])
    words[7] = "zzzz"
    paths[2].write_text(" ".join(words))
    with pytest.raises(BadShare, match=re.escape(f"share file {paths[2]} is damaged")):
        SessionKey.from_share_files(paths)


def test_share_from_another_key_set_is_named(shares: list[str]) -> None:
    other_private, _ = generate_keypair()
    stray = split_into_shares(other_private, custodians=5, threshold=3, session_code=SESSION)
    with pytest.raises(BadShare, match="share 3"):
        SessionKey.from_shares([shares[0], shares[1], stray[2]])


def test_surplus_share_from_another_key_set_is_named(shares: list[str]) -> None:
    other_private, _ = generate_keypair()
    stray = split_into_shares(other_private, custodians=5, threshold=3, session_code=SESSION)
    with pytest.raises(BadShare, match="share 4"):
        SessionKey.from_shares([*shares[:3], stray[3]])


@pytest.fixture
def lookalike_shares(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Two key sets whose shares carry the same identifier (1 chance in 32768 by luck)."""
    monkeypatch.setattr(shamir_mnemonic.shamir, "_random_identifier", lambda: 1234)
    one, two = (
        split_into_shares(generate_keypair()[0], custodians=5, threshold=3, session_code=SESSION)
        for _ in range(2)
    )
    return one, two


def test_lookalike_share_from_another_key_set_is_caught(
    lookalike_shares: tuple[list[str], list[str]],
) -> None:
    one, two = lookalike_shares
    with pytest.raises(BadShare, match="share 1, share 2, share 3 do not fit together"):
        SessionKey.from_shares([one[0], one[1], two[2]])


def test_surplus_lookalike_share_is_named(lookalike_shares: tuple[list[str], list[str]]) -> None:
    one, two = lookalike_shares
    with pytest.raises(BadShare, match="share 4 does not fit the other shares"):
        SessionKey.from_shares([*one[:3], two[3]])


def test_two_different_shares_with_one_number_are_named(
    lookalike_shares: tuple[list[str], list[str]],
) -> None:
    one, two = lookalike_shares
    with pytest.raises(BadShare, match="share 1 and share 4 claim to be the same share"):
        SessionKey.from_shares([*one[:3], two[0]])


def test_shares_of_another_session_are_a_mismatch(keypair: KeyPair) -> None:
    other_private, _ = generate_keypair()
    other = split_into_shares(other_private, custodians=3, threshold=2, session_code="OTHER")
    with pytest.raises(KeyMismatch, match="another session's shares"):
        SessionKey.from_shares(other[:2], expected_public_key=keypair[1])


# -- sealed data failures ------------------------------------------------------------------


def test_ciphertext_moved_to_another_row_does_not_open(keypair: KeyPair) -> None:
    private_key, public_key = keypair
    sealed_key, ciphertext = seal_record(public_key, IDENTITY, associated_data("row", 1))
    key = SessionKey(private_key)
    with pytest.raises(TamperedCiphertext):
        key.unseal(sealed_key, ciphertext, associated_data("row", 2))


def test_batch_record_moved_to_another_row_does_not_open(keypair: KeyPair) -> None:
    private_key, public_key = keypair
    with BatchSealer(public_key) as sealer:
        first = sealer.encrypt(b"first", associated_data("identity", 1))
        second = sealer.encrypt(b"second", associated_data("identity", 2))
        sealed_key = sealer.sealed_key(b"batch")
    swapped = [(second, associated_data("identity", 1)), (first, associated_data("identity", 2))]
    with pytest.raises(TamperedCiphertext, match="record 0 of the batch"):
        SessionKey(private_key).unseal_many(sealed_key, swapped, key_aad=b"batch")


@pytest.mark.parametrize("part", ["sealed_key", "ciphertext"])
def test_flipped_byte_does_not_open(keypair: KeyPair, part: str) -> None:
    private_key, public_key = keypair
    sealed_key, ciphertext = seal_record(public_key, IDENTITY, b"row")
    sealed = {"sealed_key": sealed_key, "ciphertext": ciphertext}
    altered = bytearray(sealed[part])
    altered[len(altered) // 2] ^= 0x01
    sealed[part] = bytes(altered)
    with pytest.raises(TamperedCiphertext):
        SessionKey(private_key).unseal(sealed["sealed_key"], sealed["ciphertext"], b"row")


def test_truncated_ciphertext_does_not_open(keypair: KeyPair) -> None:
    private_key, public_key = keypair
    sealed_key, ciphertext = seal_record(public_key, IDENTITY, b"row")
    with pytest.raises(TamperedCiphertext, match="truncated"):
        SessionKey(private_key).unseal(sealed_key, ciphertext[:20], b"row")


def test_another_sessions_key_cannot_open(keypair: KeyPair) -> None:
    other_private, _ = generate_keypair()
    sealed_key, ciphertext = seal_record(keypair[1], IDENTITY, b"row")
    with pytest.raises(TamperedCiphertext):
        SessionKey(other_private).unseal(sealed_key, ciphertext, b"row")


def test_two_batches_have_different_keys(keypair: KeyPair) -> None:
    private_key, public_key = keypair
    with BatchSealer(public_key) as one, BatchSealer(public_key) as two:
        ciphertext = one.encrypt(IDENTITY, b"row")
        other_batch_key = two.sealed_key(b"batch")
    with pytest.raises(TamperedCiphertext):
        SessionKey(private_key).unseal_many(
            other_batch_key, [(ciphertext, b"row")], key_aad=b"batch"
        )


def test_sealed_output_does_not_contain_the_plaintext(keypair: KeyPair) -> None:
    plaintext = b"440101199001011234" * 4
    sealed_key, ciphertext = seal_record(keypair[1], plaintext, b"row")
    for fragment in (plaintext[:8], plaintext[18:26]):
        assert fragment not in sealed_key
        assert fragment not in ciphertext


def test_same_record_sealed_twice_looks_different(keypair: KeyPair) -> None:
    with BatchSealer(keypair[1]) as sealer:
        assert sealer.encrypt(IDENTITY, b"row") != sealer.encrypt(IDENTITY, b"row")


def test_closed_sealer_has_forgotten_its_key(keypair: KeyPair) -> None:
    with BatchSealer(keypair[1]) as sealer:
        pass
    with pytest.raises(RuntimeError, match="forgotten"):
        sealer.sealed_key(b"batch")
    with pytest.raises(RuntimeError, match="forgotten"):
        sealer.encrypt(IDENTITY, b"row")


def test_sealer_refuses_a_malformed_public_key() -> None:
    with pytest.raises(ValueError, match="32 raw bytes"):
        BatchSealer(b"too short")


# -- writing key material ------------------------------------------------------------------


def test_key_file_is_private_and_holds_no_raw_key(tmp_path: Path, keypair: KeyPair) -> None:
    private_key, _ = keypair
    path = _key_file(tmp_path, private_key)
    document = json.loads(path.read_text())

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert document["format"] == "blindmark-session-key/1"
    assert document["session"] == SESSION
    assert document["kdf"]["name"] == "argon2id"
    raw = private_key.private_bytes_raw()
    assert raw not in path.read_bytes()
    assert raw.hex() not in path.read_text()


def test_default_key_derivation_is_memory_hard(tmp_path: Path) -> None:
    private_key, public_key = generate_keypair()
    path = tmp_path / "session.key"
    write_key_file(private_key, path, PASSPHRASE, session_code=SESSION)
    assert json.loads(path.read_text())["kdf"]["memory_cost"] >= 64 * 1024
    assert SessionKey.from_key_file(path, PASSPHRASE).public_key == public_key


def test_key_file_is_never_overwritten(tmp_path: Path, keypair: KeyPair) -> None:
    path = _key_file(tmp_path, keypair[0])
    before = path.read_bytes()
    other_private, _ = generate_keypair()
    with pytest.raises(OutputExists, match="already exists"):
        write_key_file(other_private, path, PASSPHRASE, session_code=SESSION, kdf_params=FAST)
    assert path.read_bytes() == before


def test_share_files_are_never_overwritten_and_no_partial_set_is_left(
    tmp_path: Path, keypair: KeyPair
) -> None:
    (tmp_path / "share-2-of-3.txt").write_text("kept")
    with pytest.raises(OutputExists, match=r"share-2-of-3\.txt"):
        write_shares(keypair[0], tmp_path, custodians=3, threshold=2, session_code=SESSION)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["share-2-of-3.txt"]
    assert (tmp_path / "share-2-of-3.txt").read_text() == "kept"


@pytest.mark.parametrize(
    "passphrase",
    [
        "",
        "1234567",
        "  \u00e9   ",
        "password1234",
        "qwertyuiop",
        "Password2026!",
        "woaini1314",
        SESSION,
    ],
)
def test_weak_passphrase_is_refused(tmp_path: Path, keypair: KeyPair, passphrase: str) -> None:
    path = tmp_path / "session.key"
    with pytest.raises(WeakPassphrase, match="too easy to guess") as refused:
        write_key_file(keypair[0], path, passphrase, session_code=SESSION, kdf_params=FAST)
    assert refused.value.score < 3
    assert not path.exists()


def test_passphrase_in_another_unicode_normal_form_still_opens(
    tmp_path: Path, keypair: KeyPair
) -> None:
    path = tmp_path / "session.key"
    composed, decomposed = "caf\u00e9 au lait", "cafe\u0301 au lait"
    write_key_file(keypair[0], path, composed, session_code=SESSION, kdf_params=FAST)
    assert SessionKey.from_key_file(path, decomposed).public_key == keypair[1]


@pytest.mark.parametrize(
    ("custodians", "threshold", "reason"),
    [(1, 1, "not a sharing"), (3, 1, "between 2 and"), (3, 4, "between 2 and"), (17, 2, "16")],
)
def test_sharing_must_be_k_of_n(
    keypair: KeyPair, custodians: int, threshold: int, reason: str
) -> None:
    with pytest.raises(InvalidSharing, match=reason):
        split_into_shares(
            keypair[0],
            custodians=custodians,
            threshold=threshold,
            session_code=SESSION,
        )


def test_fingerprint_is_short_and_stable(keypair: KeyPair) -> None:
    fingerprint = public_key_fingerprint(keypair[1])
    assert fingerprint == public_key_fingerprint(bytes(keypair[1]))
    assert len(fingerprint) == 19
    assert fingerprint != public_key_fingerprint(generate_keypair()[1])


def test_every_error_is_an_anonymizer_error() -> None:
    errors: list[type[Exception]] = [WeakPassphrase, InvalidSharing, OutputExists, BadKeyFile]
    errors += [WrongPassphrase, NotEnoughShares, BadShare, KeyMismatch, TamperedCiphertext]
    assert all(issubclass(error, AnonymizerError) for error in errors)


# -- associated data -----------------------------------------------------------------------


def _decode_associated_data(data: bytes) -> tuple[str | int, ...]:
    """Parse the encoding back: if this always recovers the parts, the encoding is injective."""
    prefix = b"blindmark/v1"
    assert data.startswith(prefix)
    rest, parts = data[len(prefix) :], []
    while rest:
        assert rest[:1] == b"|"
        tag, rest = rest[1:2], rest[2:]
        length, rest = rest.split(b":", 1)
        value, rest = rest[: int(length)].decode(), rest[int(length) :]
        parts.append(value if tag == b"s" else int(value))
    return tuple(parts)


@given(st.lists(st.one_of(st.text(), st.integers())))
def test_associated_data_is_injective(parts: list[str | int]) -> None:
    assert _decode_associated_data(associated_data(*parts)) == tuple(parts)


def test_associated_data_separates_lookalikes() -> None:
    lookalikes = [("1|23",), ("12|3",), ("1", "23"), ("12", "3"), (12, 3), ("12", 3), (123,)]
    assert len({associated_data(*parts) for parts in lookalikes}) == len(lookalikes)
    assert associated_data("session", 3) == b"blindmark/v1|s7:session|i1:3"


def test_associated_data_refuses_booleans() -> None:
    with pytest.raises(TypeError):
        associated_data("voided", True)


# -- boundaries ----------------------------------------------------------------------------


def test_anonymizer_imports_neither_flask_nor_marking() -> None:
    for module in ANONYMIZER.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(), str(module))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"flask", "marking"}, f"{module.name}: {name}"


def test_sealing_and_key_custody_do_not_load_the_decrypting_half() -> None:
    code = (
        "import sys, anonymizer, anonymizer.seal, anonymizer.keys, anonymizer.errors; "
        "assert 'anonymizer.unseal' not in sys.modules, 'unseal loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
