"""Usernames that differ only in case (issue 9, items 12 and 14 follow-up): ``Office``
beside ``office`` reads as one person on every page and shares a login throttle, so no
path makes one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from marking.audit.verify import verify_accounts
from marking.errors import InputErrors, MarkingError
from marking.people.account_requests import create_account
from marking.people.accounts import add_user
from marking.store.models import Role
from tests.integration.factory import add_examiners


def test_no_account_is_made_beside_one_differing_only_in_case(db: Session, tmp_path: Path) -> None:
    add_user(db, "office", role=Role.OFFICE)
    admin = add_user(db, "admin", role=Role.ADMIN)
    with pytest.raises(MarkingError, match="only in case"):
        add_user(db, "Office", role=Role.LEAD, password="a fine long password")
    with pytest.raises(MarkingError, match="only in case"):
        create_account(db, admin, "OFFICE", role=Role.LEAD, name="", password="a long password")
    with pytest.raises(MarkingError, match="only in case"):
        create_account(db, admin, "Admin", role=Role.ADMIN, name="", password="a long password")

    add_examiners(db, tmp_path, "e1")
    with pytest.raises(InputErrors, match="only in case"):
        add_examiners(db, tmp_path / "again", "E1")
    with pytest.raises(InputErrors, match="only in case"):
        add_examiners(db, tmp_path / "office", "Office")
    assert verify_accounts(db).ok
