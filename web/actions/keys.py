"""A session's key: made for one custodian, or as shares waiting for each custodian."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymizer.custody import share_wrapping_key
from marking.setup import custody
from marking.setup.sessions import init_keys
from marking.store.models import Account, ExamSession


def keys_init(
    db: Session, exam: ExamSession, account: Account, *, passphrase: str
) -> tuple[str, bytes, str]:
    """Make the session's key for one custodian and hand it over once: the key file is the
    answer to this request and is never stored on the server. The passphrase must be hard
    to guess (WeakPassphrase otherwise, with the estimator's advice)."""
    with tempfile.TemporaryDirectory(prefix="blindmark-keys-") as tmp:
        path = Path(tmp) / f"{exam.code}.key"
        init_keys(db, exam, actor=account.username, key_file=path, passphrase=passphrase)
        return path.name, path.read_bytes(), "application/octet-stream"


def keys_shares(
    db: Session, exam: ExamSession, account: Account, *, custodians: Sequence[str], threshold: int
) -> dict[str, Any]:
    """Make the session's key as shares, one waiting for each named custodian (web custody:
    nobody but the custodian ever receives a share)."""
    states = custody.hand_out_shares(
        db,
        exam,
        actor=account,
        custodians=custodians,
        threshold=threshold,
        wrapping_key=share_wrapping_key(current_app.secret_key or ""),
    )
    return {"custody": "shares", "threshold": threshold, "custodians": custodians_of(states)}


def custodians_of(states: Iterable[custody.CustodianState]) -> list[dict[str, Any]]:
    return [{"name": s.name, "downloaded": s.downloaded} for s in states]


def custodian_list(db: Session, exam: ExamSession) -> list[dict[str, Any]]:
    """Who holds a share of the session's key and who has taken it (names only)."""
    return custodians_of(custody.custodian_states(db, exam))


def custodian_candidates(db: Session) -> list[dict[str, str]]:
    """The accounts that may hold a share: active staff, by name."""
    rows = db.scalars(
        select(Account)
        .where(Account.role.in_(custody.CUSTODIAN_ROLES), Account.active.is_(True))
        .order_by(Account.username)
    )
    return [{"username": a.username, "name": a.name, "role": a.role.value} for a in rows]


def waiting_shares(db: Session, account: Account) -> list[dict[str, Any]]:
    return [dataclasses.asdict(w) for w in custody.waiting_shares(db, account)]


def take_share(db: Session, exam: ExamSession, account: Account) -> tuple[str, bytes]:
    """The account's own share of the session, once; the stored copy is erased (and, on
    SQLite, the write-ahead log folded in after the commit: web/db.py)."""
    name, text = custody.take_share(
        db, exam, account, wrapping_key=share_wrapping_key(current_app.secret_key or "")
    )
    g.scrub_wal = True
    return name, text.encode("utf-8")
