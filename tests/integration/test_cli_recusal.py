"""Recusal on the command line (issue 9, items 2-4): `assign --deputy`, a lead's declared
conflicts, declarations that hold for later batches, and `publish` withdrawing a
conflicted lead's ruling for the deputy lead to decide again."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from marking.cli import main
from marking.people.accounts import add_user, get_account
from marking.queue.lead import arbitrate, arbitration_tasks
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import Exclusion, Role, RulingWithdrawal
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.cli.cli_support import ok, refused
from tests.integration.test_recusal import mark_as

TEAM = ("e1", "e2", "e3")


@pytest.fixture
def database(fresh_db: FreshDatabase) -> Iterator[FreshDatabase]:
    schema.upgrade(fresh_db.engine)
    yield fresh_db


def blindmark(database: FreshDatabase, *args: object) -> Result:
    return CliRunner().invoke(
        main,
        ["--db", database.url, *map(str, args)],
        env={"BLINDMARK_KEY_PASSPHRASE": f.PASSPHRASE},
        prog_name="blindmark",
    )


def conflicts_csv(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    return f.write_csv(
        tmp_path / "conflicts.csv",
        ("username", "id_number", "relation"),
        [(u, idn, "relative") for u, idn in rows],
    )


def test_assign_names_a_deputy_lead_on_its_own(database: FreshDatabase, tmp_path: Path) -> None:
    with transaction(database.engine) as db:
        f.tiny_session(db, tmp_path, "CR-1", n=1, examiners=TEAM)
        add_user(db, "deputy", role=Role.LEAD)
        f.certify(db, "deputy")

    assert ok(blindmark(database, "assign", "--session", "CR-1", "--deputy", "deputy")) == (
        "deputy lead deputy: rules where the lead is excluded\n"
    )
    output = refused(blindmark(database, "assign", "--session", "CR-1", "--deputy", "lead"), 1)
    assert "lead is the session's lead: the deputy must be another person" in output
    output = refused(blindmark(database, "assign", "--session", "CR-1", "--deputy", "e1"), 1)
    assert "e1: the deputy lead must be a senior examiner whose certificate covers" in output
    assert refused(blindmark(database, "assign", "--session", "CR-1"), 2)

    with transaction(database.engine) as db:
        exam = get_session(db, "CR-1")
        assert exam.deputy_id == get_account(db, "deputy").id


def test_a_lead_declares_a_conflict_and_later_batches_exclude_both_lead_and_examiner(
    database: FreshDatabase, tmp_path: Path
) -> None:
    later = f.people(3, seed=21, prefix="2655")
    with transaction(database.engine) as db:
        f.tiny_session(db, tmp_path, "CR-2", n=2, examiners=TEAM)  # marking is open
    declared = conflicts_csv(tmp_path, [("lead", later[0].id_number), ("e2", later[1].id_number)])

    output = ok(blindmark(database, "conflicts", "import", declared, "--session", "CR-2"))
    assert output == "session CR-2: 2 declaration(s) sealed\n"
    folder = tmp_path / "later"
    rows = [(n, c, q, f"later {t}") for n, c, q, t in f.tiny_rows(later)]
    f.write_csv(
        folder / "candidates.csv",
        ("exam_no", "name", "id_number", "institution"),
        [(p.exam_no, p.name, p.id_number, p.institution) for p in later],
    )
    f.write_csv(folder / "responses.csv", ("exam_no", "component", "question", "response"), rows)

    output = ok(blindmark(database, "intake", "--session", "CR-2", folder))

    assert output.strip().endswith("4 exclusion(s)")
    with transaction(database.engine) as db:
        for username in ("lead", "e2"):
            who = get_account(db, username).id
            excluded = db.scalar(
                select(func.count()).select_from(Exclusion).where(Exclusion.examiner_id == who)
            )
            assert excluded == 2, username


def test_publish_withdraws_a_conflicted_leads_arbitration_for_the_deputy_to_decide(
    database: FreshDatabase, tmp_path: Path
) -> None:
    with transaction(database.engine) as db:
        tiny = f.tiny_session(db, tmp_path, "CR-3", n=1, examiners=TEAM, key_file=True)
        add_user(db, "deputy", role=Role.LEAD)
        f.certify(db, "deputy")
        exam = tiny.exam
        mark_as(db, exam, "e1", {"c1 skills": "0", "c1 theory": "3"})
        mark_as(db, exam, "e2", {"c1 skills": "8", "c1 theory": "3"})
        mark_as(db, exam, "e3", {"c1 skills": "4"})
        lead = get_account(db, "lead")
        [task] = arbitration_tasks(db, exam, ruler=lead)
        arbitrate(db, exam, lead, response_id=task.response_id, value=Decimal(5))
        person = tiny.candidates[0]
    assert tiny.keys.key_file is not None
    ok(blindmark(database, "assign", "--session", "CR-3", "--deputy", "deputy"))
    ok(
        blindmark(
            database,
            "conflicts",
            "import",
            conflicts_csv(tmp_path, [("lead", person.id_number)]),
            "--session",
            "CR-3",
        )
    )
    publish = (
        "publish",
        "--session",
        "CR-3",
        "--by",
        "office",
        "--approved-by",
        "director",
        "--key-file",
        tiny.keys.key_file,
    )

    with transaction(database.engine) as db:
        f.approve(db, get_session(db, "CR-3"))  # R16: publication needs a current approval
    output = refused(blindmark(database, *publish), 1)

    assert (
        "0 mark(s) by examiners with a late-declared conflict and 1 ruling(s) by a conflicted "
        "lead were withdrawn and their responses reopened"
    ) in output
    with transaction(database.engine) as db:
        exam = get_session(db, "CR-3")
        assert db.scalar(select(func.count()).select_from(RulingWithdrawal)) == 1
        assert arbitration_tasks(db, exam, ruler=get_account(db, "lead")) == []
        deputy = get_account(db, "deputy")
        [task] = arbitration_tasks(db, exam, ruler=deputy)
        arbitrate(db, exam, deputy, response_id=task.response_id, value=Decimal(4))
        f.approve(db, exam)  # the withdrawal and the new ruling voided the first approval
    assert "published: 1 candidates" in ok(blindmark(database, *publish))
    assert "ledger intact" in ok(blindmark(database, "verify", "--session", "CR-3"))
