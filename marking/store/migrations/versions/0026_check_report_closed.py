"""the lead deals with a report on a seed or 回评 (``check_mark.report_closed_at``,
``report_closed_by``): retiring the seed, or closing the report. The check then stops
standing in for the live response it displaced, so the examiner's "available" count comes
back as it does when the lead resolves a reported live response.

Existing rows: reports stay open.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("report_closed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("report_closed_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_check_mark_report_closed_by_account", "account", ["report_closed_by"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.drop_constraint("fk_check_mark_report_closed_by_account", type_="foreignkey")
        batch_op.drop_column("report_closed_by")
        batch_op.drop_column("report_closed_at")
