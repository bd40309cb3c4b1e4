"""four eyes: the digest a director approved; the account ledger and account requests

Revision ID: 0006
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None

ROLES = ("admin", "office", "director", "lead", "examiner")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    # Approvals recorded before this revision have no digest: they count as void.
    op.add_column("publication_approval", sa.Column("digest", sa.String(length=64), nullable=True))
    op.add_column("publication_approval", sa.Column("parts", sa.JSON(), nullable=True))
    op.create_table(
        "account_ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_ledger_entry")),
        sa.UniqueConstraint("seq", name=op.f("uq_account_ledger_entry_seq")),
    )
    op.create_table(
        "account_ledger_tip",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_ledger_tip")),
    )
    op.create_table(
        "account_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("change", _enum("accountchange", "create", "role", "password"), nullable=False),
        sa.Column("role", _enum("role", *ROLES), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("requested_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", _enum("accountdecision", "approved", "rejected"), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["account.id"], name=op.f("fk_account_request_decided_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["account.id"], name=op.f("fk_account_request_requested_by_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_request")),
    )
    op.create_index(
        op.f("ix_account_request_username"), "account_request", ["username"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_account_request_username"), table_name="account_request")
    op.drop_table("account_request")
    op.drop_table("account_ledger_tip")
    op.drop_table("account_ledger_entry")
    op.drop_column("publication_approval", "parts")
    op.drop_column("publication_approval", "digest")
