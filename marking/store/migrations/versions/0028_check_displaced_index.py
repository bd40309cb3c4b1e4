"""a seed or 回评 handed back or left to expire comes back as itself when a claim would hand
the examiner the live response it displaced (``marking.quality.handout.come_back``): the
claim finds such checks by that response, through ``ix_check_mark_displaced``.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_check_mark_displaced", "check_mark", ["displaced_id", "examiner_id"])


def downgrade() -> None:
    op.drop_index("ix_check_mark_displaced", table_name="check_mark")
