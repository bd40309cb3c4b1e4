"""question text and check corrections (issue 14: the examiner's and the lead's screens)

- ``question.text``: the question as printed (题干), from the definition's optional
  ``text``; shown above the response being marked. Empty for questions defined before.
- ``check_correction``: an examiner's correction of their mark on a seed or 回评, so that
  "correct my last mark" works on a check as on live work: the n-th correction of a check
  mark (``seq``), the value replaced and the new one, the reason, when.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("question", sa.Column("text", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "check_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "check_mark_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_check_correction_value_non_negative")),
        sa.CheckConstraint("seq >= 1", name=op.f("ck_check_correction_seq_positive")),
        sa.ForeignKeyConstraint(
            ["check_mark_id"],
            ["check_mark.id"],
            name=op.f("fk_check_correction_check_mark_id_check_mark"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_correction")),
        sa.UniqueConstraint(
            "check_mark_id", "seq", name=op.f("uq_check_correction_check_mark_id_seq")
        ),
    )
    op.create_index(
        op.f("ix_check_correction_check_mark_id"),
        "check_correction",
        ["check_mark_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_check_correction_check_mark_id"), table_name="check_correction")
    op.drop_table("check_correction")
    # A plain DROP COLUMN (SQLite 3.35+ too): a batch copy of question would trip the
    # foreign keys of the many tables that reference it.
    op.execute("ALTER TABLE question DROP COLUMN text")
