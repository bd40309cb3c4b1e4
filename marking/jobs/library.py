"""The job library (huey) bound to blindmark's database: where the queue lives for a
database URL, submitting a task only once the caller's transaction commits, and the
consumer that `blindmark worker` runs.

SQLite (the embedded default): huey's own SQLite storage, in a file beside the database
(``blindmark.jobs.db`` next to ``blindmark.db``), so the queue's busy writes never take the
write lock examiners need. PostgreSQL: huey's SQL storage (peewee) in the same database
and schema as blindmark, tables prefixed ``huey_``; it dequeues with ``SELECT ... FOR
UPDATE SKIP LOCKED`` and a DELETE, so workers on any number of machines share one queue
and never run one queued task twice.

huey deletes a task when a worker takes it: a worker killed mid-task loses it. Every job
therefore keeps its own lease in the domain (``ReportRun``, ``ScanFile``), and
``resume_stalled`` (every minute on each worker, and when a worker starts) queues again
what a dead worker held.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from huey import Huey, SqliteHuey
from huey.contrib.sql_huey import SqlStorage
from peewee import PostgresqlDatabase
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from marking.errors import MarkingError
from marking.paper.gathering import PageSource
from marking.store.db import default_url, make_engine, normalise_url, session_factory

log = logging.getLogger("blindmark.jobs")

#: Seconds a worker's hold on a job lasts without a sign of life (each progress step
#: renews it). Past it the job is taken to be lost with its worker and is queued again.
#: BLINDMARK_JOBS_LEASE overrides it (tests use a few seconds).
DEFAULT_LEASE_SECONDS = 600.0
LEASE_ENV = "BLINDMARK_JOBS_LEASE"
QUEUE_NAME = "blindmark"


def lease_seconds() -> float:
    """The lease length: ``BLINDMARK_JOBS_LEASE`` seconds if set, else the default."""
    raw = os.environ.get(LEASE_ENV)
    if not raw:
        return DEFAULT_LEASE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise MarkingError(f"{LEASE_ENV}={raw!r}: a number of seconds") from None
    if value <= 0:
        raise MarkingError(f"{LEASE_ENV}={raw!r}: a number of seconds above 0")
    return value


def jobs_file(url: str) -> Path:
    """The SQLite file that holds the queue of the SQLite database at ``url``."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise MarkingError("an in-memory database has no job queue: use a database file")
    path = Path(database)
    return path.with_name(path.stem + ".jobs" + (path.suffix or ".db"))


class _BlindmarkSqlStorage(SqlStorage):  # type: ignore[misc]
    """huey's SQL storage with its tables named ``huey_*``, beside blindmark's own."""

    def create_models(self) -> tuple[Any, ...]:
        models: tuple[Any, ...] = super().create_models()
        task = models[2]  # (KV, Schedule, Task, Counter)
        for model in models:
            model._meta.set_table_name("huey_" + model._meta.table_name)
        # huey adds the task table's index with the table it had then: build it again.
        task._meta.indexes = []
        task.add_index(task.priority.desc(), task.id)
        return models


def _postgres(url: str) -> PostgresqlDatabase:
    """The peewee database for a blindmark PostgreSQL URL (same server, database and
    connection options, a schema's search_path included; psycopg 3, the driver we ship)."""
    parsed = make_url(url)
    options: dict[str, Any] = dict(parsed.query)
    return PostgresqlDatabase(
        parsed.database,
        user=parsed.username,
        password=parsed.password,
        host=parsed.host,
        port=parsed.port,
        **options,
    )


def make_huey(url: str, *, immediate: bool = False) -> Huey:
    """The huey instance for a blindmark database URL (see the module's docstring).

    ``immediate``: tasks run in the caller's process as they are submitted (tests, and
    the in-process runs of the command line), with huey's memory storage.
    """
    url = normalise_url(url)
    options: dict[str, Any] = {"results": False, "utc": True, "immediate": immediate}
    if immediate:
        return Huey(QUEUE_NAME, **options)
    if url.startswith("sqlite"):
        return SqliteHuey(QUEUE_NAME, filename=str(jobs_file(url)), **options)
    if url.startswith("postgresql"):
        return Huey(
            QUEUE_NAME, storage_class=_BlindmarkSqlStorage, database=_postgres(url), **options
        )
    raise MarkingError(f"background jobs run on SQLite or PostgreSQL, not {url.split(':')[0]}")


class Jobs:
    """One job queue bound to one blindmark database: the huey instance, its registered
    tasks (``marking.jobs.tasks``) and the engine the tasks use.

    ``engine``: reuse the caller's engine (the web application's); otherwise each process
    opens its own (a worker process must not use connections made before its fork).
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: Engine | None = None,
        immediate: bool = False,
        lease: float | None = None,
        reader: PageSource | None = None,
    ) -> None:
        from marking.jobs.tasks import register

        self.url = normalise_url(url or default_url())
        self.lease = dt.timedelta(seconds=lease if lease is not None else lease_seconds())
        self.reader = reader  # the scans' page reader; None: the OMR's
        self._engine = engine
        self._engine_pid = os.getpid()
        self.huey = make_huey(self.url, immediate=immediate)
        self.tasks = register(self)

    @property
    def engine(self) -> Engine:
        if self._engine is None or self._engine_pid != os.getpid():
            self._engine = make_engine(self.url)
            self._engine_pid = os.getpid()
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    def enqueue(self, task: str, *args: Any) -> None:
        """Queue ``task`` now (the caller has committed what it needs)."""
        self.tasks[task](*args)

    def after_commit(self, db: Session, task: str, *args: Any) -> None:
        """Queue ``task`` once ``db``'s transaction commits; nothing if it rolls back.

        A task queued before the commit could be taken by a worker on another machine
        before the row it works on is visible, and one queued for a transaction that then
        rolls back would work on nothing.
        """
        pending: list[Callable[[], None]] = db.info.setdefault("blindmark.jobs", [])
        if not db.info.get("blindmark.jobs.hooked"):
            event.listen(db, "after_commit", _run_pending)
            event.listen(db, "after_rollback", _drop_pending)
            db.info["blindmark.jobs.hooked"] = True
        pending.append(lambda: self.enqueue(task, *args))

    def close(self) -> None:
        """Close the queue's own connection (huey's storage): a command that only submits
        leaves no connection open behind it."""
        self.huey.storage.close()

    def run_worker(self, *, workers: int, kind: str = "process") -> None:
        """Run huey's consumer until SIGINT/SIGTERM: ``workers`` processes (or threads)
        taking tasks, and the scheduler that runs ``resume_stalled`` every minute. First
        queues again what a dead worker left behind, so a restart resumes at once."""
        from marking.jobs.tasks import resume_stalled

        if self.huey.immediate:
            raise MarkingError("a worker needs a real queue, not immediate mode")
        resumed = resume_stalled(self)
        if resumed:
            log.info("queued again %d job(s) a stopped worker left", resumed)
        self.engine.dispose()  # the worker processes open their own connections
        consumer = self.huey.create_consumer(
            workers=workers,
            worker_type=kind,
            periodic=True,
            initial_delay=0.1,
            max_delay=2.0,
            check_worker_health=True,
        )
        consumer.run()


def _run_pending(db: Session) -> None:
    pending = db.info.get("blindmark.jobs", [])
    db.info["blindmark.jobs"] = []
    for submit in pending:
        submit()


def _drop_pending(db: Session) -> None:
    db.info["blindmark.jobs"] = []
