"""a seed or 回评 records the live response it displaced at hand-out
(``check_mark.displaced_id``) and whether the examiner's mark on that response would have
been the last it needed (``check_mark.last_needed``): "correct my last mark" then answers for
the check as it would have for that response, which stops being correctable once its mark
makes it final.

Existing rows: nothing recorded (null, false); they stay correctable until the examiner's
next live mark, as before.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "displaced_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("last_needed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_foreign_key(
            "fk_check_mark_displaced_id_response", "response", ["displaced_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.drop_constraint("fk_check_mark_displaced_id_response", type_="foreignkey")
        batch_op.drop_column("last_needed")
        batch_op.drop_column("displaced_id")
