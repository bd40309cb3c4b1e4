"""The admins' actions: accounts made and changed, and the requests a second admin decides."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.people import account_requests
from marking.store.models import Account, AccountRequest, Role
from web.actions.common import plain


def account_dict(a: Account) -> dict[str, Any]:
    return {
        "username": a.username,
        "name": a.name,
        "role": a.role.value,
        "active": a.active,
        "created_at": a.created_at.isoformat(),
    }


def accounts(db: Session) -> list[dict[str, Any]]:
    return [account_dict(a) for a in db.scalars(select(Account).order_by(Account.username))]


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise MarkingError(
            f"role {role!r} is not one of office, director, lead, admin, centre"
        ) from None


def add_account(
    db: Session, admin: Account, username: str, role: str, name: str, password: str
) -> dict[str, Any]:
    """A lead account at once; a director, office or admin account as a request that a
    second admin approves (marking/people/account_requests.py). ``pending`` says which."""
    done = account_requests.create_account(
        db, admin, username, role=_role(role), name=name, password=password
    )
    if done.account is None:
        return {**request_dict(db, done.pending[0]), "pending": True}
    return {**account_dict(done.account), "pending": False}


def update_account(
    db: Session,
    admin: Account,
    username: str,
    *,
    password: str | None,
    active: bool | None,
    role: str | None = None,
) -> dict[str, Any]:
    """Changes done at once, and the requests left for a second admin (``pending``)."""
    done = account_requests.update_account(
        db,
        admin,
        username,
        role=_role(role) if role else None,
        password=password or None,
        active=active,
    )
    account = done.account
    assert account is not None
    # The engine ends every login and token when a password or a disabling takes effect.
    return {**account_dict(account), "pending": [request_dict(db, r) for r in done.pending]}


def request_dict(db: Session, r: AccountRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "username": r.username,
        "change": account_requests.change_of(r),
        "role": r.role.value if r.role else None,
        "name": r.name,
        "requested_by": account_requests.requester(db, r),
        "requested_at": plain(r.created_at),
        "decision": r.decision.value if r.decision else None,
        # What happened to the account since: the second admin decides on it as it is.
        "changed_since": account_requests.changes_since(db, r),
    }


def account_requests_open(db: Session) -> list[dict[str, Any]]:
    return [request_dict(db, r) for r in account_requests.open_requests(db)]


def decide_account_request(
    db: Session, admin: Account, request_id: int, *, approve: bool
) -> dict[str, Any]:
    request = account_requests.decide(db, admin, request_id, approve=approve)
    return request_dict(db, request)
