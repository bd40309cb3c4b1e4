"""The migrations build exactly the schema the models declare, on either database."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from marking.quality.checks import submit_check
from marking.quality.items import add_item
from marking.quality.qualification import start_qualification
from marking.setup.assignment import approve_scheme, assign
from marking.store import schema
from marking.store.db import Base, transaction
from marking.store.models import Account, ExamSession, Mark, MarkingGroup, Response
from marking.store.models.checks import CheckMark, CheckPurpose
from tests.conftest import FreshDatabase
from tests.integration.factory import ACTOR, mark_all, new_session, tiny_session, tiny_toml


def down_and_up_again(fresh_db: FreshDatabase, revision: str) -> None:
    """Downgrade the database to ``revision``, then upgrade it to the head as `init` does."""
    config = schema.alembic_config()
    with fresh_db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
    assert schema.upgrade(fresh_db.engine) == (revision, schema.head_revision())


def test_migrations_match_the_models(fresh_db: FreshDatabase) -> None:
    before, after = schema.upgrade(fresh_db.engine)
    assert before is None and after == schema.head_revision()
    with fresh_db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models and migrations disagree; write a migration: {diff}"


def test_upgrade_is_idempotent_and_names_constraints(fresh_db: FreshDatabase) -> None:
    schema.upgrade(fresh_db.engine)
    assert schema.upgrade(fresh_db.engine) == (schema.head_revision(), schema.head_revision())
    insp = inspect(fresh_db.engine)
    uniques = {u["name"] for u in insp.get_unique_constraints("response")}
    assert "uq_response_script_id_question_id" in uniques
    checks = {c["name"] for c in insp.get_check_constraints("marking_group")}
    assert "ck_marking_group_at_least_two_marks" in checks


def test_upgrading_a_marked_database_gives_its_rows_handle_keys_and_queue_places(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """Revision 0004 on a database in use: every session gets its own random handle key,
    every response a random place in the queue, every group the default hold limit."""
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        for code in ("MIG-1", "MIG-2"):
            tiny_session(db, tmp_path, code, n=6)
    down_and_up_again(fresh_db, "0003")
    with fresh_db.engine.connect() as conn:
        keys = conn.scalars(select(ExamSession.handle_key)).all()
        places = conn.scalars(select(Response.queue_key).where(Response.group_id.is_not(None)))
        limits = set(conn.scalars(select(MarkingGroup.max_held)))
    assert len(keys) == 2 and len(set(keys)) == 2 and all(len(k) == 16 for k in keys)
    assert len(set(places.all())) == 24
    assert limits == {20}


def test_upgrading_to_issued_sheets_gives_every_session_its_own_sheet_key(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """Revision 0010 on a database in use: each session gets a random key for its page codes."""
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        for code in ("MIG-1", "MIG-2"):
            new_session(db, tmp_path, tiny_toml(code), key_file=True)
    down_and_up_again(fresh_db, "0009")
    with fresh_db.engine.connect() as conn:
        keys = conn.scalars(select(ExamSession.sheet_key)).all()
    assert len(keys) == 2 and len(set(keys)) == 2 and all(len(k) == 32 for k in keys)


def test_upgrading_to_held_out_checks_flags_every_failed_attempt_as_revealed(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """Revision 0022 on a database in use: an attempt whose definitive marks the examiner was
    shown (every failed attempt, the latest one too) is held out of their live claims; a pass
    or an attempt still open showed nothing."""
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = tiny_session(
            db, tmp_path, "MIG-Q", n=6, examiners=("e1", "e2", "e3", "e4"), open_groups=False
        )
        exam = tiny.exam
        short = next(g for g in exam.groups if g.key == "short")
        assign(db, exam, short, ["e1", "e2", "e3", "e4"], actor=ACTOR, lead="lead")
        short.qualification_size, short.qualification_within = 3, Decimal("0.6")
        rids = db.scalars(
            select(Response.id).where(Response.group_id == short.id).order_by(Response.id).limit(3)
        ).all()
        lead = db.scalars(select(Account).where(Account.username == "lead")).one()
        for rid in rids:  # definitive mark 2, tolerance 1
            add_item(db, exam, lead, response_id=rid, purpose=CheckPurpose.QUALIFICATION, value=2)
        approve_scheme(db, exam, short, by="lead")

        def attempt(username: str, values: tuple[str, ...]) -> None:
            who = db.scalars(select(Account).where(Account.username == username)).one()
            items = start_qualification(db, exam, who, group=short)
            for item, value in zip(items, values, strict=False):
                assert item.check_id is not None
                submit_check(db, exam, who, check_id=item.check_id, value=value)

        attempt("e1", ("2", "6", "0"))  # latest attempt complete and failed (1 of 3 within)
        attempt("e2", ("2", "2.5", "0"))  # passed (2 of 3 within 0.6)
        attempt("e3", ("6", "6", "6"))  # failed, then passed on the retry
        attempt("e3", ("2", "2", "2"))
        attempt("e4", ("6", "6"))  # still open: nothing shown yet
    down_and_up_again(fresh_db, "0021")
    with fresh_db.engine.connect() as conn:
        rows = conn.execute(
            select(Account.username, CheckMark.attempt, CheckMark.revealed).join(
                Account, Account.id == CheckMark.examiner_id
            )
        ).all()
    revealed: dict[tuple[str, int], set[bool]] = {}
    for username, attempt_no, flag in rows:
        revealed.setdefault((username, attempt_no), set()).add(bool(flag))
    assert revealed == {
        ("e1", 1): {True},
        ("e2", 1): {False},
        ("e3", 1): {True},
        ("e3", 2): {False},
        ("e4", 1): {False},
    }


def test_upgrading_to_marks_with_their_group_records_each_marks_group(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """Revision 0027 on a database in use: every mark given before it records the marking
    group of its response (a 回评 is drawn from an examiner's marks in one group by it), and
    marks given after it record theirs as they are stored."""
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = tiny_session(db, tmp_path, "MIG-G", n=4)
        mark_all(db, tiny.exam, ["e1"])  # every response's first mark, given before it
    down_and_up_again(fresh_db, "0026")
    with transaction(fresh_db.engine) as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.code == "MIG-G")).one()
        mark_all(db, exam, ["e2"])  # their second marks, given after it
    with fresh_db.engine.connect() as conn:
        rows = conn.execute(
            select(Mark.examiner_id, Mark.group_id, Response.group_id).join(
                Response, Response.id == Mark.response_id
            )
        ).all()
    assert len({examiner for examiner, _g, _r in rows}) == 2
    assert rows and all(recorded == group for _e, recorded, group in rows)
    assert len({group for _e, group, _r in rows}) == 2  # both groups' marks
