"""An examiner's one-time invitation (issue 12, item 9; R16) attacked: it is good once,
even when two uses arrive together, and it dies with every other way into the account
when an admin resets the password or disables the account."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from marking.people.accounts import add_user, get_account, set_active, set_password
from marking.people.invitations import InvitationRefused, accept_invitation, invite
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import Account, Role
from tests.conftest import FreshDatabase
from tests.integration.test_correction_race import _race


def _invited(db: Session, username: str) -> str:
    add_user(db, "office-a", role=Role.OFFICE, password="office-password-1")
    # Examiner accounts come from `examiners import`; the row is what it makes.
    db.add(Account(username=username, name=username, role=Role.EXAMINER))
    db.flush()
    _made, token = invite(db, office=get_account(db, "office-a"), username=username)
    return token


def test_an_admins_password_reset_voids_the_open_invitation(db: Session) -> None:
    """A link sent before the admin reset the password (a leaked link, a thief) cannot set
    it again afterwards; nor does re-enabling a disabled account revive one."""
    token = _invited(db, "e-reset")
    set_password(db, "e-reset", "admin-reset-password", actor="admin")
    with pytest.raises(InvitationRefused) as refused:
        accept_invitation(db, token=token, password="thief-password-1")
    assert refused.value.code == "invitation_voided"

    _made, again = invite(db, office=get_account(db, "office-a"), username="e-reset")
    set_active(db, "e-reset", False, actor="admin")
    set_active(db, "e-reset", True, actor="admin")
    with pytest.raises(InvitationRefused) as revived:
        accept_invitation(db, token=again, password="thief-password-1")
    assert revived.value.code == "invitation_voided"


def test_two_uses_of_one_link_at_once_set_one_password(tmp_path: Path) -> None:
    """Two browsers posting the same link together: one sets the password, the other is
    told the link was used (R16: good once)."""
    database = FreshDatabase(tmp_path)
    try:
        schema.upgrade(database.engine)
        with transaction(database.engine) as db:
            token = _invited(db, "e-race")
        results = _race(
            database,
            "",
            lambda db: accept_invitation(db, token=token, password="first-browser-pw"),
            lambda db: accept_invitation(db, token=token, password="second-browser-pw"),
        )
        assert not isinstance(results["first"], BaseException), results
        assert isinstance(results["second"], InvitationRefused), results
        assert results["second"].code == "invitation_used"
    finally:
        database.drop()
