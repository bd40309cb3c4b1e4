"""ledger lanes: each lane's tip kept in a row of its own

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_lane",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("lane", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_ledger_lane_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("session_id", "lane", name=op.f("pk_ledger_lane")),
    )
    # Lanes of a database written before this revision: their tips, from their entries.
    op.execute(
        "INSERT INTO ledger_lane (session_id, lane, seq, hash) "
        "SELECT e.session_id, e.lane, e.seq, e.hash FROM ledger_entry e "
        "WHERE e.seq = (SELECT max(f.seq) FROM ledger_entry f "
        "WHERE f.session_id = e.session_id AND f.lane = e.lane)"
    )


def downgrade() -> None:
    op.drop_table("ledger_lane")
