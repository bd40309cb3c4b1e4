"""The engine's rule for account access (issue 9, item 11): whatever path sets a password
or disables an account (the admin's page, the API, `blindmark user passwd`) ends every
browser login and API token of it."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from marking.people.accounts import add_user, set_active, set_password
from marking.store.models import Account, ApiToken, Role, WebLogin, utcnow


def access(db: Session, account: Account) -> tuple[WebLogin, ApiToken]:
    """A browser login and an API token of ``account``, as the web makes them."""
    now = utcnow()
    login = WebLogin(
        account_id=account.id, token_sha256=secrets.token_hex(32), created_at=now, last_seen_at=now
    )
    token = ApiToken(account_id=account.id, name="script", token_sha256=secrets.token_hex(32))
    db.add_all([login, token])
    db.flush()
    return login, token


def test_every_path_that_sets_a_password_or_disables_ends_logins_and_tokens(
    db: Session,
) -> None:
    keeper = add_user(db, "keeper", role=Role.OFFICE, password="a fine long password")
    login, token = access(db, keeper)
    set_password(db, "keeper", "another fine password")
    db.refresh(login)
    db.refresh(token)
    assert login.ended_at is not None and token.revoked_at is not None

    login, token = access(db, keeper)
    set_active(db, "keeper", False, actor="admin")
    set_active(db, "keeper", True, actor="admin")  # enabling again revives nothing
    db.refresh(login)
    db.refresh(token)
    assert login.ended_at is not None and token.revoked_at is not None
