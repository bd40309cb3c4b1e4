"""answer sheets: the serials issued, and each session's key for the page codes' checks

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

Existing sessions get a random sheet key as new ones do (added with a constant default,
which SQLite needs for a NOT NULL column, then filled row by row, so no table is copied).
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.add_column(
        "exam_session",
        sa.Column(
            "sheet_key",
            sa.LargeBinary(length=32),
            nullable=False,
            server_default=sa.text("'\\x'::bytea" if postgres else "X''"),
        ),
    )
    sessions = sa.table("exam_session", sa.column("id"), sa.column("sheet_key"))
    for (session_id,) in bind.execute(sa.select(sessions.c.id)).all():
        bind.execute(
            sessions.update()
            .where(sessions.c.id == session_id)
            .values(sheet_key=secrets.token_bytes(32))
        )
    if postgres:
        op.alter_column("exam_session", "sheet_key", server_default=None)

    op.create_table(
        "issued_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=16), nullable=False),
        sa.Column("layout", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"], ["component.id"], name=op.f("fk_issued_sheet_component_id_component")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_issued_sheet_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_sheet")),
        sa.UniqueConstraint("session_id", "serial", name=op.f("uq_issued_sheet_session_id_serial")),
    )
    op.create_index(
        op.f("ix_issued_sheet_component_id"), "issued_sheet", ["component_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_issued_sheet_component_id"), table_name="issued_sheet")
    op.drop_table("issued_sheet")
    op.execute("ALTER TABLE exam_session DROP COLUMN sheet_key")
