"""a seed or 回评 the examiner reported as an anomaly (``check_mark.reported``): handed back,
it still stands in for the live response whose place it took, as a reported live response
stays on hold, so the examiner's counts move alike for both.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "check_mark",
        sa.Column("reported", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy would drop and rebuild the table,
    # which SQLite refuses while other rows refer to it (foreign keys are on).
    op.drop_column("check_mark", "reported")
