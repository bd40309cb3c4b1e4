"""scans: batches, files, pages, sheets, cut boxes, read answers, quarantine; blank responses

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08

``response.blank`` comes with a constant default, so no table is copied on SQLite. The sealed
records' kinds gain ``scan_header``: the CHECK constraint is rebuilt (a batch on SQLite).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_OLD_KINDS = ("conflict", "violation", "interview")
_NEW_KINDS = (*_OLD_KINDS, "scan_header")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def _sealed_kinds(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    with op.batch_alter_table("sealed_record", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum("sealedkind", *old),
            type_=_enum("sealedkind", *new),
            existing_nullable=False,
        )


def upgrade() -> None:
    op.add_column(
        "response", sa.Column("blank", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    _sealed_kinds(_OLD_KINDS, _NEW_KINDS)
    op.create_table(
        "scan_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("component_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("state", _enum("scanbatchstate", "open", "closed"), nullable=False),
        sa.Column("roster", sa.Text(), nullable=True),
        sa.Column("roster_size", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_note", sa.Text(), nullable=True),
        sa.Column("intake_batch_id", sa.Integer(), nullable=True),
        _fk("scan_batch", "component_id", "component"),
        _fk("scan_batch", "intake_batch_id", "intake_batch"),
        _fk("scan_batch", "session_id", "exam_session"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_batch")),
    )
    op.create_index(op.f("ix_scan_batch_session_id"), "scan_batch", ["session_id"])
    op.create_table(
        "scan_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=True),
        sa.Column("pages_done", sa.Integer(), nullable=False),
        sa.Column(
            "state", _enum("scanfilestate", "queued", "reading", "done", "failed"), nullable=False
        ),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("scan_file", "batch_id", "scan_batch"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_file")),
        sa.UniqueConstraint("batch_id", "sha256", name=op.f("uq_scan_file_batch_id_sha256")),
    )
    op.create_index(op.f("ix_scan_file_batch_id"), "scan_file", ["batch_id"])
    op.create_table(
        "scan_sheet",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=16), nullable=False),
        sa.Column("pages_needed", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            _enum("scansheetstate", "gathering", "complete", "taken", "discarded"),
            nullable=False,
        ),
        sa.Column("exam_no", sa.String(length=32), nullable=True),
        sa.Column("exam_problem", sa.Text(), nullable=True),
        sa.Column("header_png", sa.LargeBinary(), nullable=True),
        sa.Column("absent", sa.Boolean(), nullable=True),
        sa.Column("violation", sa.Boolean(), nullable=True),
        sa.Column("violation_action", sa.String(length=16), nullable=True),
        _fk("scan_sheet", "batch_id", "scan_batch"),
        _fk("scan_sheet", "session_id", "exam_session"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_sheet")),
        sa.UniqueConstraint("session_id", "serial", name=op.f("uq_scan_sheet_session_id_serial")),
    )
    op.create_index(op.f("ix_scan_sheet_batch_id"), "scan_sheet", ["batch_id"])
    op.create_table(
        "scan_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=16), nullable=True),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column(
            "state", _enum("scanpagestate", "taken", "quarantined", "discarded"), nullable=False
        ),
        sa.Column("sheet_id", sa.Integer(), nullable=True),
        _fk("scan_page", "file_id", "scan_file"),
        _fk("scan_page", "sheet_id", "scan_sheet"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_page")),
        sa.UniqueConstraint("file_id", "number", name=op.f("uq_scan_page_file_id_number")),
    )
    op.create_index(op.f("ix_scan_page_sheet_id"), "scan_page", ["sheet_id"])
    _boxes_answers_items()


def _boxes_answers_items() -> None:
    op.create_table(
        "scan_box",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=True),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("blank", sa.Boolean(), nullable=False),
        _fk("scan_box", "page_id", "scan_page"),
        _fk("scan_box", "sheet_id", "scan_sheet"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_box")),
        sa.UniqueConstraint("sheet_id", "question", name=op.f("uq_scan_box_sheet_id_question")),
    )
    op.create_table(
        "scan_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=True),
        sa.Column("verified_by", sa.String(length=64), nullable=True),
        _fk("scan_answer", "sheet_id", "scan_sheet"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_answer")),
        sa.UniqueConstraint("sheet_id", "question", name=op.f("uq_scan_answer_sheet_id_question")),
    )
    kinds = (
        "unreadable",
        "foreign",
        "repeated",
        "incomplete",
        "exam_number",
        "off_roster",
        "claimed_twice",
        "bubble_row",
        "fill_in",
        "absent",
        "violation",
    )
    op.create_table(
        "quarantine_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("quarantinekind", *kinds), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=True),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("question", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("crop", sa.LargeBinary(), nullable=True),
        sa.Column(
            "state", _enum("quarantinestate", "open", "resolved", "discarded"), nullable=False
        ),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("quarantine_item", "batch_id", "scan_batch"),
        _fk("quarantine_item", "file_id", "scan_file"),
        _fk("quarantine_item", "page_id", "scan_page"),
        _fk("quarantine_item", "sheet_id", "scan_sheet"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine_item")),
    )
    op.create_index(op.f("ix_quarantine_item_batch_id"), "quarantine_item", ["batch_id"])


def downgrade() -> None:
    for table in (
        "quarantine_item",
        "scan_answer",
        "scan_box",
        "scan_page",
        "scan_sheet",
        "scan_file",
        "scan_batch",
    ):
        op.drop_table(table)
    op.execute("DELETE FROM sealed_record WHERE kind = 'scan_header'")
    _sealed_kinds(_NEW_KINDS, _OLD_KINDS)
    with op.batch_alter_table("response", schema=None) as batch_op:
        batch_op.drop_column("blank")
