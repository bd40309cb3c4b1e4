"""a mark records its marking group (``mark.group_id``, the group of its response) and an
examiner's marks in a group are indexed in the order made (``ix_mark_examiner_group``): a 回评
is drawn from one examiner's marks in one group by two short walks of that index, however
many marks they gave in other groups, instead of a walk of all their marks joined to their
responses.

Existing rows: the group of their response.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place, with no table rebuild on SQLite (the marks' corrections, withdrawals and
    # checks refer to their rows, and SQLite cannot add a constraint but as part of a column):
    # every mark gets its group below, and every new one with it.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE mark ADD COLUMN group_id INTEGER "
            "CONSTRAINT fk_mark_group_id_marking_group REFERENCES marking_group (id)"
        )
    else:
        op.add_column("mark", sa.Column("group_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_mark_group_id_marking_group", "mark", "marking_group", ["group_id"], ["id"]
        )
    op.execute(
        "UPDATE mark SET group_id = "
        "(SELECT response.group_id FROM response WHERE response.id = mark.response_id)"
    )
    op.create_index("ix_mark_examiner_group", "mark", ["examiner_id", "group_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_mark_examiner_group", table_name="mark")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint("fk_mark_group_id_marking_group", "mark", type_="foreignkey")
    # SQLite (3.35 on) drops a column whose constraint is its own in place.
    op.execute("ALTER TABLE mark DROP COLUMN group_id")
