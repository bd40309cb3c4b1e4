"""Accounts: creation, passwords (argon2id), lookup by role."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound
from marking.models import Account, ApiToken, Role, WebLogin, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise MarkingError(f"a password needs at least {MIN_PASSWORD} characters")
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


def add_user(
    db: Session, username: str, *, role: Role, name: str | None = None, password: str | None = None
) -> Account:
    """Create an office, director, lead or admin account (examiners come from their import).

    Raises MarkingError for a malformed or taken username, or a short password.
    """
    if not USERNAME.match(username):
        raise MarkingError("a username is 1-64 letters, digits, '.', '_' or '-'")
    if role is Role.EXAMINER:
        raise MarkingError("examiner accounts come from `blindmark examiners import`")
    if db.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise MarkingError(f"account {username!r} already exists")
    account = Account(
        username=username,
        name=name or username,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
    )
    db.add(account)
    db.flush()
    return account


def set_password(db: Session, username: str, password: str) -> Account:
    """A new password; it ends every browser login and API token of the account, whoever
    sets it (the admin's page, the API, `blindmark user passwd`)."""
    account = get_account(db, username)
    account.password_hash = hash_password(password)
    end_access(db, account)
    db.flush()
    return account


def set_active(db: Session, username: str, active: bool) -> Account:
    """Enable or disable an account; disabling ends every browser login and API token, so
    enabling it again revives none of them."""
    account = get_account(db, username)
    account.active = active
    if not active:
        end_access(db, account)
    db.flush()
    return account


def end_access(db: Session, account: Account) -> None:
    """End every browser login and revoke every API token of ``account``: whoever held one
    (a colleague's browser left open, a script, a thief) must log in again."""
    now = utcnow()
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
