"""Four eyes on accounts: what an admin does in the browser or the API to an account with
power over publication, or over a session's key, waits for a second admin.

A director approves publication and the office publishes (R16); an admin makes both. So
making a director, office or admin account (creating one, or giving an account that role),
taking that role away (demoting), disabling another admin, and setting the password of a
director, office or admin account or of a custodian whose key share still waits for
download (marking/setup/custody.py) is a request, recorded as pending, and only a different
admin, who is not its subject, carries it out (or rejects it). Whether a change needs a
second admin is decided on the role the account holds before the change, so demoting
first cannot make a password change immediate. Otherwise one admin could make a second
admin (or take one over with a new password) and approve their own request, make a
director and an office account and publish alone, lock every other admin out, or take
over k custodians and collect k shares. A request is approved only if the account's role
and password are still what they were when it was made: the second admin decides on the
account as it is. Everything else an admin does (a lead account, disabling a non-admin,
enabling, a password of a lead or examiner who holds no waiting share) happens at once.
The command line (`blindmark user add`, `user passwd`) stays the operator's tool for
setting up and calls marking.people.accounts directly; either way every change is in the
account ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import (
    add_user,
    get_account,
    hash_password,
    record,
    set_active,
    set_password,
    set_role,
    store_password_hash,
    username_free,
)
from marking.setup.custody import waiting_shares
from marking.store.models import (
    Account,
    AccountChange,
    AccountDecision,
    AccountLedgerEntry,
    AccountRequest,
    Role,
    utcnow,
)

#: Roles that publish, approve publication (or, for the guidance centre, a collective
#: violation decision, R13), or make accounts: granted by two admins.
GUARDED = (Role.DIRECTOR, Role.OFFICE, Role.ADMIN, Role.CENTRE)
#: The account ledger's kinds that change what a decided request is about.
SUBJECT_CHANGES = ("password_set", "role_changed")
#: The account ledger's kinds shown beside a request: what happened to its subject since.
RECENT_CHANGES = (*SUBJECT_CHANGES, "account_disabled", "account_enabled")


@dataclass
class Outcome:
    """What an admin's action did: the account as it is now (None while a creation waits),
    and the requests it left for a second admin."""

    account: Account | None
    pending: list[AccountRequest]


def _admin(admin: Account) -> None:
    if admin.role is not Role.ADMIN or not admin.active:
        raise MarkingError("account changes need an active admin account")


def _no_open_request(
    db: Session, username: str, change: AccountChange, *, disable: bool = False
) -> None:
    # A role request without a role disables: it and a role change may wait side by side.
    role = AccountRequest.role.is_(None) if disable else AccountRequest.role.is_not(None)
    open_request = db.scalar(
        select(AccountRequest.id).where(
            func.lower(AccountRequest.username) == username.lower(),
            AccountRequest.change == change,
            AccountRequest.decision.is_(None),
            role if change is AccountChange.ROLE else AccountRequest.id.is_not(None),
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
    _no_open_request(db, username, change, disable=change is AccountChange.ROLE and role is None)
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

    Raises MarkingError for a malformed username, a short password or an examiner role,
    UsernameTaken for a taken one (or one differing from a taken one only in case),
    StateError when a request for that username is already open."""
    _admin(admin)
    if role not in GUARDED:
        made = add_user(
            db, username, role=role, name=name or None, password=password, actor=admin.username
        )
        return Outcome(made, [])
    username_free(db, username)
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

    Decided on the role the account holds before this call: giving or taking away a guarded
    role, disabling another admin, and a new password for another account that holds a
    guarded role or a key share waiting for download become requests; the rest is done at
    once. Raises NotFound for an unknown account, MarkingError for an examiner role or a
    short password, StateError when such a request is already open."""
    _admin(admin)
    account = get_account(db, username)
    before = account.role
    other = account.id != admin.id
    guarded = before in GUARDED
    pending: list[AccountRequest] = []
    if active is False and before is Role.ADMIN and other and account.active:
        # Disabling other accounts only removes power; disabling every other admin would
        # leave nobody to approve anything.
        pending.append(_request(db, admin, username, AccountChange.ROLE, role=None))
    elif active is not None:
        set_active(db, username, active, actor=admin.username)
    if role is not None and role is not before:
        if (role in GUARDED or guarded) and before is not Role.EXAMINER:
            pending.append(_request(db, admin, username, AccountChange.ROLE, role=role))
        else:
            set_role(db, username, role, actor=admin.username)  # refuses examiner roles
    if password:
        if other and (guarded or waiting_shares(db, account)):
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
    changed = changes_since(db, request)
    if approve and any(kind in SUBJECT_CHANGES for kind in changed):
        raise StateError(
            f"{request.username!r} had its password or role changed after request "
            f"{request_id} was made; reject it, and have a new one made if it is still wanted"
        )
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
    elif request.change is AccountChange.ROLE and request.role is None:
        set_active(db, request.username, False, actor=admin.username)
    elif request.change is AccountChange.ROLE:
        assert request.role is not None
        set_role(db, request.username, request.role, actor=admin.username, request=request.id)
    else:
        assert password_hash is not None
        store_password_hash(
            db, request.username, password_hash, actor=admin.username, request=request.id
        )


def changes_since(db: Session, request: AccountRequest) -> list[str]:
    """What happened to the request's account after the request was made (account ledger
    kinds, oldest first): a second admin decides on the account as it is now."""
    if request.change is AccountChange.CREATE:
        return []
    # Account changes are rare: reading the few entries of these kinds is cheap.
    entries = db.scalars(
        select(AccountLedgerEntry)
        .where(AccountLedgerEntry.kind.in_(("account_requested", *RECENT_CHANGES)))
        .order_by(AccountLedgerEntry.seq)
    )
    made = False
    changes: list[str] = []
    for entry in entries:
        if entry.kind == "account_requested":
            made = made or entry.payload.get("request") == request.id
        elif made and entry.payload.get("username") == request.username:
            changes.append(entry.kind)
    return changes


def change_of(request: AccountRequest) -> str:
    """What the request asks, as shown: create, role, password, or disable (a role request
    without a role: the table's kinds stay as they are, no migration)."""
    if request.change is AccountChange.ROLE and request.role is None:
        return "disable"
    return request.change.value


def requester(db: Session, request: AccountRequest) -> str:
    account = db.get(Account, request.requested_by)
    if account is None:  # pragma: no cover - a foreign key keeps it
        raise NotFound(f"request {request.id} has no requester")
    return account.username
