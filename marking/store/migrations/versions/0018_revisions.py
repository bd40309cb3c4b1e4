"""revisions: appeal revisions (复核) of a published session, published as revision 2, 3, ...

A revision reopens named candidates' examiner-marked responses; marks, rulings and anomaly
reports carry the revision they were given in, withdrawals say which revision superseded
them, and publications, results and approvals are per revision (one Publication row and a
complete result set each). Existing rows are revision 1.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy): exam_session, response and mark are referenced by
    # other tables, and SQLite adds a column with a constant default in place.
    op.create_table(
        "revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["account.id"], name=op.f("fk_revision_opened_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_revision_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revision")),
        sa.UniqueConstraint("session_id", "number", name=op.f("uq_revision_session_id_number")),
    )
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revision_session_id"), ["session_id"], unique=False)

    op.create_table(
        "revised_response",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("prior_final", sa.BigInteger(), nullable=True),
        sa.Column("prior_rule", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_revised_response_response_id_response")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"], ["revision.id"], name=op.f("fk_revised_response_revision_id_revision")
        ),
        sa.PrimaryKeyConstraint("revision_id", "response_id", name=op.f("pk_revised_response")),
    )
    op.add_column(
        "anomaly", sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
    )

    op.add_column(
        "arbitration", sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
    )

    op.add_column("exam_session", sa.Column("open_revision", sa.Integer(), nullable=True))

    op.add_column("mark", sa.Column("revision", sa.Integer(), server_default="1", nullable=False))

    op.add_column("mark_withdrawal", sa.Column("revision", sa.Integer(), nullable=True))

    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint(batch_op.f("uq_publication_session_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_publication_session_id_revision"), ["session_id", "revision"]
        )

    op.add_column(
        "publication_approval",
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
    )

    op.add_column(
        "response", sa.Column("revision", sa.Integer(), server_default="1", nullable=False)
    )

    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revision", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("interview_passed", sa.Boolean(), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_result_session_id_exam_no"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_result_session_id_revision_exam_no"),
            ["session_id", "revision", "exam_no"],
        )

    op.add_column("ruling_withdrawal", sa.Column("revision", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("ruling_withdrawal", "revision")

    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_result_session_id_revision_exam_no"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_result_session_id_exam_no"), ["session_id", "exam_no"]
        )
        batch_op.drop_column("interview_passed")
        batch_op.drop_column("revision")

    op.drop_column("response", "revision")

    op.drop_column("publication_approval", "revision")

    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_publication_session_id_revision"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_publication_session_id"), ["session_id"])
        batch_op.drop_column("revision")

    op.drop_column("mark_withdrawal", "revision")

    op.drop_column("mark", "revision")

    op.drop_column("exam_session", "open_revision")

    op.drop_column("arbitration", "revision")

    op.drop_column("anomaly", "revision")

    op.drop_table("revised_response")
    with op.batch_alter_table("revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revision_session_id"))

    op.drop_table("revision")
