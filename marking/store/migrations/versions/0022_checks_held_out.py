"""responses shown as checks are held out of the examiner's live claims (DESIGN §13):
``response.check_source`` marks the responses a qualification item or seed was made of,
``check_mark.revealed`` the checks whose definitive mark the examiner was shown.

Existing rows: every item's response is a check source; a qualification attempt before the
examiner's latest in its group failed (a retry follows only a failed attempt), so its
definitive marks were shown.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "response",
        sa.Column("check_source", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "check_mark",
        sa.Column("revealed", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(
        "UPDATE response SET check_source = true WHERE id IN (SELECT response_id FROM check_item)"
    )
    op.execute(
        "UPDATE check_mark SET revealed = true "
        "WHERE purpose = 'qualification' AND attempt < ("
        "SELECT max(later.attempt) FROM check_mark AS later "
        "WHERE later.examiner_id = check_mark.examiner_id "
        "AND later.group_id = check_mark.group_id AND later.purpose = 'qualification')"
    )


def downgrade() -> None:
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.drop_column("revealed")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("check_source")
