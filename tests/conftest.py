"""Test databases: SQLite by default, PostgreSQL when BLINDMARK_TEST_DATABASE_URL is set.

Each test gets a session inside a transaction rolled back at the end (pypi/warehouse's
pattern). Tests that commit (the command line) get a database of their own: a fresh
SQLite file, or a fresh schema on PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from marking.store import schema
from marking.store.db import make_engine, normalise_url

PG_URL = os.environ.get("BLINDMARK_TEST_DATABASE_URL")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgres: needs PostgreSQL (runs in the PostgreSQL pass)")
    config.addinivalue_line("markers", "sqlite: about the SQLite file itself (SQLite pass only)")


def pytest_report_header(config: pytest.Config) -> str:
    return f"blindmark test database: {'PostgreSQL' if PG_URL else 'SQLite'}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test about the other database is not skipped but deselected: it runs, for real,
    # in the other pass of the suite (.ci/run runs both).
    other = "sqlite" if PG_URL else "postgres"
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker(other) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _pg_admin_engine() -> Engine:
    assert PG_URL
    engine = create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("select 1"))
    except Exception as exc:  # pragma: no cover - environment problem, made loud
        engine.dispose()
        raise pytest.UsageError(
            f"BLINDMARK_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {exc}"
        ) from exc
    return engine


def schema_url(name: str) -> str:
    """The test PostgreSQL URL confined to one schema through search_path."""
    assert PG_URL
    url = make_url(normalise_url(PG_URL))
    return url.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
        hide_password=False
    )


class FreshDatabase:
    """A database (SQLite file or PostgreSQL schema) that a test may commit to."""

    def __init__(self, tmp_path: Path) -> None:
        self.schema: str | None = None
        if PG_URL:
            self.schema = f"bm_{uuid.uuid4().hex[:12]}"
            admin = _pg_admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            self.url = schema_url(self.schema)
        else:
            self.path = tmp_path / "instance" / "blindmark.db"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.url = f"sqlite:///{self.path}"
        self.engine = make_engine(self.url)

    def drop(self) -> None:
        self.engine.dispose()
        if self.schema:
            admin = _pg_admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def fresh_db(tmp_path: Path) -> Iterator[FreshDatabase]:
    """An empty database of the pass's kind; tests using it may commit."""
    database = FreshDatabase(tmp_path)
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database for the whole run (built with the real migrations)."""
    database = FreshDatabase(tmp_path_factory.mktemp("db"))
    schema.upgrade(database.engine)
    try:
        yield database.engine
    finally:
        database.drop()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, whatever the test commits."""
    with engine.connect() as conn:
        outer = conn.begin()
        session = Session(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield session
        finally:
            session.close()
            outer.rollback()
