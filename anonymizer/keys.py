"""Session key pairs and their custody: a passphrase-protected key file, or k-of-n shares."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import shamir_mnemonic
import zxcvbn
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from anonymizer.errors import InvalidSharing, OutputExists, WeakPassphrase
from anonymizer.seal import associated_data

__all__ = [
    "KdfParams",
    "check_passphrase",
    "generate_keypair",
    "public_key_fingerprint",
    "split_into_shares",
    "write_key_file",
    "write_shares",
]

KEY_FILE_FORMAT: Final = "blindmark-session-key/1"
SHARE_HEADER: Final = "# blindmark session key share"
# zxcvbn's score: 3 is "safely unguessable" (about 10^8 guesses and more); a long phrase
# of a few uncommon words gets 4.
MIN_PASSPHRASE_SCORE: Final = 3
# zxcvbn's cost grows fast with length; beyond this the rest of a phrase only adds strength.
_SCORED_CHARS: Final = 72
MAX_CUSTODIANS: Final = 16  # SLIP-39 encodes member counts in 4 bits
SALT_BYTES: Final = 16
NONCE_BYTES: Final = 12
PRIVATE_KEY_BYTES: Final = 32


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost; the defaults are memory-hard (64 MiB, 3 passes, 4 lanes).

    Tests pass small values for speed. The upper bounds stop a forged key file from
    making the reader allocate unbounded memory or spin for hours.
    """

    iterations: int = 3
    lanes: int = 4
    memory_cost: int = 64 * 1024  # KiB

    def __post_init__(self) -> None:
        if not 1 <= self.iterations <= 64:
            raise ValueError(f"Argon2id iterations must be 1..64, not {self.iterations}")
        if not 1 <= self.lanes <= 64:
            raise ValueError(f"Argon2id lanes must be 1..64, not {self.lanes}")
        if not 8 * self.lanes <= self.memory_cost <= 4 * 1024 * 1024:
            raise ValueError(
                f"Argon2id memory_cost must be {8 * self.lanes} KiB..4 GiB, not {self.memory_cost}"
            )


def generate_keypair() -> tuple[X25519PrivateKey, bytes]:
    """Return a new session private key and its raw 32-byte public key."""
    private_key = X25519PrivateKey.generate()
    return private_key, raw_public_key(private_key)


def raw_public_key(private_key: X25519PrivateKey) -> bytes:
    """The raw 32-byte public key of ``private_key``."""
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_fingerprint(public_key: bytes) -> str:
    """A short form of a public key for people to compare, e.g. ``3f2a-91bc-04de-77a1``."""
    digest = hashlib.sha256(public_key).hexdigest()[:16]
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def passphrase_bytes(passphrase: str) -> bytes:
    """The bytes a passphrase stands for."""
    # NFC, so the same passphrase typed on systems that compose accents differently matches.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def wrapping_key(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
    """The AES-256 key that protects a key file, derived from its passphrase."""
    kdf = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_cost,
    )
    return kdf.derive(passphrase_bytes(passphrase))


def key_file_aad(session_code: str, public_key: bytes) -> bytes:
    """Associated data of a key file: the header cannot be edited to pass it off as another."""
    return associated_data(KEY_FILE_FORMAT, session_code, b64encode(public_key))


_SEPARATORS = re.compile(r"[\W_]+")
_FEW_WORDS = "Use a few words, avoid common phrases."


def check_passphrase(passphrase: str, *, context: Sequence[str] = ()) -> None:
    """Refuse a key file passphrase that a well-kept estimator (zxcvbn) finds guessable.

    ``context`` holds words an attacker would try first (the session's code, station,
    date, occupation...). The passphrase is scored as typed and once more without its
    punctuation and spaces, the context likewise, and the weaker score counts: zxcvbn
    prices each separator on its own, so "GD-0107-2026-12-05" (a station and a date)
    would pass as typed. Raises WeakPassphrase with the estimator's score and feedback.
    """
    text = unicodedata.normalize("NFC", passphrase)[:_SCORED_CHARS]
    words = [c for c in context if c]
    joined = _SEPARATORS.sub("", text)
    joined_words = [w for c in words if (w := _SEPARATORS.sub("", c))]
    found: dict[str, Any] = min(
        (
            zxcvbn.zxcvbn(candidate, user_inputs=inputs, max_length=_SCORED_CHARS)
            for candidate, inputs in (
                (text, words),
                (joined, joined_words),
            )
            if candidate  # zxcvbn fails on an empty string
        ),
        key=lambda result: int(result["score"]),
        default={"score": 0, "feedback": {"suggestions": [_FEW_WORDS]}},
    )
    score = int(found["score"])
    if score >= MIN_PASSPHRASE_SCORE:
        return
    warning = str(found["feedback"].get("warning") or "")
    suggestions = tuple(str(s) for s in found["feedback"].get("suggestions") or ())
    advice = " ".join(x for x in (warning, *suggestions) if x)
    raise WeakPassphrase(
        f"the key file passphrase is too easy to guess (strength {score} of 4, "
        f"at least {MIN_PASSPHRASE_SCORE} needed)"
        + (f": {advice}" if advice else "; a long phrase of several uncommon words is best"),
        score=score,
        warning=warning,
        suggestions=suggestions,
    )


