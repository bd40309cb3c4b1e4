"""Account changes in the account ledger, checked by `blindmark verify --accounts`; and four
eyes on accounts with power over publication (issue 9 item 14)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from click.testing import Result
from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from marking.audit.ledger import account_entries
from marking.audit.verify import verify_accounts
from marking.demo import synthetic
from marking.errors import MarkingError, NotFound, StateError
from marking.people.account_requests import create_account, decide, update_account
from marking.people.accounts import add_user, check_password, get_account
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import (
    Account,
    AccountDecision,
    AccountLedgerEntry,
    AccountRequest,
    Role,
)
from tests.conftest import FreshDatabase
from tests.integration import factory as f

PASSWORD = "a-good-password-1"


def cli(database: FreshDatabase, *args: object, stdin: str | None = None) -> Result:
    return f.run_cli(database.url, *args, stdin=stdin)


def test_account_changes_are_in_the_account_ledger_and_verify_catches_a_direct_edit(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    assert cli(fresh_db, "init").exit_code == 0
    add = ("user", "add", "dir1", "--role", "director", "--password-stdin")
    made = cli(fresh_db, *add, stdin=f"{PASSWORD}\n")
    assert made.exit_code == 0, made.output  # the operator's tool: no second admin needed
    assert cli(fresh_db, "user", "add", "lead1", "--role", "lead").exit_code == 0
    passwd = cli(fresh_db, "user", "passwd", "lead1", "--password-stdin", stdin=f"{PASSWORD}\n")
    assert passwd.exit_code == 0
    synthetic.examiners_csv(tmp_path / "examiners.csv", count=2, seed=3)
    assert cli(fresh_db, "examiners", "import", tmp_path / "examiners.csv").exit_code == 0

    with transaction(fresh_db.engine) as db:
        recorded = [(e.kind, e.payload.get("username")) for e in account_entries(db)]
        actors = {e.actor for e in account_entries(db)}
    assert recorded == [
        ("account_created", "dir1"),
        ("account_created", "lead1"),
        ("password_set", "lead1"),
        ("examiners_created", None),
    ]
    assert all(actor.startswith("cli:") for actor in actors)
    checked = cli(fresh_db, "verify", "--accounts")
    assert checked.exit_code == 0, checked.output
    assert "4 account ledger entries" in checked.output
    assert "account ledger intact" in checked.output

    # A role given by writing to the table, past the ledger (and past a second admin).
    with transaction(fresh_db.engine) as db:
        db.execute(update(Account).where(Account.username == "lead1").values(role=Role.DIRECTOR))
        db.execute(insert(Account).values(username="ghost", name="ghost", role=Role.ADMIN))
    broken = cli(fresh_db, "verify", "--accounts")
    assert broken.exit_code == 7
    assert (
        "BROKEN: account 'lead1': the database holds role director, active, "
        "the ledger recorded role lead, active"
    ) in broken.output
    assert "BROKEN: account 'ghost' is in the database but not in the ledger" in broken.output

    # The ledger itself edited: the chain names the entry.
    with transaction(fresh_db.engine) as db:
        db.execute(update(Account).where(Account.username == "lead1").values(role=Role.LEAD))
        db.execute(text("DELETE FROM account WHERE username = 'ghost'"))
        first = db.scalars(select(AccountLedgerEntry).where(AccountLedgerEntry.seq == 1)).one()
        db.execute(
            update(AccountLedgerEntry)
            .where(AccountLedgerEntry.id == first.id)
            .values(payload={**first.payload, "role": "lead"})
        )
    tampered = cli(fresh_db, "verify", "--accounts")
    assert tampered.exit_code == 7
    assert (
        f"account ledger chain broken at lane 'accounts', seq 1 (entry {first.id}): "
        "its content was changed after it was written"
    ) in tampered.output


def test_init_records_the_accounts_of_an_older_database_once(fresh_db: FreshDatabase) -> None:
    cfg = schema.alembic_config()
    with fresh_db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")  # before the account ledger
        conn.execute(insert(Account).values(username="old-office", name="o", role=Role.OFFICE))

    first = cli(fresh_db, "init")
    assert first.exit_code == 0, first.output
    assert "account ledger started with the 1 existing account(s)" in first.output
    again = cli(fresh_db, "init")
    assert again.exit_code == 0 and "account ledger started" not in again.output
    assert cli(fresh_db, "verify", "--accounts").exit_code == 0


def test_a_director_office_or_admin_account_needs_a_second_admin(db: Session) -> None:
    a1 = add_user(db, "adm1", role=Role.ADMIN)
    a2 = add_user(db, "adm2", role=Role.ADMIN)

    asked = create_account(db, a1, "dir9", role=Role.DIRECTOR, name="主任九", password=PASSWORD)
    assert asked.account is None
    [request] = asked.pending
    with pytest.raises(NotFound):
        get_account(db, "dir9")
    with pytest.raises(MarkingError, match="is yours: a second admin must approve"):
        decide(db, a1, request.id, approve=True)
    with pytest.raises(StateError, match="already waits for a second admin"):
        create_account(db, a1, "dir9", role=Role.DIRECTOR, name="", password=PASSWORD)

    decide(db, a2, request.id, approve=True)
    made = get_account(db, "dir9")
    assert (made.role, made.name) == (Role.DIRECTOR, "主任九")
    assert check_password(made, PASSWORD)
    assert db.get(AccountRequest, request.id).password_hash is None  # type: ignore[union-attr]
    with pytest.raises(StateError, match="already approved"):
        decide(db, a2, request.id, approve=False)

    # A lead is made at once; making it office waits, and a rejection leaves it a lead.
    lead = create_account(db, a1, "lead9", role=Role.LEAD, name="", password=PASSWORD).account
    assert lead is not None and lead.role is Role.LEAD
    [to_office] = update_account(db, a1, "lead9", role=Role.OFFICE).pending
    assert get_account(db, "lead9").role is Role.LEAD
    assert decide(db, a2, to_office.id, approve=False).decision is AccountDecision.REJECTED
    assert get_account(db, "lead9").role is Role.LEAD

    # A new password for an admin waits too, and its subject cannot approve it.
    [reset] = update_account(db, a1, "adm2", password="another-password-2").pending
    with pytest.raises(MarkingError, match="about your own account"):
        decide(db, a2, reset.id, approve=True)
    assert not check_password(get_account(db, "adm2"), "another-password-2")
    # ...another admin, made by two, does: one admin alone never suffices.
    [third] = create_account(db, a1, "adm3", role=Role.ADMIN, name="", password=PASSWORD).pending
    decide(db, a2, third.id, approve=True)
    decide(db, get_account(db, "adm3"), reset.id, approve=True)
    assert check_password(get_account(db, "adm2"), "another-password-2")

    kinds = [e.kind for e in account_entries(db)]
    assert kinds.count("account_requested") == 4
    assert kinds.count("account_request_approved") == 3
    assert kinds.count("account_request_rejected") == 1
    assert verify_accounts(db).ok
