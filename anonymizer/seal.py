"""Sealing identities with a session's public key: anyone may seal, nobody here can unseal."""

from __future__ import annotations

import os
from collections.abc import Callable
from types import TracebackType
from typing import Final

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SUITE", "BatchSealer", "associated_data", "seal_record"]

# RFC 9180 HPKE, base mode: X25519 key agreement, HKDF-SHA256, AES-256-GCM.
SUITE: Final = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

BATCH_KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
AAD_PREFIX: Final = b"blindmark/v1"

RandomSource = Callable[[int], bytes]


def associated_data(*parts: str | int) -> bytes:
    """Encode row ids as associated data, so a ciphertext only opens in the row it was made for.

    Each part is written with its type and byte length (``|s7:session|i1:3``), so the
    encoding is injective: ``("1|2", 3)``, ``("1", "2|3")``, ``(12, 3)`` and ``("12", 3)`` all
    differ. ``bool`` is refused because ``True`` would silently mean ``1``.
    """
    out = [AAD_PREFIX]
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, str | int):
            raise TypeError(f"associated data parts are str or int, not {type(part).__name__}")
        tag = b"s" if isinstance(part, str) else b"i"
        value = (part if isinstance(part, str) else str(part)).encode("utf-8")
        out.append(b"|" + tag + str(len(value)).encode("ascii") + b":" + value)
    return b"".join(out)


def _load_public_key(public_key: bytes) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise ValueError(
            f"a session public key is 32 raw bytes (X25519), got {len(public_key)} bytes"
        ) from None


class BatchSealer:
    """Encrypts one intake batch's records under a fresh AES-256-GCM key sealed to the session.

    Only the public key is needed. The batch key exists in this object alone: there is no
    accessor for it, it leaves only HPKE-sealed (``sealed_key``), and it must be forgotten
    once the batch is stored: use the sealer as a context manager or call ``close()``.
    Python cannot wipe memory, so forgetting means dropping every reference to the key.

    ``rng`` is injectable for tests; production code must keep ``os.urandom``.
    """

    def __init__(self, public_key: bytes, *, rng: RandomSource = os.urandom) -> None:
        self._public_key = _load_public_key(public_key)
        self._rng = rng
        self._key: bytes | None = self._random(BATCH_KEY_BYTES)
        self._aead: AESGCM | None = AESGCM(self._key)

    def _random(self, size: int) -> bytes:
        data = self._rng(size)
        if len(data) != size:
            raise ValueError(f"random source returned {len(data)} bytes, {size} requested")
        return data

    def _open(self) -> tuple[bytes, AESGCM]:
        if self._key is None or self._aead is None:
            raise RuntimeError("this batch sealer is closed: its key has been forgotten")
        return self._key, self._aead

    def encrypt(self, plaintext: bytes, aad: bytes) -> bytes:
        """Return nonce || AES-256-GCM(plaintext), bound to ``aad`` (the record's row ids)."""
        _, aead = self._open()
        # Random rather than counter nonces: a counter would reveal the order records were
        # sealed in, i.e. roster order, which must leave no trace (DESIGN §3).
        nonce = self._random(NONCE_BYTES)
        return nonce + aead.encrypt(nonce, plaintext, aad)

    def sealed_key(self, aad: bytes) -> bytes:
        """Return the batch key HPKE-sealed to the session's public key, with ``info=aad``."""
        key, _ = self._open()
        return SUITE.encrypt(key, self._public_key, info=aad)

    def close(self) -> None:
        """Forget the batch key; ``encrypt`` and ``sealed_key`` refuse afterwards."""
        self._key = None
        self._aead = None

    def __enter__(self) -> BatchSealer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def seal_record(public_key: bytes, plaintext: bytes, aad: bytes) -> tuple[bytes, bytes]:
    """Seal one record that arrives on its own (a late conflict, a violation).

    Returns ``(sealed_key, ciphertext)``; both are bound to ``aad``, and ``unseal`` opens
    them with the same ``aad``.
    """
    with BatchSealer(public_key) as sealer:
        return sealer.sealed_key(aad), sealer.encrypt(plaintext, aad)
