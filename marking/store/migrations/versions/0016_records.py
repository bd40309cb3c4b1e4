"""records: withdrawn sealed records, collective violation decisions, the centre role

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04

Violation and interview records entered wrongly can be withdrawn (``record_withdrawal``);
a collective violation decision waits for the guidance centre's approval
(``collective_decision``); accounts gain the ``centre`` role and sealed records the kind
``interview_absent`` and a clear count of their items. The CHECK constraints of the two role
columns and of the sealed kinds are rebuilt (a batch on SQLite, except ``account``: see
``_account_roles``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_OLD_ROLES = ("admin", "office", "director", "lead", "examiner")
_NEW_ROLES = (*_OLD_ROLES, "centre")
_OLD_KINDS = ("conflict", "violation", "interview", "scan_header")
_NEW_KINDS = (*_OLD_KINDS, "interview_absent")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _alter_enum(
    table: str, column: str, name: str, old: tuple[str, ...], new: tuple[str, ...]
) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.alter_column(
            column,
            existing_type=_enum(name, *old),
            type_=_enum(name, *new),
            existing_nullable=table == "account_request",
        )


def _account_roles(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    """The CHECK on ``account.role``. On SQLite the table cannot be copied (every table
    points into it, and the copy would break those references), so the constraint's text
    is changed in place, as SQLite documents for changing a CHECK (ALTER TABLE, section 7)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        _alter_enum("account", "role", "role", old, new)
        return
    listed = ", ".join(f"'{v}'" for v in old)
    wanted = ", ".join(f"'{v}'" for v in new)
    sql = bind.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'account'")
    )
    before = f"CHECK (role IN ({listed}))"
    assert sql is not None and before in sql, "account.role's CHECK is not the expected one"
    version = bind.scalar(sa.text("PRAGMA schema_version"))
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'account'"),
        {"sql": sql.replace(before, f"CHECK (role IN ({wanted}))")},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _account_roles(_OLD_ROLES, _NEW_ROLES)
    _alter_enum("account_request", "role", "role", _OLD_ROLES, _NEW_ROLES)
    with op.batch_alter_table("sealed_record", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum("sealedkind", *_OLD_KINDS),
            type_=_enum("sealedkind", *_NEW_KINDS),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("item_count", sa.Integer(), nullable=True))
    op.create_table(
        "record_withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sealed_record.id"],
            name=op.f("fk_record_withdrawal_record_id_sealed_record"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_record_withdrawal")),
        sa.UniqueConstraint("record_id", name=op.f("uq_record_withdrawal_record_id")),
    )
    op.create_table(
        "collective_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approval_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["account.id"], name=op.f("fk_collective_decision_approved_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["sealed_record.id"],
            name=op.f("fk_collective_decision_record_id_sealed_record"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_collective_decision_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_collective_decision")),
    )
    op.create_index(
        op.f("ix_collective_decision_record_id"), "collective_decision", ["record_id"], unique=False
    )
    op.create_index(
        op.f("ix_collective_decision_session_id"),
        "collective_decision",
        ["session_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_collective_decision_session_id"), table_name="collective_decision")
    op.drop_index(op.f("ix_collective_decision_record_id"), table_name="collective_decision")
    op.drop_table("collective_decision")
    op.drop_table("record_withdrawal")
    op.execute("DELETE FROM sealed_record WHERE kind = 'interview_absent'")
    with op.batch_alter_table("sealed_record", schema=None) as batch_op:
        batch_op.drop_column("item_count")
        batch_op.alter_column(
            "kind",
            existing_type=_enum("sealedkind", *_NEW_KINDS),
            type_=_enum("sealedkind", *_OLD_KINDS),
            existing_nullable=False,
        )
    op.execute("UPDATE account SET active = false, role = 'lead' WHERE role = 'centre'")
    op.execute("DELETE FROM account_request WHERE role = 'centre'")
    _alter_enum("account_request", "role", "role", _NEW_ROLES, _OLD_ROLES)
    _account_roles(_NEW_ROLES, _OLD_ROLES)
