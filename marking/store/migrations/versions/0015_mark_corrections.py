"""mark corrections: a correction is a new record naming the mark (R6, 第七条(八))

- ``mark_correction``: the mark corrected, the n-th correction of it (``seq``, unique per
  mark; the latest is in force), the value replaced and the new one, the reason, who, when.
- ``response.corrections``: how many corrections its marks have had, on the row a mark
  locks, so a mark racing a correction reads the corrected values.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mark_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mark_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_mark_correction_value_non_negative")),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_mark_correction_seq_positive")),
        sa.ForeignKeyConstraint(
            ["by_id"], ["account.id"], name=op.f("fk_mark_correction_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["mark_id"], ["mark.id"], name=op.f("fk_mark_correction_mark_id_mark")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mark_correction")),
        sa.UniqueConstraint("mark_id", "seq", name=op.f("uq_mark_correction_mark_id_seq")),
    )
    # A plain ADD COLUMN with its default (SQLite too): response is referenced by most
    # marking tables, so a batch copy is neither needed nor wanted here.
    op.add_column(
        "response",
        sa.Column("corrections", sa.Integer(), server_default="0", nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("corrections")
    op.drop_table("mark_correction")