def _check_session_code(session_code: str) -> None:
    # The code is written into one-line headers; a line break would corrupt them.
    if not session_code or not session_code.isprintable():
        raise ValueError(f"session code must be non-empty printable text, not {session_code!r}")


def _write_new_file(path: Path, text: str) -> None:
    """Create ``path`` for its owner only; refuse if it exists; leave nothing half-written."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise OutputExists(f"{path} already exists; key material is never overwritten") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def write_key_file(
    private_key: X25519PrivateKey,
    path: Path,
    passphrase: str,
    *,
    session_code: str,
    context: Sequence[str] = (),
    kdf_params: KdfParams | None = None,
) -> None:
    """Write ``private_key`` to a new file at ``path``, encrypted under ``passphrase``.

    ``context``: the session's public facts beside its code, which the passphrase may not
    lean on (``check_passphrase``).

    Raises WeakPassphrase if the passphrase is easy to guess (``check_passphrase``),
    OutputExists if ``path`` exists, ValueError for an unusable session code.
    """
    _check_session_code(session_code)
    check_passphrase(passphrase, context=(session_code, "blindmark", *context))
    params = kdf_params or KdfParams()
    public_key = raw_public_key(private_key)
    salt = os.urandom(SALT_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(wrapping_key(passphrase, salt, params)).encrypt(
        nonce,
        private_key.private_bytes_raw(),
        key_file_aad(session_code, public_key),
    )
    document = {
        "format": KEY_FILE_FORMAT,
        "session": session_code,
        "public_key": b64encode(public_key),
        "kdf": {
            "name": "argon2id",
            "salt": b64encode(salt),
            "iterations": params.iterations,
            "lanes": params.lanes,
            "memory_cost": params.memory_cost,
        },
        "nonce": b64encode(nonce),
        "ciphertext": b64encode(ciphertext),
    }
    _write_new_file(path, json.dumps(document, indent=2) + "\n")


def split_into_shares(
    private_key: X25519PrivateKey, *, custodians: int, threshold: int, session_code: str
) -> list[str]:
    """Split ``private_key`` into ``custodians`` SLIP-39 shares, any ``threshold`` of which
    rebuild it; return the text of each share file.

    Raises InvalidSharing unless 2 <= threshold <= custodians <= 16 (a single custodian
    uses a key file instead).
    """
    _check_session_code(session_code)
    if custodians < 2:
        raise InvalidSharing(
            f"{custodians} custodian(s) is not a sharing; "
            "give one custodian a passphrase-protected key file instead"
        )
    if custodians > MAX_CUSTODIANS:
        raise InvalidSharing(f"at most {MAX_CUSTODIANS} custodians, not {custodians}")
    if not 2 <= threshold <= custodians:
        raise InvalidSharing(
            f"the threshold must be between 2 and the number of custodians ({custodians}), "
            f"not {threshold}: one share alone must not rebuild the key"
        )
    public_b64 = b64encode(raw_public_key(private_key))
    # No SLIP-39 passphrase: holding k shares is the whole secret, by design.
    [mnemonics] = shamir_mnemonic.generate_mnemonics(
        1, [(threshold, custodians)], private_key.private_bytes_raw()
    )
    return [
        "\n".join(
            [
                SHARE_HEADER,
                "# keep this file private and offline until the session is published",
                f"session: {session_code}",
                f"share: {i} of {custodians}, any {threshold} rebuild the key",
                f"public key: {public_b64}",
                "",
                str(mnemonic),
                "",
            ]
        )
        for i, mnemonic in enumerate(mnemonics, start=1)
    ]


def write_shares(
    private_key: X25519PrivateKey,
    out_dir: Path,
    *,
    custodians: int,
    threshold: int,
    session_code: str,
) -> list[Path]:
    """Write ``share-<i>-of-<n>.txt`` files into ``out_dir`` (created if missing).

    Raises InvalidSharing as ``split_into_shares`` does, and OutputExists, writing
    nothing, if any of the share files already exists.
    """
    texts = split_into_shares(
        private_key, custodians=custodians, threshold=threshold, session_code=session_code
    )
    paths = [out_dir / f"share-{i}-of-{custodians}.txt" for i in range(1, custodians + 1)]
    existing = [str(p) for p in paths if p.exists()]
    if existing:
        raise OutputExists(
            f"share files already exist: {', '.join(existing)}; key material is never overwritten"
        )
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        for path, text in zip(paths, texts, strict=True):
            _write_new_file(path, text)
            written.append(path)
    except BaseException:
        # An incomplete set of shares is worse than none: it looks usable and is not.
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return paths
