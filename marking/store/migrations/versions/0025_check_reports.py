"""a seed or 回评 reported as an anomaly keeps the report for the lead (R4), as a live report
does: its kind, note and time (``check_mark.report_kind``, ``report_note``, ``reported_at``).

Existing rows: reports made before this kept nothing of the kind or note; they stay unknown.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

#: ``AnomalyKind``'s values as of this revision (a live report's kinds).
KINDS = (
    "blank",
    "illegible",
    "identifying_mark",
    "suspected_copying",
    "question_error",
    "key_error",
    "other",
)


def upgrade() -> None:
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "report_kind",
                sa.Enum(
                    *KINDS, name="anomalykind", native_enum=False, create_constraint=True, length=24
                ),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("report_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_check_mark_anomalykind"), type_="check")
        batch_op.drop_column("reported_at")
        batch_op.drop_column("report_note")
        batch_op.drop_column("report_kind")
