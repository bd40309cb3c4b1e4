"""responses shown as checks are held out of the examiner's live claims (DESIGN §13):
``response.check_source`` marks the responses a qualification item or seed was made of,
``check_mark.revealed`` the checks whose definitive mark the examiner was shown.

Existing rows: every item's response is a check source; a qualification attempt before the
examiner's latest in its group failed (a retry follows only a failed attempt), and so did a
latest attempt complete and short of the pass share, so their definitive marks were shown.

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
    # An attempt's definitive marks were shown when it failed: every attempt before the
    # latest (a retry follows only a failure), and the latest too once complete and failed
    # by the pass rule ``qualification.decide`` applies (``passes``: within >= share * of,
    # share 1 when unset; marks, tolerances and shares are all stored as thousandths).
    same_attempt = (
        "other.examiner_id = check_mark.examiner_id AND other.group_id = check_mark.group_id "
        "AND other.purpose = 'qualification' AND other.attempt = check_mark.attempt"
    )
    op.execute(
        "UPDATE check_mark SET revealed = true "
        "WHERE purpose = 'qualification' AND (attempt < ("
        "SELECT max(later.attempt) FROM check_mark AS later "
        "WHERE later.examiner_id = check_mark.examiner_id "
        "AND later.group_id = check_mark.group_id AND later.purpose = 'qualification') "
        "OR (NOT EXISTS (SELECT 1 FROM check_mark AS other "
        f"WHERE {same_attempt} AND other.state <> 'submitted') "
        "AND 1000 * (SELECT count(*) FROM check_mark AS other "
        "JOIN response ON response.id = other.response_id "
        "JOIN question ON question.id = response.question_id "
        f"WHERE {same_attempt} AND other.value IS NOT NULL "
        "AND abs(other.value - other.expected) <= question.tolerance) "
        "< (SELECT coalesce(marking_group.qualification_within, 1000) FROM marking_group "
        "WHERE marking_group.id = check_mark.group_id) "
        f"* (SELECT count(*) FROM check_mark AS other WHERE {same_attempt})))"
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy would drop and rebuild the table,
    # which SQLite refuses while other rows refer to it (foreign keys are on).
    op.drop_column("check_mark", "revealed")
    op.drop_column("response", "check_source")
