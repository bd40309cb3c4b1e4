"""Examiners' passwords set by the office, and one-time invitations to set their own.

The office runs the examiners (it imports them, assigns them); an examiner who forgot a
password, or a new one who never had one, should not wait for an admin. So the office may
set an examiner's password, or make a one-time invitation link the examiner opens to set
their own. Examiner accounts only: a director, office, lead or admin account has power
over publication or a key, and its password stays with the admins' four eyes
(marking/people/account_requests.py).

An invitation is a random token given once; only its SHA-256 is stored. It is good for
``INVITATION_DAYS``, once, and only while it is the account's latest: a new invitation, or
a password the office sets, voids the open ones. Every step is in the account ledger.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.people.accounts import get_account, record, set_password
from marking.store.models import Account, Invitation, Role, utcnow

INVITATION_DAYS = 7


class InvitationRefused(MarkingError):
    """An invitation link that cannot be used: unknown, used, replaced or expired
    (``code`` says which)."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _office(office: Account) -> None:
    if office.role is not Role.OFFICE or not office.active:
        raise MarkingError.coded("access_not_office", "only an active office account does this")


def examiner_account(db: Session, username: str) -> Account:
    """The examiner account ``username``. Raises NotFound for no account, MarkingError
    (coded) for an account of another role: its password is the admins' (four eyes)."""
    account = get_account(db, username)
    if account.role is not Role.EXAMINER:
        raise MarkingError.coded(
            "access_not_examiner",
            "%(user)s is not an examiner account: the admins set the passwords of other "
            "accounts (four eyes)",
            user=username,
        )
    return account


def _void_open(db: Session, account: Account, now: dt.datetime) -> int:
    """Void the account's invitations still open; how many."""
    result = db.execute(
        update(Invitation)
        .where(
            Invitation.account_id == account.id,
            Invitation.used_at.is_(None),
            Invitation.voided_at.is_(None),
        )
        .values(voided_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_examiner_password(
    db: Session, *, office: Account, username: str, password: str, now: dt.datetime | None = None
) -> Account:
    """The office sets an examiner's password: every login and token of the account ends,
    and its open invitations are void. Raises MarkingError (coded) for a non-office actor,
    a non-examiner account or a short password; NotFound for an unknown account."""
    _office(office)
    account = examiner_account(db, username)
    set_password(db, username, password, actor=office.username)
    _void_open(db, account, now or utcnow())
    return account


def invite(
    db: Session,
    *,
    office: Account,
    username: str,
    now: dt.datetime | None = None,
    days: int = INVITATION_DAYS,
) -> tuple[Invitation, str]:
    """A new one-time invitation for an examiner, voiding the ones before it: the record
    and the token (given once, never stored). Raises as ``set_examiner_password``, and
    MarkingError (coded) for a disabled account."""
    _office(office)
    account = examiner_account(db, username)
    if not account.active:
        raise MarkingError.coded(
            "access_disabled",
            "account %(user)s is disabled: an admin enables it first",
            user=username,
        )
    now = now or utcnow()
    voided = _void_open(db, account, now)
    token = secrets.token_urlsafe(32)
    made = Invitation(
        account_id=account.id,
        token_sha256=token_digest(token),
        created_by=office.username,
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    db.add(made)
    db.flush()
    record(
        db,
        "invitation_made",
        office.username,
        username=username,
        expires_at=made.expires_at.isoformat(),
        voided=voided or None,
    )
    return made, token


def open_invitation(db: Session, token: str, *, now: dt.datetime | None = None) -> Invitation:
    """The invitation behind ``token`` if it can still be used. Raises InvitationRefused
    with code ``invitation_unknown``, ``invitation_used``, ``invitation_voided`` or
    ``invitation_expired``."""
    found = db.scalar(select(Invitation).where(Invitation.token_sha256 == token_digest(token)))
    account = db.get(Account, found.account_id) if found is not None else None
    if found is None or account is None or account.role is not Role.EXAMINER:
        raise InvitationRefused.coded("invitation_unknown", "this invitation link is not valid")
    if found.used_at is not None:
        raise InvitationRefused.coded("invitation_used", "this invitation link was used already")
    if found.voided_at is not None or not account.active:
        raise InvitationRefused.coded(
            "invitation_voided", "this invitation link was replaced by a newer one"
        )
    if (now or utcnow()) >= found.expires_at:
        raise InvitationRefused.coded("invitation_expired", "this invitation link has expired")
    return found


def accept_invitation(
    db: Session, *, token: str, password: str, now: dt.datetime | None = None
) -> Account:
    """The examiner sets their own password through an invitation, which is then used up.
    Raises InvitationRefused as ``open_invitation``, MarkingError (coded) for a short
    password (the invitation stays open once the caller rolls back, as on every refusal)."""
    now = now or utcnow()
    found = open_invitation(db, token, now=now)
    account = db.get_one(Account, found.account_id)
    # Used up by one conditional statement: a second use of the same link at the same time
    # waits for this one's row lock and then finds it used (PostgreSQL re-reads the row).
    taken = db.execute(
        update(Invitation)
        .where(
            Invitation.id == found.id,
            Invitation.used_at.is_(None),
            Invitation.voided_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not getattr(taken, "rowcount", 0):
        raise InvitationRefused.coded("invitation_used", "this invitation link was used already")
    db.refresh(found)
    set_password(db, account.username, password, actor=account.username)
    record(db, "invitation_used", account.username, username=account.username)
    return account


def access_state(
    db: Session, account: Account, *, now: dt.datetime | None = None
) -> dict[str, object]:
    """What the office sees of an examiner's access: a password set or not, and the open
    invitation if any (who made it, until when). Never a token or a hash."""
    now = now or utcnow()
    latest = db.scalar(
        select(Invitation)
        .where(Invitation.account_id == account.id)
        .order_by(Invitation.id.desc())
        .limit(1)
    )
    state = None
    if latest is not None:
        state = (
            "used"
            if latest.used_at is not None
            else "voided"
            if latest.voided_at is not None
            else "expired"
            if now >= latest.expires_at
            else "open"
        )
    return {
        "username": account.username,
        "name": account.name,
        "active": account.active,
        "has_password": account.password_hash is not None,
        "invitation": None
        if latest is None
        else {
            "state": state,
            "created_by": latest.created_by,
            "created_at": latest.created_at,
            "expires_at": latest.expires_at,
        },
    }
