"""k-of-n key custody in the browser: each custodian takes their own share, once.

The office names n distinct custodian accounts; the server makes the session's key pair,
splits the private key into n shares (any k rebuild it), keeps each share wrapped under a
key the database does not hold (``anonymizer.custody``) and drops the private key. Each
custodian downloads their own share from their account page; the wrapped copy is then
deleted. Nobody is ever handed more than one share, so no one person can rebuild the key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from anonymizer.custody import unwrap_share, wrap_share
from anonymizer.keys import split_into_shares
from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import require_role
from marking.setup.sessions import new_key_pair, record_keys
from marking.store.models import (
    Account,
    Custody,
    CustodyShare,
    ExamSession,
    KeyCustodian,
    Role,
    utcnow,
)

#: Who may hold a share: staff accounts (not examiners, who mark blind).
CUSTODIAN_ROLES = (Role.OFFICE, Role.DIRECTOR, Role.LEAD, Role.ADMIN)


@dataclass(frozen=True)
class CustodianState:
    """A custodian as the office sees them: a name, and whether they took their share."""

    name: str
    downloaded: bool


@dataclass(frozen=True)
class WaitingShare:
    """A share waiting for its custodian."""

    session: str
    share: int
    of: int


def hand_out_shares(
    db: Session,
    exam: ExamSession,
    *,
    actor: Account,
    custodians: Sequence[str],
    threshold: int,
    wrapping_key: bytes,
) -> list[CustodianState]:
    """Make the session's key as ``len(custodians)`` shares, ``threshold`` of which rebuild it,
    each kept wrapped for its custodian (usernames, in share order) until they take it.

    Raises MarkingError for a custodian named twice, unknown, disabled or not staff,
    InvalidSharing for an impossible k of n, StateError if the session has a key already.
    """
    names = [c.strip() for c in custodians if c.strip()]
    if len(names) < 2:
        raise MarkingError.coded(
            "custodians_too_few",
            "name at least two custodians, one account each; "
            "for one custodian make a key file instead",
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise MarkingError.coded(
            "custodian_twice",
            "each custodian holds one share: %(users)s named twice",
            users=", ".join(twice),
        )
    accounts = [
        require_role(db, name, *CUSTODIAN_ROLES, what="holding a key share") for name in names
    ]
    private, public = new_key_pair(exam)
    texts = split_into_shares(
        private, custodians=len(accounts), threshold=threshold, session_code=exam.code
    )
    del private
    exam.custody, exam.custodians, exam.threshold = Custody.SHARES, len(accounts), threshold
    holders = [
        KeyCustodian(session_id=exam.id, account_id=a.id, share_index=i)
        for i, a in enumerate(accounts, start=1)
    ]
    db.add_all(holders)
    db.flush()
    for holder, text in zip(holders, texts, strict=True):
        wrapped = wrap_share(text, wrapping_key, **_binding(exam, holder))
        db.add(CustodyShare(custodian_id=holder.id, wrapped=wrapped))
    record_keys(db, exam, public, actor=actor.username, holders=names)
    return custodian_states(db, exam)


def _binding(exam: ExamSession, holder: KeyCustodian) -> dict[str, Any]:
    """What a wrapped share is bound to: it opens only in its own session, custodian and
    position."""
    return {
        "session_code": exam.code,
        "custodian_id": holder.id,
        "share_index": holder.share_index,
    }


def custodian_states(db: Session, exam: ExamSession) -> list[CustodianState]:
    """The session's custodians in share order, by name, and who has taken their share."""
    rows = db.execute(
        select(Account.name, KeyCustodian.downloaded_at)
        .join(Account, Account.id == KeyCustodian.account_id)
        .where(KeyCustodian.session_id == exam.id)
        .order_by(KeyCustodian.share_index)
    ).all()
    return [CustodianState(name, at is not None) for name, at in rows]


def waiting_shares(db: Session, account: Account) -> list[WaitingShare]:
    """The shares waiting for ``account`` to take them."""
    rows = db.execute(
        select(ExamSession.code, KeyCustodian.share_index, ExamSession.custodians)
        .join(KeyCustodian, KeyCustodian.session_id == ExamSession.id)
        .join(CustodyShare, CustodyShare.custodian_id == KeyCustodian.id)
        .where(KeyCustodian.account_id == account.id)
        .order_by(ExamSession.code)
    ).all()
    return [WaitingShare(code, index, of or 0) for code, index, of in rows]


def take_share(
    db: Session, exam: ExamSession, account: Account, *, wrapping_key: bytes
) -> tuple[str, str]:
    """Hand ``account`` its share of ``exam`` (file name, text) and erase the stored copy.

    Raises NotFound if the account holds no share of the session, StateError if it took
    it already, BadShare if the stored share does not open.
    """
    holder = db.scalar(
        select(KeyCustodian).where(
            KeyCustodian.session_id == exam.id, KeyCustodian.account_id == account.id
        )
    )
    if holder is None:
        raise NotFound.coded(
            "share_none", "you hold no share of session %(session)s", session=exam.code
        )
    wrapped = db.scalar(select(CustodyShare.wrapped).where(CustodyShare.custodian_id == holder.id))
    text = None
    if wrapped is not None:
        text = unwrap_share(wrapped, wrapping_key, **_binding(exam, holder))
        # The delete decides: of two downloads at once, only one deletes the row.
        wrapped = db.scalar(
            delete(CustodyShare)
            .where(CustodyShare.custodian_id == holder.id)
            .returning(CustodyShare.wrapped)
        )
    if wrapped is None or text is None:
        taken = (holder.downloaded_at or utcnow()).astimezone(exam.zone)
        raise StateError.coded(
            "share_taken",
            "you downloaded your share of session %(session)s on %(time)s; "
            "the server keeps no copy. If it is lost, tell the office",
            session=exam.code,
            time=f"{taken:%Y-%m-%d %H:%M}",
        )
    holder.downloaded_at = utcnow()
    db.flush()
    ledger.append(
        db,
        exam,
        kind="share_taken",
        actor=account.username,
        payload={"share": holder.share_index, "of": exam.custodians},
    )
    return f"{exam.code}-share-{holder.share_index}-of-{exam.custodians}.txt", text
