"""quality control while marking (DESIGN §13): qualification sets and seeds, the checks
handed to examiners (qualification, seed, 回评), drift alarms, the lead's suspensions and
qualification overrides, monitoring snapshots; each group's settings and each
assignment's qualification and check schedule.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_snapshot",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("took_ms", sa.Integer(), nullable=False),
        sa.Column("last_mark_id", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_monitoring_snapshot_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_monitoring_snapshot")),
    )
    op.create_table(
        "check_alarm",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "seeds_off",
                "seed_bias",
                name="alarmkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["account.id"], name=op.f("fk_check_alarm_closed_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_check_alarm_examiner_id_examiner"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["marking_group.id"], name=op.f("fk_check_alarm_group_id_marking_group")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_check_alarm_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_alarm")),
    )
    with op.batch_alter_table("check_alarm", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_alarm_session_id"), ["session_id"], unique=False)

    op.create_table(
        "group_suspension",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("keep_marks", sa.Boolean(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("reinstated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reinstated_by", sa.Integer(), nullable=True),
        sa.Column("reinstate_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["account.id"], name=op.f("fk_group_suspension_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_group_suspension_examiner_id_examiner"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["marking_group.id"],
            name=op.f("fk_group_suspension_group_id_marking_group"),
        ),
        sa.ForeignKeyConstraint(
            ["reinstated_by"],
            ["account.id"],
            name=op.f("fk_group_suspension_reinstated_by_account"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_group_suspension_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_suspension")),
    )
    with op.batch_alter_table("group_suspension", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_suspension_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "qualification_override",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["account.id"], name=op.f("fk_qualification_override_by_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_qualification_override_examiner_id_examiner"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["marking_group.id"],
            name=op.f("fk_qualification_override_group_id_marking_group"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_qualification_override_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification_override")),
    )
    with op.batch_alter_table("qualification_override", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_qualification_override_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "check_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "purpose",
            sa.Enum(
                "qualification",
                "seed",
                "remark",
                name="checkpurpose",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.Integer(), nullable=True),
        sa.CheckConstraint("value >= 0", name=op.f("ck_check_item_value_non_negative")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["account.id"], name=op.f("fk_check_item_created_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["marking_group.id"], name=op.f("fk_check_item_group_id_marking_group")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_check_item_response_id_response")
        ),
        sa.ForeignKeyConstraint(
            ["retired_by"], ["account.id"], name=op.f("fk_check_item_retired_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_check_item_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_item")),
        sa.UniqueConstraint(
            "response_id", "purpose", name=op.f("uq_check_item_response_id_purpose")
        ),
    )
    with op.batch_alter_table("check_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_check_item_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_check_item_session_id"), ["session_id"], unique=False)

    op.create_table(
        "check_mark",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "qualification",
                "seed",
                "remark",
                name="checkpurpose",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("mark_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("expected", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "held",
                "submitted",
                "expired",
                "released",
                name="checkstate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempt >= 1", name=op.f("ck_check_mark_attempt_positive")),
        sa.CheckConstraint(
            "value IS NULL OR value >= 0", name=op.f("ck_check_mark_value_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_check_mark_examiner_id_examiner"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["marking_group.id"], name=op.f("fk_check_mark_group_id_marking_group")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["check_item.id"], name=op.f("fk_check_mark_item_id_check_item")
        ),
        sa.ForeignKeyConstraint(["mark_id"], ["mark.id"], name=op.f("fk_check_mark_mark_id_mark")),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_check_mark_response_id_response")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_check_mark_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_check_mark")),
        sa.UniqueConstraint(
            "examiner_id",
            "response_id",
            "purpose",
            "attempt",
            name=op.f("uq_check_mark_examiner_id_response_id_purpose_attempt"),
        ),
    )
    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.create_index(
            "ix_check_mark_examiner_group", ["examiner_id", "group_id", "purpose"], unique=False
        )
        batch_op.create_index(
            "ix_check_mark_held",
            ["state", "expires_at"],
            unique=False,
            sqlite_where=sa.text("state = 'held'"),
            postgresql_where=sa.text("state = 'held'"),
        )
        batch_op.create_index(
            "ix_check_mark_response_examiner", ["response_id", "examiner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_check_mark_session_id"), ["session_id"], unique=False)

    op.add_column(
        "assignment", sa.Column("qualified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "assignment", sa.Column("handed", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("assignment", sa.Column("seed_due", sa.Integer(), nullable=True))
    op.add_column("assignment", sa.Column("remark_due", sa.Integer(), nullable=True))

    op.add_column("marking_group", sa.Column("qualification_size", sa.Integer(), nullable=True))
    op.add_column(
        "marking_group", sa.Column("qualification_within", sa.BigInteger(), nullable=True)
    )
    op.add_column(
        "marking_group",
        sa.Column("seed_rate", sa.BigInteger(), server_default="50", nullable=False),
    )
    op.add_column(
        "marking_group",
        sa.Column("remark_rate", sa.BigInteger(), server_default="10", nullable=False),
    )


def downgrade() -> None:
    op.drop_column("marking_group", "remark_rate")
    op.drop_column("marking_group", "seed_rate")
    op.drop_column("marking_group", "qualification_within")
    op.drop_column("marking_group", "qualification_size")

    op.drop_column("assignment", "remark_due")
    op.drop_column("assignment", "seed_due")
    op.drop_column("assignment", "handed")
    op.drop_column("assignment", "qualified_at")

    with op.batch_alter_table("check_mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_mark_session_id"))
        batch_op.drop_index("ix_check_mark_response_examiner")
        batch_op.drop_index(
            "ix_check_mark_held",
            sqlite_where=sa.text("state = 'held'"),
            postgresql_where=sa.text("state = 'held'"),
        )
        batch_op.drop_index("ix_check_mark_examiner_group")

    op.drop_table("check_mark")
    with op.batch_alter_table("check_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_item_session_id"))
        batch_op.drop_index(batch_op.f("ix_check_item_group_id"))

    op.drop_table("check_item")
    with op.batch_alter_table("qualification_override", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qualification_override_session_id"))

    op.drop_table("qualification_override")
    with op.batch_alter_table("group_suspension", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_suspension_session_id"))

    op.drop_table("group_suspension")
    with op.batch_alter_table("check_alarm", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_check_alarm_session_id"))

    op.drop_table("check_alarm")
    op.drop_table("monitoring_snapshot")
