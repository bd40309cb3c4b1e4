"""The migrations build exactly the schema the models declare, on either database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from marking.store import schema
from marking.store.db import Base, transaction
from marking.store.models import ExamSession, MarkingGroup, Response
from tests.conftest import FreshDatabase
from tests.integration.factory import new_session, tiny_session, tiny_toml


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
