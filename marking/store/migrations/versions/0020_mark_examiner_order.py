"""an examiner's marks in the order made: ix_mark_examiner_id becomes (examiner_id, id), so a
回评 is picked at a random point of the examiner's marks by a short walk of the index (on
SQLite the index held the row id already; PostgreSQL needs it spelled out).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mark") as batch_op:
        batch_op.drop_index("ix_mark_examiner_id")
        batch_op.create_index("ix_mark_examiner_id", ["examiner_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mark") as batch_op:
        batch_op.drop_index("ix_mark_examiner_id")
        batch_op.create_index("ix_mark_examiner_id", ["examiner_id"], unique=False)
