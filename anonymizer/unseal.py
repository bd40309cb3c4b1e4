"""Unsealing: rebuild a session's private key from its custody and open sealed records.

This is the only module that can decrypt; only publication may import it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import shamir_mnemonic
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from shamir_mnemonic.share import Share
from shamir_mnemonic.wordlist import WORD_INDEX_MAP

from anonymizer.errors import (
    BadKeyFile,
    BadShare,
    KeyMismatch,
    NotEnoughShares,
    TamperedCiphertext,
    WrongPassphrase,
)
from anonymizer.keys import (
    KEY_FILE_FORMAT,
    PRIVATE_KEY_BYTES,
    KdfParams,
    key_file_aad,
    public_key_fingerprint,
    raw_public_key,
    wrapping_key,
)
from anonymizer.seal import NONCE_BYTES, SUITE

__all__ = ["SessionKey"]

_TAG_BYTES = 16


class SessionKey:
    """A session's private key, rebuilt for publication; it opens what intake sealed.

    The key never leaves this object: there is no accessor for its bytes.
    """

    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._private_key = private_key
        self._public_key = raw_public_key(private_key)

    def __repr__(self) -> str:
        return f"SessionKey(fingerprint={public_key_fingerprint(self._public_key)!r})"

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key, as stored with the session."""
        return self._public_key

    # -- custody ------------------------------------------------------------------------

    @classmethod
    def from_key_file(
        cls, path: Path, passphrase: str, *, expected_public_key: bytes | None = None
    ) -> SessionKey:
        """Open a key file written by ``keys.write_key_file``.

        Raises BadKeyFile (unreadable or not a key file), KeyMismatch (another session's
        key, checked before the passphrase), WrongPassphrase.
        """
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise BadKeyFile(f"cannot read key file {path}: {e.strerror}", path=str(path)) from None
        return cls.from_key_bytes(
            data, passphrase, name=str(path), expected_public_key=expected_public_key
        )

    @classmethod
    def from_key_bytes(
        cls,
        data: bytes,
        passphrase: str,
        *,
        name: str,
        expected_public_key: bytes | None = None,
    ) -> SessionKey:
        """Open a key file's content (an upload, say); errors call it ``name``.

        Raises as ``from_key_file`` does.
        """
        path = name
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadKeyFile(
                f"{path} is not a blindmark session key file (not JSON)", path=str(path)
            ) from None
        try:
            session_code, public_key, params, salt, nonce, ciphertext = _parse_key_file(document)
        except (KeyError, TypeError, ValueError, binascii.Error) as e:
            detail = f"missing field {e}" if isinstance(e, KeyError) else str(e)
            raise BadKeyFile(
                f"{path} is not a valid blindmark session key file: {detail}", path=str(path)
            ) from None
        if expected_public_key is not None and public_key != expected_public_key:
            raise KeyMismatch(
                f"key file {path} holds the key of session {session_code!r} "
                f"(fingerprint {public_key_fingerprint(public_key)}), not this session's key "
                f"(fingerprint {public_key_fingerprint(expected_public_key)})"
            )
        try:
            raw = AESGCM(wrapping_key(passphrase, salt, params)).decrypt(
                nonce, ciphertext, key_file_aad(session_code, public_key)
            )
        except InvalidTag:
            # The tag also covers the session code and public key, so an edited header
            # lands here too; the passphrase is by far the likelier cause.
            raise WrongPassphrase(
                f"wrong passphrase for key file {path} (or the file has been altered)"
            ) from None
        key = _private_key(raw, f"key file {path}", BadKeyFile)
        if key.public_key != public_key:
            raise BadKeyFile(
                f"key file {path} is inconsistent: its key does not match its header",
                path=str(path),
            )
        return key

    @classmethod
    def from_shares(
        cls, share_texts: Sequence[str], *, expected_public_key: bytes | None = None
    ) -> SessionKey:
        """Rebuild the key from the text of share files (header lines are ignored).

        Shares are named in errors by position: "share 1", "share 2"...
        Raises NotEnoughShares, BadShare (damaged, or from another key set), KeyMismatch.
        """
        labelled = [(f"share {i}", text) for i, text in enumerate(share_texts, start=1)]
        return cls._from_labelled_shares(labelled, expected_public_key)

    @classmethod
    def from_share_files(
        cls, paths: Sequence[Path], *, expected_public_key: bytes | None = None
    ) -> SessionKey:
        """Rebuild the key from share files; as ``from_shares``, errors name the files."""
        labelled = []
        for path in paths:
            try:
                labelled.append((f"share file {path}", Path(path).read_text(encoding="utf-8")))
            except OSError as e:
                raise BadShare(f"cannot read share file {path}: {e.strerror}") from None
            except UnicodeDecodeError:
                raise BadShare(f"share file {path} is not a text file") from None
        return cls._from_labelled_shares(labelled, expected_public_key)

    @classmethod
    def from_named_shares(
        cls, shares: Sequence[tuple[str, bytes]], *, expected_public_key: bytes | None = None
    ) -> SessionKey:
        """Rebuild the key from shares given as (file name, content), an upload's say;
        as ``from_shares``, errors name the files."""
        labelled = []
        for name, data in shares:
            try:
                labelled.append((f"share file {name}", data.decode("utf-8")))
            except UnicodeDecodeError:
                raise BadShare(f"share file {name} is not a text file") from None
        return cls._from_labelled_shares(labelled, expected_public_key)

    @classmethod
    def _from_labelled_shares(
        cls, labelled: Sequence[tuple[str, str]], expected_public_key: bytes | None
    ) -> SessionKey:
        key = _private_key(_combine(labelled), "the shares", BadShare)
        if expected_public_key is not None and key.public_key != expected_public_key:
            raise KeyMismatch(
                f"the shares rebuild the key with fingerprint "
                f"{public_key_fingerprint(key.public_key)}, but this session's key has "
                f"fingerprint {public_key_fingerprint(expected_public_key)}: "
                "they are another session's shares"
            )
        return key

    # -- opening sealed data ------------------------------------------------------------

    def unseal(self, sealed_key: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Open a record sealed by ``seal_record`` (key and record bound to the same ``aad``).

        Raises TamperedCiphertext if either part was altered or belongs to another row.
        """
        return _decrypt(self._batch_cipher(sealed_key, aad), ciphertext, aad, "the sealed record")

    def unseal_many(
        self, sealed_key: bytes, records: Iterable[tuple[bytes, bytes]], *, key_aad: bytes
    ) -> list[bytes]:
        """Open a batch sealed by one ``BatchSealer``.

        ``key_aad`` is what ``sealed_key(aad)`` was given; ``records`` are
        ``(ciphertext, aad)`` pairs as ``encrypt`` produced them. All or nothing: raises
        TamperedCiphertext naming the first record (0-based) that does not open.
        """
        aead = self._batch_cipher(sealed_key, key_aad)
        return [
            _decrypt(aead, ciphertext, aad, f"record {i} of the batch")
            for i, (ciphertext, aad) in enumerate(records)
        ]

    def _batch_cipher(self, sealed_key: bytes, aad: bytes) -> AESGCM:
        try:
            return AESGCM(SUITE.decrypt(sealed_key, self._private_key, info=aad))
        except (InvalidTag, ValueError):
            raise TamperedCiphertext(
                "the sealed batch key does not open with this session's key: "
                "it was altered, or belongs to another row or session"
            ) from None


def _decrypt(aead: AESGCM, ciphertext: bytes, aad: bytes, what: str) -> bytes:
    if len(ciphertext) < NONCE_BYTES + _TAG_BYTES:
        raise TamperedCiphertext(f"{what} is truncated ({len(ciphertext)} bytes)")
    try:
        return aead.decrypt(ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], aad)
    except InvalidTag:
        raise TamperedCiphertext(
            f"{what} does not decrypt: it was altered, or moved from another row"
        ) from None


def _private_key(raw: bytes, source: str, error: type[BadKeyFile] | type[BadShare]) -> SessionKey:
    if len(raw) != PRIVATE_KEY_BYTES:
        raise error(f"{source} hold {len(raw)} bytes, not a {PRIVATE_KEY_BYTES}-byte session key")
    return SessionKey(X25519PrivateKey.from_private_bytes(raw))


def _parse_key_file(document: Any) -> tuple[str, bytes, KdfParams, bytes, bytes, bytes]:
    """Fields of a key file; raises KeyError, TypeError or ValueError on anything amiss."""
    if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
        raise ValueError(f"format is not {KEY_FILE_FORMAT!r}")
    session_code = document["session"]
    kdf = document["kdf"]
    if not isinstance(session_code, str) or not isinstance(kdf, dict):
        raise TypeError("session must be text and kdf an object")
    if kdf["name"] != "argon2id":
        raise ValueError(f"unknown key derivation {kdf['name']!r}")
    for field in ("iterations", "lanes", "memory_cost"):
        if type(kdf[field]) is not int:
            raise TypeError(f"kdf.{field} must be an integer")
    params = KdfParams(
        iterations=kdf["iterations"], lanes=kdf["lanes"], memory_cost=kdf["memory_cost"]
    )
    salt = _b64(kdf["salt"])
    nonce = _b64(document["nonce"])
    if len(salt) < 8 or len(nonce) != NONCE_BYTES:
        raise ValueError("salt or nonce has the wrong length")
    return (
        session_code,
        _b64(document["public_key"]),
        params,
        salt,
        nonce,
        _b64(document["ciphertext"]),
    )


def _b64(value: object) -> bytes:
    if not isinstance(value, str):
        raise TypeError("binary fields must be base64 text")
    return base64.b64decode(value, validate=True)


# -- shares ------------------------------------------------------------------------------


def _mnemonic(label: str, text: str) -> str:
    """The share words of a share file: lines that are not comments nor ``key: value``."""
    # Joining all remaining lines accepts a mnemonic retyped over several lines.
    lines = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and ":" not in line
    ]
    words = " ".join(lines).lower().split()
    if not words:
        raise BadShare(f"{label} holds no share words")
    for position, word in enumerate(words, start=1):
        if word not in WORD_INDEX_MAP:
            # The word itself is not quoted: errors end up in logs, share words must not.
            raise BadShare(
                f"{label} is damaged: word {position} is not a SLIP-39 share word; "
                "check its spelling against the custodian's copy"
            )
    return " ".join(words)


def _combine(labelled: Sequence[tuple[str, str]]) -> bytes:
    """The secret that the shares rebuild, with errors naming the share at fault."""
    if not labelled:
        raise NotEnoughShares(0, None)
    parsed: list[tuple[str, str, Share]] = []
    for label, text in labelled:
        mnemonic = _mnemonic(label, text)
        try:
            share = Share.from_mnemonic(mnemonic)
        except shamir_mnemonic.MnemonicError:
            raise BadShare(
                f"{label} is damaged: its checksum does not match "
                "(a word was changed, left out or swapped)"
            ) from None
        if share.group_count != 1 or share.group_threshold != 1:
            raise BadShare(f"{label} is not a blindmark key share (it has several groups)")
        parsed.append((label, mnemonic, share))

    # Every share of one key set carries the same random identifier and parameters.
    sets: dict[object, list[str]] = {}
    for label, _, share in parsed:
        sets.setdefault(share.group_parameters(), []).append(label)
    if len(sets) > 1:
        main = max(sets.values(), key=len)
        strays = [label for labels in sets.values() if labels is not main for label in labels]
        verb = "belongs" if len(strays) == 1 else "belong"
        raise BadShare(
            f"{', '.join(strays)} {verb} to another key set than {', '.join(main)}; "
            "use only this session's shares"
        )

    # The same share given twice counts once.
    distinct: dict[int, tuple[str, str, Share]] = {}
    for label, mnemonic, share in parsed:
        seen = distinct.setdefault(share.index, (label, mnemonic, share))
        if seen[2] != share:
            raise BadShare(
                f"{seen[0]} and {label} claim to be the same share but differ: "
                "one is damaged or belongs to another key set"
            )
    needed: int = parsed[0][2].member_threshold
    if len(distinct) < needed:
        raise NotEnoughShares(len(distinct), needed)

    ordered = [distinct[index] for index in sorted(distinct)]
    base, extra = ordered[:needed], ordered[needed:]
    secret = _combine_exactly([mnemonic for _, mnemonic, _ in base])
    if secret is None:
        raise BadShare(
            f"{', '.join(label for label, _, _ in base)} do not fit together: "
            "one of them is damaged or belongs to another key set"
        )
    # SLIP-39 takes exactly k shares; check every other share given against the first ones,
    # so a bad share is named even when it was not needed.
    for label, mnemonic, _ in extra:
        if _combine_exactly([m for _, m, _ in base[:-1]] + [mnemonic]) != secret:
            raise BadShare(
                f"{label} does not fit the other shares: "
                "it is damaged or belongs to another key set"
            )
    return secret


def _combine_exactly(mnemonics: list[str]) -> bytes | None:
    """The secret that exactly-threshold shares rebuild, or None if they do not fit."""
    try:
        secret: bytes = shamir_mnemonic.combine_mnemonics(mnemonics)
    except shamir_mnemonic.MnemonicError:
        return None
    return secret
