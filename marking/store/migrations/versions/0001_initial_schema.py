"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "office",
                "director",
                "lead",
                "examiner",
                name="role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account")),
        sa.UniqueConstraint("username", name=op.f("uq_account_username")),
    )
    op.create_table(
        "image",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_image")),
    )
    op.create_table(
        "exam_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("occupation", sa.String(length=128), nullable=False),
        sa.Column("occupation_code", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "draft",
                "intake",
                "marking",
                "reconciled",
                "published",
                name="sessionstate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=True),
        sa.Column(
            "custody",
            sa.Enum(
                "key_file",
                "shares",
                name="custody",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("custodians", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_exam_session_level_range")),
        sa.CheckConstraint(
            "threshold IS NULL OR (threshold >= 1 AND threshold <= custodians)",
            name=op.f("ck_exam_session_threshold"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["account.id"], name=op.f("fk_exam_session_lead_id_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exam_session")),
        sa.UniqueConstraint("code", name=op.f("uq_exam_session_code")),
    )
    op.create_table(
        "examiner",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("certificate_no", sa.String(length=64), nullable=False),
        sa.Column("certificate_expires", sa.Date(), nullable=False),
        sa.Column(
            "grade",
            sa.Enum(
                "examiner",
                "senior",
                name="grade",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("institution", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_examiner_account_id_account")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_examiner")),
        sa.UniqueConstraint("certificate_no", name=op.f("uq_examiner_certificate_no")),
    )
    op.create_table(
        "component",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_component_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component")),
        sa.UniqueConstraint("session_id", "key", name=op.f("uq_component_session_id_key")),
    )
    with op.batch_alter_table("component", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_component_session_id"), ["session_id"], unique=False)

    op.create_table(
        "examiner_scope",
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column("occupation_code", sa.String(length=32), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name=op.f("ck_examiner_scope_level_range")),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_examiner_scope_examiner_id_examiner"),
        ),
        sa.PrimaryKeyConstraint(
            "examiner_id", "occupation_code", "level", name=op.f("pk_examiner_scope")
        ),
    )
    op.create_table(
        "intake_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("candidate_count", sa.Integer(), nullable=False),
        sa.Column("script_count", sa.Integer(), nullable=False),
        sa.Column("response_count", sa.BigInteger(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("identities", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_intake_batch_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_batch")),
        sa.UniqueConstraint("session_id", "digest", name=op.f("uq_intake_batch_session_id_digest")),
    )
    with op.batch_alter_table("intake_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_intake_batch_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("lane", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_ledger_entry_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint(
            "session_id", "lane", "seq", name=op.f("uq_ledger_entry_session_id_lane_seq")
        ),
    )
    op.create_table(
        "marking_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("marks_required", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("marks_required >= 2", name=op.f("ck_marking_group_at_least_two_marks")),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["account.id"], name=op.f("fk_marking_group_approved_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_marking_group_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marking_group")),
        sa.UniqueConstraint("session_id", "key", name=op.f("uq_marking_group_session_id_key")),
    )
    with op.batch_alter_table("marking_group", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_marking_group_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "pending_conflict",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column("id_number", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_pending_conflict_examiner_id_examiner"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_pending_conflict_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_conflict")),
        sa.UniqueConstraint(
            "session_id",
            "examiner_id",
            "id_number",
            name=op.f("uq_pending_conflict_session_id_examiner_id_id_number"),
        ),
    )
    with op.batch_alter_table("pending_conflict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pending_conflict_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "publication",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.Integer(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=False),
        sa.Column("results_sha256", sa.String(length=64), nullable=False),
        sa.Column("ledger_head", sa.String(length=64), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["account.id"], name=op.f("fk_publication_approved_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["account.id"], name=op.f("fk_publication_published_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_publication_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publication")),
        sa.UniqueConstraint("session_id", name=op.f("uq_publication_session_id")),
    )
    op.create_table(
        "result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("exam_no", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("id_number", sa.String(length=64), nullable=False),
        sa.Column("institution", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("interview_score", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_result_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_result")),
        sa.UniqueConstraint("session_id", "exam_no", name=op.f("uq_result_session_id_exam_no")),
    )
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_result_session_id"), ["session_id"], unique=False)

    op.create_table(
        "sealed_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "conflict",
                "violation",
                "interview",
                name="sealedkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["exam_session.id"],
            name=op.f("fk_sealed_record_session_id_exam_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_record")),
    )
    with op.batch_alter_table("sealed_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sealed_record_session_id"), ["session_id"], unique=False
        )

    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["examiner_id"],
            ["examiner.account_id"],
            name=op.f("fk_assignment_examiner_id_examiner"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["marking_group.id"], name=op.f("fk_assignment_group_id_marking_group")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_assignment_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint(
            "group_id", "examiner_id", name=op.f("uq_assignment_group_id_examiner_id")
        ),
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_assignment_examiner_id"), ["examiner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_assignment_session_id"), ["session_id"], unique=False)

    op.create_table(
        "question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("bank_item", sa.String(length=64), nullable=False),
        sa.Column(
            "type",
            sa.Enum(
                "single_choice",
                "multiple_choice",
                "true_false",
                "fill_blank",
                "short_answer",
                "calculation",
                "essay",
                "case_analysis",
                "practical",
                name="questiontype",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("max", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("tolerance", sa.BigInteger(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("scheme", sa.Text(), nullable=False),
        sa.Column("answer", sa.JSON(none_as_null=True), nullable=True),
        sa.CheckConstraint(
            "(answer IS NULL) = (group_id IS NOT NULL)",
            name=op.f("ck_question_objective_xor_group"),
        ),
        sa.CheckConstraint("max % step = 0", name=op.f("ck_question_max_on_step")),
        sa.CheckConstraint("max > 0", name=op.f("ck_question_max_positive")),
        sa.CheckConstraint("step > 0", name=op.f("ck_question_step_positive")),
        sa.CheckConstraint("tolerance >= 0", name=op.f("ck_question_tolerance_non_negative")),
        sa.ForeignKeyConstraint(
            ["component_id"], ["component.id"], name=op.f("fk_question_component_id_component")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["marking_group.id"], name=op.f("fk_question_group_id_marking_group")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question")),
        sa.UniqueConstraint("component_id", "number", name=op.f("uq_question_component_id_number")),
    )
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_question_component_id"), ["component_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_question_group_id"), ["group_id"], unique=False)

    op.create_table(
        "script",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"], ["component.id"], name=op.f("fk_script_component_id_component")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_script_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_script")),
        sa.UniqueConstraint("code", name=op.f("uq_script_code")),
    )
    with op.batch_alter_table("script", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_script_component_id"), ["component_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_script_session_id"), ["session_id"], unique=False)

    op.create_table(
        "exclusion",
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["examiner_id"], ["examiner.account_id"], name=op.f("fk_exclusion_examiner_id_examiner")
        ),
        sa.ForeignKeyConstraint(
            ["script_id"], ["script.id"], name=op.f("fk_exclusion_script_id_script")
        ),
        sa.PrimaryKeyConstraint("script_id", "examiner_id", name=op.f("pk_exclusion")),
    )
    op.create_table(
        "key_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("old_answer", sa.JSON(), nullable=False),
        sa.Column("new_answer", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.Integer(), nullable=False),
        sa.Column("rescored", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["by"], ["account.id"], name=op.f("fk_key_correction_by_account")),
        sa.ForeignKeyConstraint(
            ["question_id"], ["question.id"], name=op.f("fk_key_correction_question_id_question")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_correction")),
    )
    with op.batch_alter_table("key_correction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_key_correction_question_id"), ["question_id"], unique=False
        )

    op.create_table(
        "response",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("script_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=True),
        sa.Column("key_score", sa.BigInteger(), nullable=True),
        sa.Column("group_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "open",
                "anomaly",
                "arbitration",
                "final",
                name="responsestate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            server_default="open",
            nullable=False,
        ),
        sa.Column("marks_needed", sa.Integer(), server_default="0", nullable=False),
        sa.Column("marks_done", sa.Integer(), server_default="0", nullable=False),
        sa.Column("held", sa.Integer(), server_default="0", nullable=False),
        sa.Column("final", sa.BigInteger(), nullable=True),
        sa.Column("final_rule", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["marking_group.id"], name=op.f("fk_response_group_id_marking_group")
        ),
        sa.ForeignKeyConstraint(
            ["image_sha256"], ["image.sha256"], name=op.f("fk_response_image_sha256_image")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"], ["question.id"], name=op.f("fk_response_question_id_question")
        ),
        sa.ForeignKeyConstraint(
            ["script_id"], ["script.id"], name=op.f("fk_response_script_id_script")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response")),
        sa.UniqueConstraint(
            "script_id", "question_id", name=op.f("uq_response_script_id_question_id")
        ),
    )
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.create_index(
            "ix_response_open",
            ["group_id"],
            unique=False,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )
        batch_op.create_index(batch_op.f("ix_response_question_id"), ["question_id"], unique=False)

    op.create_table(
        "anomaly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "blank",
                "illegible",
                "identifying_mark",
                "suspected_copying",
                "question_error",
                "key_error",
                "other",
                name="anomalykind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "resolution",
            sa.Enum(
                "requeue",
                "final",
                "key_correction",
                name="anomalyresolution",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_value", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["examiner_id"], ["examiner.account_id"], name=op.f("fk_anomaly_examiner_id_examiner")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["account.id"], name=op.f("fk_anomaly_resolved_by_account")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_anomaly_response_id_response")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["exam_session.id"], name=op.f("fk_anomaly_session_id_exam_session")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomaly")),
    )
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_anomaly_response_id"), ["response_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_anomaly_session_id"), ["session_id"], unique=False)

    op.create_table(
        "arbitration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_arbitration_value_non_negative")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["account.id"], name=op.f("fk_arbitration_lead_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_arbitration_response_id_response")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_arbitration")),
        sa.UniqueConstraint("response_id", name=op.f("uq_arbitration_response_id")),
    )
    op.create_table(
        "lease",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "held",
                "submitted",
                "expired",
                "released",
                name="leasestate",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["examiner_id"], ["examiner.account_id"], name=op.f("fk_lease_examiner_id_examiner")
        ),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_lease_response_id_response")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lease")),
    )
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.create_index("ix_lease_examiner_state", ["examiner_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_lease_response_id"), ["response_id"], unique=False)
        batch_op.create_index("ix_lease_state_expires", ["state", "expires_at"], unique=False)
        batch_op.create_index(
            "uq_lease_held",
            ["response_id", "examiner_id"],
            unique=True,
            sqlite_where=sa.text("state = 'held'"),
            postgresql_where=sa.text("state = 'held'"),
        )

    op.create_table(
        "mark",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "response_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("examiner_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "double",
                "third",
                name="markkind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("lease_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value >= 0", name=op.f("ck_mark_value_non_negative")),
        sa.ForeignKeyConstraint(
            ["examiner_id"], ["examiner.account_id"], name=op.f("fk_mark_examiner_id_examiner")
        ),
        sa.ForeignKeyConstraint(["lease_id"], ["lease.id"], name=op.f("fk_mark_lease_id_lease")),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_mark_response_id_response")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mark")),
        sa.UniqueConstraint("lease_id", name=op.f("uq_mark_lease_id")),
        sa.UniqueConstraint(
            "response_id", "examiner_id", name=op.f("uq_mark_response_id_examiner_id")
        ),
    )
    with op.batch_alter_table("mark", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mark_examiner_id"), ["examiner_id"], unique=False)

    op.create_table(
        "mark_withdrawal",
        sa.Column("mark_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mark_id"], ["mark.id"], name=op.f("fk_mark_withdrawal_mark_id_mark")
        ),
        sa.PrimaryKeyConstraint("mark_id", name=op.f("pk_mark_withdrawal")),
    )


def downgrade() -> None:

    op.drop_table("mark_withdrawal")
    with op.batch_alter_table("mark", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mark_examiner_id"))

    op.drop_table("mark")
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_lease_held",
            sqlite_where=sa.text("state = 'held'"),
            postgresql_where=sa.text("state = 'held'"),
        )
        batch_op.drop_index("ix_lease_state_expires")
        batch_op.drop_index(batch_op.f("ix_lease_response_id"))
        batch_op.drop_index("ix_lease_examiner_state")

    op.drop_table("lease")
    op.drop_table("arbitration")
    with op.batch_alter_table("anomaly", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_anomaly_session_id"))
        batch_op.drop_index(batch_op.f("ix_anomaly_response_id"))

    op.drop_table("anomaly")
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_question_id"))
        batch_op.drop_index(
            "ix_response_open",
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    op.drop_table("response")
    with op.batch_alter_table("key_correction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_correction_question_id"))

    op.drop_table("key_correction")
    op.drop_table("exclusion")
    with op.batch_alter_table("script", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_script_session_id"))
        batch_op.drop_index(batch_op.f("ix_script_component_id"))

    op.drop_table("script")
    with op.batch_alter_table("question", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_group_id"))
        batch_op.drop_index(batch_op.f("ix_question_component_id"))

    op.drop_table("question")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_session_id"))
        batch_op.drop_index(batch_op.f("ix_assignment_examiner_id"))

    op.drop_table("assignment")
    with op.batch_alter_table("sealed_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sealed_record_session_id"))

    op.drop_table("sealed_record")
    with op.batch_alter_table("result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_result_session_id"))

    op.drop_table("result")
    op.drop_table("publication")
    with op.batch_alter_table("pending_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_conflict_session_id"))

    op.drop_table("pending_conflict")
    with op.batch_alter_table("marking_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_marking_group_session_id"))

    op.drop_table("marking_group")
    op.drop_table("ledger_entry")
    with op.batch_alter_table("intake_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intake_batch_session_id"))

    op.drop_table("intake_batch")
    op.drop_table("examiner_scope")
    with op.batch_alter_table("component", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_component_session_id"))

    op.drop_table("component")
    op.drop_table("examiner")
    op.drop_table("exam_session")
    op.drop_table("image")
    op.drop_table("account")
