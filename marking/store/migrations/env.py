"""Alembic environment: runs on the connection blindmark hands it (see marking.store.schema)."""

from __future__ import annotations

from alembic import context

from marking.store import models  # noqa: F401  (registers the tables on Base.metadata)
from marking.store.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise SystemExit("blindmark migrations run through `blindmark init`")
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("blindmark migrations run online only: use `blindmark init`")
run_migrations_online()
