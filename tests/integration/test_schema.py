"""The migrations build exactly the schema the models declare, on either database."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from marking import schema
from marking.db import Base
from tests.conftest import FreshDatabase


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
