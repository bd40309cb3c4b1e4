"""Accounts: creation, passwords (argon2id), roles, lookup by role; every change recorded in
the account ledger (marking/audit/ledger.py, ``append_account``)."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, UsernameTaken
from marking.store.models import Account, ApiToken, Invitation, Role, WebLogin, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_PASSWORD = 10
# Who changed an account when no person is named: code that sets up (tests, demos, bench).
SYSTEM = "system"
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise MarkingError.coded(
            "password_short", "a password needs at least %(n)d characters", n=MIN_PASSWORD
        )
    return _hasher.hash(password)


def check_password(account: Account, password: str) -> bool:
    if not account.password_hash or not account.active:
        return False
    try:
        return _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def get_account(db: Session, username: str) -> Account:
    account = db.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFound(f"no account {username!r}")
    return account


def username_free(db: Session, username: str) -> None:
    """Refuse a malformed username, a taken one, and one that differs from an existing
    username only in case (``Office`` beside ``office``): two such accounts read as one
    person on every page, and the login throttle and logs would mix them up.

    Raises MarkingError for a malformed name, UsernameTaken for a taken or look-alike one."""
    if not USERNAME.match(username):
        raise MarkingError("a username is 1-64 letters, digits, '.', '_' or '-'")
    existing = db.scalar(
        select(Account.username).where(func.lower(Account.username) == username.lower())
    )
    if existing is not None:
        raise UsernameTaken(username, existing)


def add_user(
    db: Session,
    username: str,
    *,
    role: Role,
    name: str | None = None,
    password: str | None = None,
    actor: str = SYSTEM,
    password_hash: str | None = None,
    request: int | None = None,
) -> Account:
    """Create an office, director, lead or admin account (examiners come from their import).

    ``password_hash`` is a password already hashed (an approved request's); ``request``
    the approved request this creation carries out, for the ledger.
    Raises MarkingError for a malformed username or a short password, UsernameTaken for a
    taken one (or one differing from a taken one only in case).
    """
    if role is Role.EXAMINER:
        raise MarkingError.coded(
            "examiner_via_import", "examiner accounts come from `blindmark examiners import`"
        )
    username_free(db, username)
    account = Account(
        username=username,
        name=name or username,
        role=role,
        password_hash=hash_password(password) if password is not None else password_hash,
    )
    db.add(account)
    db.flush()
    record(
        db,
        "account_created",
        actor,
        username=username,
        role=role.value,
        password=account.password_hash is not None,
        request=request,
    )
    return account


def set_password(db: Session, username: str, password: str, *, actor: str = SYSTEM) -> Account:
    """A new password; it ends every browser login and API token of the account, whoever
    sets it (the admin's page, the API, `blindmark user passwd`)."""
    account = get_account(db, username)
    account.password_hash = hash_password(password)
    end_access(db, account)
    db.flush()
    record(db, "password_set", actor, username=username)
    return account


def end_access(db: Session, account: Account) -> None:
    """End every browser login, revoke every API token and void every open invitation
    of ``account``: whoever held one (a colleague's browser left open, a script, a thief,
    a link sent before an admin reset the password) must log in again."""
    now = utcnow()
    db.execute(
        update(Invitation)
        .where(
            Invitation.account_id == account.id,
            Invitation.used_at.is_(None),
            Invitation.voided_at.is_(None),
        )
        .values(voided_at=now)
    )
    db.execute(
        update(WebLogin)
        .where(WebLogin.account_id == account.id, WebLogin.ended_at.is_(None))
        .values(ended_at=now)
    )
    db.execute(
        update(ApiToken)
        .where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def require_role(db: Session, username: str, *roles: Role, what: str) -> Account:
    """The active account ``username`` if it has one of ``roles``; else a clear refusal."""
    account = get_account(db, username)
    if not account.active:
        raise MarkingError(f"account {username!r} is disabled")
    if account.role not in roles:
        allowed = " or ".join(r.value for r in roles)
        raise MarkingError(
            f"{what} needs a {allowed} account; {username!r} is {account.role.value}"
        )
    return account


# --- recorded changes (the account ledger) ------------------------------------------------------


def record(db: Session, kind: str, actor: str, **details: object) -> None:
    """Write one account change to the account ledger (details without None values)."""
    payload = {k: v for k, v in details.items() if v is not None}
    ledger.append_account(db, kind=kind, actor=actor, payload=payload)


def set_role(
    db: Session, username: str, role: Role, *, actor: str, request: int | None = None
) -> Account:
    """Give an account another role (not examiner: those come from the examiner import).

    Raises MarkingError for an examiner account or role, NotFound for an unknown account."""
    account = get_account(db, username)
    if role is Role.EXAMINER or account.role is Role.EXAMINER:
        raise MarkingError.coded(
            "examiner_via_import", "examiner accounts come from `blindmark examiners import`"
        )
    if account.role is role:
        return account
    before = account.role
    account.role = role
    db.flush()
    record(
        db,
        "role_changed",
        actor,
        username=username,
        role=role.value,
        was=before.value,
        request=request,
    )
    return account


def set_active(db: Session, username: str, active: bool, *, actor: str) -> Account:
    """Enable or disable an account (recorded only when it changes); disabling ends every
    browser login and API token, so enabling it again revives none of them."""
    account = get_account(db, username)
    if not active:
        end_access(db, account)
    if account.active is not active:
        account.active = active
        db.flush()
        record(db, "account_enabled" if active else "account_disabled", actor, username=username)
    return account


def store_password_hash(
    db: Session, username: str, password_hash: str, *, actor: str, request: int
) -> Account:
    """Set a password already hashed: an approved request's (its plain text is never kept)."""
    account = get_account(db, username)
    account.password_hash = password_hash
    end_access(db, account)
    db.flush()
    record(db, "password_set", actor, username=username, request=request)
    return account


def record_baseline(db: Session, *, actor: str) -> int:
    """Record every account as it stands, once: when the account ledger starts on a
    database that already has accounts (`blindmark init` upgrading it). Returns how many."""
    if ledger.account_head(db) != ledger.GENESIS:
        return 0
    accounts = db.scalars(select(Account).order_by(Account.username)).all()
    if accounts:
        record(
            db,
            "accounts_baseline",
            actor,
            accounts=[
                {"username": a.username, "role": a.role.value, "active": a.active} for a in accounts
            ],
        )
    return len(accounts)
