"""accounts and custody: atomic login throttling buckets, key shares waiting for custodians

Revision ID: 0007
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "key_custodian",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("share_index", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("downloaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_key_custodian_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_key_custodian_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_custodian")),
        sa.UniqueConstraint(
            "session_id", "account_id", name=op.f("uq_key_custodian_session_id_account_id")
        ),
        sa.UniqueConstraint(
            "session_id", "share_index", name=op.f("uq_key_custodian_session_id_share_index")
        ),
    )
    op.create_index(
        op.f("ix_key_custodian_account_id"), "key_custodian", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_key_custodian_session_id"), "key_custodian", ["session_id"], unique=False
    )
    op.create_table(
        "custody_share",
        sa.Column("custodian_id", sa.Integer(), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["custodian_id"],
            ["key_custodian.id"],
            name=op.f("fk_custody_share_custodian_id_key_custodian"),
        ),
        sa.PrimaryKeyConstraint("custodian_id", name=op.f("pk_custody_share")),
    )


def downgrade() -> None:
    op.drop_table("custody_share")
    op.drop_index(op.f("ix_key_custodian_session_id"), table_name="key_custodian")
    op.drop_index(op.f("ix_key_custodian_account_id"), table_name="key_custodian")
    op.drop_table("key_custodian")
    op.drop_table("login_throttle")
