"""Four eyes on accounts: what an admin does in the browser or the API to an account with
power over publication waits for a second admin.

A director approves publication and the office publishes (R16); an admin makes both. So
making a director, office or admin account (creating one, or giving an account that role)
and setting the password of one is a request, recorded as pending, and only a different
admin, who is not its subject, carries it out (or rejects it). Otherwise one admin could
make a second admin (or take one over with a new password) and approve their own request,
or make a director and an office account and publish alone. Everything else an admin does
(a lead account, disabling, enabling, a password of a lead or examiner) happens at once.
The command line (`blindmark user add`) stays the operator's tool for setting up and
calls marking.accounts directly; either way every change is in the account ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.accounts import (
    USERNAME,
    add_user,
    get_account,
    hash_password,
    record,
    set_active,
    set_password,
    set_role,
    store_password_hash,
)
from marking.errors import MarkingError, NotFound, StateError
from marking.models import (
    Account,
    AccountChange,
    AccountDecision,
    AccountRequest,
    Role,
    utcnow,
)

#: Roles that publish, approve publication, or make accounts: granted by two admins.
GUARDED = (Role.DIRECTOR, Role.OFFICE, Role.ADMIN)


@dataclass
class Outcome:
    """What an admin's action did: the account as it is now (None while a creation waits),
    and the requests it left for a second admin."""

    account: Account | None
    pending: list[AccountRequest]


def _admin(admin: Account) -> None:
    if admin.role is not Role.ADMIN or not admin.active:
        raise MarkingError("account changes need an active admin account")


def _no_open_request(db: Session, username: str, change: AccountChange) -> None:
    open_request = db.scalar(
        select(AccountRequest.id).where(
            AccountRequest.username == username,
            AccountRequest.change == change,
            AccountRequest.decision.is_(None),
        )
    )
    if open_request is not None:
        raise StateError(
            f"request {open_request} for {username!r} already waits for a second admin; "
            "have it approved or rejected first"
        )


def _request(
    db: Session,
    admin: Account,
    username: str,
    change: AccountChange,
    *,
    role: Role | None = None,
    name: str = "",
    password_hash: str | None = None,
) -> AccountRequest:
    _no_open_request(db, username, change)
    request = AccountRequest(
        username=username,
        change=change,
        role=role,
        name=name,
        password_hash=password_hash,
        requested_by=admin.id,
        created_at=utcnow(),
    )
    db.add(request)
    db.flush()
    record(
        db,
        "account_requested",
        admin.username,
        request=request.id,
        username=username,
        change=change.value,
        role=role.value if role else None,
    )
    return request


def create_account(
    db: Session, admin: Account, username: str, *, role: Role, name: str, password: str
) -> Outcome:
    """An admin creates an account: at once for a lead, as a request for a guarded role.

    Raises MarkingError for a malformed or taken username, a short password or an examiner
    role, StateError when a request for that username is already open."""
    _admin(admin)
    if role not in GUARDED:
        made = add_user(
            db, username, role=role, name=name or None, password=password, actor=admin.username
        )
        return Outcome(made, [])
    if not USERNAME.match(username):
        raise MarkingError("a username is 1-64 letters, digits, '.', '_' or '-'")
    if db.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise MarkingError(f"account {username!r} already exists")
    request = _request(
        db,
        admin,
        username,
        AccountChange.CREATE,
        role=role,
        name=name or username,
        password_hash=hash_password(password),
    )
    return Outcome(None, [request])


def update_account(
    db: Session,
    admin: Account,
    username: str,
    *,
    role: Role | None = None,
    password: str | None = None,
    active: bool | None = None,
) -> Outcome:
    """An admin changes an account's role, password or state.

    Giving a guarded role, and a new password for an account holding one (not the admin's
    own), become requests; the rest is done at once. Raises NotFound for an unknown
    account, MarkingError for an examiner role or a short password."""
    _admin(admin)
    account = get_account(db, username)
    pending: list[AccountRequest] = []
    if active is not None:
        set_active(db, username, active, actor=admin.username)
    if role is not None and role is not account.role:
        if role in GUARDED and account.role is not Role.EXAMINER:
            pending.append(_request(db, admin, username, AccountChange.ROLE, role=role))
        else:
            set_role(db, username, role, actor=admin.username)  # refuses examiner roles
    if password:
        if account.role in GUARDED and account.id != admin.id:
            pending.append(
                _request(
                    db,
                    admin,
                    username,
                    AccountChange.PASSWORD,
                    password_hash=hash_password(password),
                )
            )
        else:
            set_password(db, username, password, actor=admin.username)
    return Outcome(account, pending)


def open_requests(db: Session) -> list[AccountRequest]:
    return list(
        db.scalars(
            select(AccountRequest)
            .where(AccountRequest.decision.is_(None))
            .order_by(AccountRequest.id)
        )
    )


def decide(
    db: Session,
    admin: Account,
    request_id: int,
    *,
    approve: bool,
    now: dt.datetime | None = None,
) -> AccountRequest:
    """A second admin approves (carries out) or rejects a request.

    Raises NotFound for an unknown request, StateError for a decided one, MarkingError when
    the admin asked for it or is its subject (four eyes means two other people)."""
    _admin(admin)
    request = db.get(AccountRequest, request_id, with_for_update=True)
    if request is None:
        raise NotFound(f"no account request {request_id}")
    if request.decision is not None:
        raise StateError(f"request {request_id} was already {request.decision.value}")
    if request.requested_by == admin.id:
        raise MarkingError(
            f"request {request_id} is yours: a second admin must approve or reject it"
        )
    if request.username == admin.username:
        raise MarkingError(f"request {request_id} is about your own account: another admin decides")
    request.decision = AccountDecision.APPROVED if approve else AccountDecision.REJECTED
    request.decided_by = admin.id
    request.decided_at = now or utcnow()
    password_hash, request.password_hash = request.password_hash, None
    db.flush()
    record(
        db,
        f"account_request_{request.decision.value}",
        admin.username,
        request=request.id,
        username=request.username,
    )
    if approve:
        _carry_out(db, admin, request, password_hash)
    return request


def _carry_out(
    db: Session, admin: Account, request: AccountRequest, password_hash: str | None
) -> None:
    if request.change is AccountChange.CREATE:
        assert request.role is not None
        add_user(
            db,
            request.username,
            role=request.role,
            name=request.name or None,
            password_hash=password_hash,
            actor=admin.username,
            request=request.id,
        )
    elif request.change is AccountChange.ROLE:
        assert request.role is not None
        set_role(db, request.username, request.role, actor=admin.username, request=request.id)
    else:
        assert password_hash is not None
        store_password_hash(
            db, request.username, password_hash, actor=admin.username, request=request.id
        )


def requester(db: Session, request: AccountRequest) -> str:
    account = db.get(Account, request.requested_by)
    if account is None:  # pragma: no cover - a foreign key keeps it
        raise NotFound(f"request {request.id} has no requester")
    return account.username
