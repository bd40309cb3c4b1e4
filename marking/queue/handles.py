"""Opaque handles: how examiners and leads address responses and anomalies, never by row id.

Row ids are sequential. Shown to an examiner or a lead they link what blindness must keep
apart: a one-candidate batch's theory and skills responses get neighbouring ids just above
the previous batch, so anyone who sees both knows they are one person's (DESIGN §3).

A handle is one AES block, encrypted under a random key of the session (``handle_key``,
made with the session and stored with it), over (kind, session id, row id), written in
Crockford's base32. AES under a secret key is a pseudorandom permutation of 128-bit blocks:
handles of neighbouring ids look unrelated, their order says nothing, and without the key
no one can make one. Chosen over a random handle stored per row because nothing is stored:
no column and no index on the response table (5.8 million rows for a large session), no
write at intake. Decoding is the inverse permutation and a check of the kind and session
inside the block, so a handle of another session, of an anomaly where a response is
expected, or a forged one simply does not decode: the caller answers 404 and stores
nothing. (This inverts a permutation of ids; it has nothing to do with the sealed
identities, which only ``anonymizer.unseal`` can open.)
"""

from __future__ import annotations

import enum
import secrets
from functools import lru_cache
from typing import Protocol

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from marking.errors import NotFound

#: Row ids from here on name no row (sequences never reach them): a handle over one is
#: well-formed and leads nowhere.
NO_ROW = 1 << 62
KEY_BYTES = 16  # AES-128: the block is what matters here, not a long-term secret
# Crockford's base32, as script codes: no I, L, O, U, so a handle read aloud is unambiguous.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 26  # 128 bits in 5-bit digits (the top two bits of the first are zero)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class HandleKeyed(Protocol):
    """A session as handles need it (``marking.store.models.ExamSession``)."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def handle_key(self) -> bytes: ...


class Kind(enum.Enum):
    """What a handle addresses; part of the block, so one kind never decodes as another."""

    RESPONSE = 1
    ANOMALY = 2
    # A check (qualification, seed, 回评: ``marking.quality.checks``): the same format as a
    # response's, so an examiner cannot tell a check in their batch from live work.
    CHECK = 3


def new_key() -> bytes:
    """A session's handle key: random, made once with the session."""
    return secrets.token_bytes(KEY_BYTES)


@lru_cache(maxsize=256)
def _cipher(key: bytes) -> Cipher[modes.ECB]:
    # ECB on a single block is the block cipher itself: the permutation we want.
    return Cipher(algorithms.AES(key), modes.ECB())


def _block(kind: Kind, session_id: int, object_id: int) -> bytes:
    return (
        kind.value.to_bytes(1, "big") + session_id.to_bytes(7, "big") + object_id.to_bytes(8, "big")
    )


def encode(key: bytes, kind: Kind, session_id: int, object_id: int) -> str:
    number = int.from_bytes(_cipher(key).encryptor().update(_block(kind, session_id, object_id)))
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def decode(key: bytes, kind: Kind, session_id: int, handle: str) -> int | None:
    """The row id inside ``handle``, or None when it is not a handle of this kind and session."""
    text = handle.strip().upper()
    if len(text) != LENGTH or any(c not in _VALUE for c in text):
        return None
    number = 0
    for c in text:
        number = number << 5 | _VALUE[c]
    if number >> 128:
        return None
    plain = _cipher(key).decryptor().update(number.to_bytes(16, "big"))
    if plain[:8] != _block(kind, session_id, 0)[:8]:
        return None
    return int.from_bytes(plain[8:])


def response_handle(exam: HandleKeyed, response_id: int) -> str:
    return encode(exam.handle_key, Kind.RESPONSE, exam.id, response_id)


def anomaly_handle(exam: HandleKeyed, anomaly_id: int) -> str:
    return encode(exam.handle_key, Kind.ANOMALY, exam.id, anomaly_id)


def check_handle(exam: HandleKeyed, check_id: int) -> str:
    return encode(exam.handle_key, Kind.CHECK, exam.id, check_id)


def target(exam: HandleKeyed, handle: str) -> tuple[Kind, int]:
    """What an examiner's handle names in this session: a response or a check (the marking
    screen sends both alike); NotFound for anything else."""
    for kind in (Kind.RESPONSE, Kind.CHECK):
        found = decode(exam.handle_key, kind, exam.id, handle)
        if found is not None:
            return kind, found
    raise NotFound(f"no response {handle[:32]!r} in session {exam.code}")


def response_id(exam: HandleKeyed, handle: str) -> int:
    """The response a handle names in this session; NotFound for anything else."""
    found = decode(exam.handle_key, Kind.RESPONSE, exam.id, handle)
    if found is None:
        raise NotFound(f"no response {handle[:32]!r} in session {exam.code}")
    return found


def anomaly_id(exam: HandleKeyed, handle: str) -> int:
    """The anomaly report a handle names in this session; NotFound for anything else."""
    found = decode(exam.handle_key, Kind.ANOMALY, exam.id, handle)
    if found is None:
        raise NotFound(f"no anomaly report {handle[:32]!r} in session {exam.code}")
    return found
