"""opaque handles and a fair queue: session handle keys, random queue order, a hold limit

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

Existing rows get what intake and session creation now write: every session a random
handle key, every response a random place in the queue. Columns are added with constant
defaults (SQLite adds a NOT NULL column only so) and filled afterwards, so no table is
copied.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN = sa.text("state = 'open'")


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.add_column(
        "exam_session",
        sa.Column(
            "handle_key",
            sa.LargeBinary(length=16),
            nullable=False,
            server_default=sa.text("'\\x'::bytea" if postgres else "X''"),
        ),
    )
    sessions = sa.table("exam_session", sa.column("id"), sa.column("handle_key"))
    for (session_id,) in bind.execute(sa.select(sessions.c.id)).all():
        bind.execute(
            sessions.update()
            .where(sessions.c.id == session_id)
            .values(handle_key=secrets.token_bytes(16))
        )
    if postgres:
        op.alter_column("exam_session", "handle_key", server_default=None)

    op.add_column(
        "marking_group",
        sa.Column("max_held", sa.Integer(), nullable=False, server_default="20"),
    )

    # PostgreSQL fills a volatile default row by row; SQLite needs the update.
    op.add_column(
        "response",
        sa.Column(
            "queue_key",
            sa.Integer(),
            nullable=False,
            server_default=sa.text("floor(random() * 2147483648)::integer" if postgres else "0"),
        ),
    )
    if postgres:
        op.alter_column("response", "queue_key", server_default="0")
    else:
        op.execute("UPDATE response SET queue_key = random() & 2147483647")
    op.drop_index("ix_response_open", table_name="response", postgresql_where=OPEN)
    op.create_index(
        "ix_response_queue",
        "response",
        ["group_id", "queue_key"],
        unique=False,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_response_queue", table_name="response", postgresql_where=OPEN)
    op.create_index(
        "ix_response_open",
        "response",
        ["group_id"],
        unique=False,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    # Plain DROP COLUMN (SQLite has it since 3.35): a batch would copy these tables, and
    # dropping the originals fails their foreign keys.
    for table, column in (
        ("response", "queue_key"),
        ("marking_group", "max_held"),
        ("exam_session", "handle_key"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
