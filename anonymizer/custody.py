"""Shares held by the server for their custodians until each downloads their own.

When the office makes a k-of-n key in the browser, the server splits it and keeps each
share wrapped (AES-256-GCM) under a key derived from the application's secret key, which
the database does not hold: a copy of the database alone opens no share. The wrapped share
is bound to its session, custodian and position (associated data), so it cannot be moved
to another custodian's row. This opens shares, never identities: it does not import
``anonymizer.unseal`` and knows nothing of sealed records.
"""

from __future__ import annotations

import os
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from anonymizer.errors import BadShare
from anonymizer.keys import NONCE_BYTES
from anonymizer.seal import associated_data

__all__ = ["share_wrapping_key", "unwrap_share", "wrap_share"]

WRAP_FORMAT: Final = "blindmark-custody-share/1"


def share_wrapping_key(secret: str | bytes) -> bytes:
    """The AES-256 key that wraps waiting shares, derived from the application's secret."""
    material = secret.encode("utf-8") if isinstance(secret, str) else secret
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=WRAP_FORMAT.encode()).derive(
        material
    )


def _aad(session_code: str, custodian_id: int, share_index: int) -> bytes:
    return associated_data(WRAP_FORMAT, session_code, custodian_id, share_index)


def wrap_share(
    text: str, key: bytes, *, session_code: str, custodian_id: int, share_index: int
) -> bytes:
    """``text`` (a share file) encrypted for storage until its custodian takes it."""
    nonce = os.urandom(NONCE_BYTES)
    aad = _aad(session_code, custodian_id, share_index)
    return nonce + AESGCM(key).encrypt(nonce, text.encode("utf-8"), aad)


def unwrap_share(
    blob: bytes, key: bytes, *, session_code: str, custodian_id: int, share_index: int
) -> str:
    """The share file's text; BadShare if the server's secret changed or the row was moved."""
    aad = _aad(session_code, custodian_id, share_index)
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad).decode("utf-8")
    except (InvalidTag, ValueError):
        raise BadShare(
            "the share kept for you does not open: the server's secret key changed since the "
            "key was made, or the stored share was altered; ask the office to make a new key"
        ) from None
