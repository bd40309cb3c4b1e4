"""Database plumbing: the declarative base, exact-mark column type, engines and transactions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Dialect, MetaData, cast, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Marks, maxima, steps and tolerances are stored as integer thousandths: exact on every
#: database (SQLite has no decimal type) and cheap to aggregate with numpy at publication.
MILLI = 1000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Marks(TypeDecorator[Decimal]):
    """A non-negative mark held exactly as thousandths in a BIGINT column."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | None, dialect: Dialect) -> int | None:
        return None if value is None else to_milli(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(int(value)) / MILLI


def to_milli(value: Decimal) -> int:
    """The stored integer for an exact mark (raises if finer than 0.001)."""
    scaled = value * MILLI
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is finer than the stored precision of 0.001")
    return int(scaled)


DEFAULT_INSTANCE = Path("instance")


def default_url() -> str:
    """``BLINDMARK_DATABASE_URL`` or a SQLite file under ./instance/ (created on demand)."""
    url = os.environ.get("BLINDMARK_DATABASE_URL")
    if url:
        return url
    DEFAULT_INSTANCE.mkdir(exist_ok=True)
    return f"sqlite:///{DEFAULT_INSTANCE / 'blindmark.db'}"


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use psycopg 3, the driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine configured for blindmark's concurrency model on either database."""
    url = normalise_url(url or default_url())
    if url.startswith("sqlite"):
        # One writer at a time, readers never blocked (WAL); writers wait instead of
        # failing with "database is locked". BEGIN IMMEDIATE takes the write lock up
        # front so two transactions can't both read and then deadlock upgrading.
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            # Deleted rows (declarations consumed by intake) are zeroed, not left in free pages.
            cur.execute("PRAGMA secure_delete=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # No ping before every checkout: that is one more round trip per transaction, and a
    # mark is only four (BEGIN, two statements, COMMIT). A connection the server dropped
    # fails its next statement instead; SQLAlchemy then discards the pool's connections,
    # and the caller's next transaction connects afresh.
    kwargs.setdefault("pool_recycle", 3600)
    return create_engine(url, **kwargs)


def scrub_wal(engine: Engine) -> None:
    """Fold SQLite's write-ahead log into the database and truncate it.

    The WAL keeps old page images, including rows since deleted (a conflict declaration
    naming a candidate, consumed by intake). Called after such a commit so no file
    under the instance folder still holds them. PostgreSQL needs nothing here: dead
    tuples are not visible to any reader or dump.
    """
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cur.close()
    finally:
        raw.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """The CLI's one commit point: commit if the block finishes, roll back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def integer_columns(db: Session, statement: Any) -> Any:
    """Every row of a query whose columns are all non-null integers, as an int64 numpy
    array of shape (rows, columns): millions of marks at publication, without a Python
    object per value.

    PostgreSQL sends them with ``COPY ... TO STDOUT (FORMAT binary)``, read straight into
    numpy (each column cast to bigint, so every row has the same layout); SQLite's rows
    are read through the driver's cursor.
    """
    columns = [cast(c, BigInteger) for c in statement.selected_columns]
    width = len(columns)
    statement = statement.with_only_columns(*columns, maintain_column_froms=True)
    conn = db.connection()
    if conn.dialect.name != "postgresql":
        result = conn.execute(statement)
        try:
            rows: Any = result.cursor  # the driver's own tuples: no Row object each
            flat = np.fromiter(chain.from_iterable(rows), dtype=np.int64)
        finally:
            result.close()
        return flat.reshape(-1, width)
    compiled = statement.compile(dialect=conn.dialect)
    # COPY takes no server-side parameters: psycopg binds these client-side, as they are.
    if not all(isinstance(v, int | str) for v in compiled.params.values()):
        raise TypeError("integer_columns: only integer and text parameters")
    raw = conn.connection.driver_connection
    assert raw is not None
    copy_out = f"COPY ({compiled}) TO STDOUT (FORMAT binary)"
    with raw.cursor() as cur, cur.copy(copy_out, compiled.params) as copy:
        data = b"".join(bytes(chunk) for chunk in copy)
    return _binary_copy_rows(data, width)


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _binary_copy_rows(data: bytes, width: int) -> Any:
    """Parse PostgreSQL's binary COPY of ``width`` non-null bigint columns."""
    if not data.startswith(_COPY_SIGNATURE):
        raise ValueError("not a binary COPY stream")
    extension = int.from_bytes(data[15:19], "big")
    body = memoryview(data)[19 + extension : len(data) - 2]
    if bytes(data[-2:]) != b"\xff\xff":
        raise ValueError("binary COPY stream without its trailer")
    row = np.dtype(
        [("n", ">i2")] + [(f"f{i}", [("len", ">i4"), ("v", ">i8")]) for i in range(width)]
    )
    rows = np.frombuffer(body, dtype=row)
    if (rows["n"] != width).any() or any((rows[f"f{i}"]["len"] != 8).any() for i in range(width)):
        raise ValueError("binary COPY rows are not all non-null bigints")
    out = np.empty((len(rows), width), dtype=np.int64)
    for i in range(width):
        out[:, i] = rows[f"f{i}"]["v"]
    return out
