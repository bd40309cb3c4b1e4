"""opaque handles: a random handle key for every session

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27

Existing sessions get what session creation now writes: a random handle key. The column
is added with a constant default (SQLite adds a NOT NULL column only so) and filled
afterwards, so no table is copied.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


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


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite has it since 3.35): a batch would copy the table, and
    # dropping the original fails the foreign keys that point at it.
    op.execute("ALTER TABLE exam_session DROP COLUMN handle_key")
