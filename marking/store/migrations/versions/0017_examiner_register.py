"""examiner register: certificate issue date, card and status, category in scope, the
misconduct record (第三条, 第六条(三), 第七条(一), 第八条); directors' team overrides (R10)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    # Added in place, not by batch: recreating ``examiner`` would drop a table other rows
    # refer to (assignments, scopes), which SQLite refuses with foreign keys on. SQLite
    # cannot add a CHECK to an existing table: there the enums' checks are the models' only.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("examiner", sa.Column("certificate_issued", sa.Date(), nullable=True))
    op.add_column(
        "examiner",
        sa.Column(
            "card_status",
            sa.String(16) if sqlite else _enum("cardstatus", "valid", "lost", "renewing"),
            nullable=False,
            server_default="valid",
        ),
    )
    op.add_column(
        "examiner",
        sa.Column(
            "status",
            sa.String(16) if sqlite else _enum("examinerstatus", "active", "suspended", "revoked"),
            nullable=False,
            server_default="active",
        ),
    )
    with op.batch_alter_table("examiner_scope", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.drop_constraint("pk_examiner_scope", type_="primary")
        batch_op.create_primary_key(
            "pk_examiner_scope", ["examiner_id", "occupation_code", "level", "category"]
        )
    with op.batch_alter_table("examiner_scope", schema=None) as batch_op:
        batch_op.alter_column("category", server_default=None)
    op.create_table(
        "examiner_misconduct",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum(
                "misconductkind",
                "absence",
                "warning",
                "suspension",
                "revocation",
                "reinstatement",
                "note",
            ),
            nullable=False,
        ),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("excused", sa.Boolean(), nullable=True),
        sa.Column("automatic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_examiner_misconduct_examiner_id_examiner"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_examiner_misconduct_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_examiner_misconduct")),
    )
    with op.batch_alter_table("examiner_misconduct", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_examiner_misconduct_examiner_id"), ["examiner_id"], unique=False
        )
    op.create_table(
        "team_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("rule", _enum("teamrule", "rotation", "consecutive"), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("director", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["examiner_id"], ["account.id"], name=op.f("fk_team_override_examiner_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_team_override_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_override")),
    )
    with op.batch_alter_table("team_override", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_team_override_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("team_override")
    op.drop_table("examiner_misconduct")
    op.execute("DELETE FROM examiner_scope WHERE category <> ''")
    with op.batch_alter_table("examiner_scope", schema=None) as batch_op:
        batch_op.drop_constraint("pk_examiner_scope", type_="primary")
        batch_op.create_primary_key(
            "pk_examiner_scope", ["examiner_id", "occupation_code", "level"]
        )
        batch_op.drop_column("category")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column in ("status", "card_status", "certificate_issued"):
        if sqlite:
            op.execute(f"ALTER TABLE examiner DROP COLUMN {column}")  # SQLite >= 3.35
        else:
            op.drop_column("examiner", column)
