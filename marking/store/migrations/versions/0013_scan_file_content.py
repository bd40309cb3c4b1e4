"""scan file content: a queued scan file's bytes in a row of their own

The scan file's row is updated with every page read (progress, lease); SQLite reads and
rewrites a row whole, so with the bundle's bytes in it each page cost megabytes of I/O.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_file_content",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["scan_file.id"], name=op.f("fk_scan_file_content_file_id_scan_file")
        ),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_scan_file_content")),
    )
    op.execute(
        "INSERT INTO scan_file_content (file_id, content) "
        "SELECT id, content FROM scan_file WHERE content IS NOT NULL"
    )
    with op.batch_alter_table("scan_file", schema=None) as batch_op:
        batch_op.drop_column("content")


def downgrade() -> None:
    with op.batch_alter_table("scan_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE scan_file SET content = (SELECT content FROM scan_file_content "
        "WHERE scan_file_content.file_id = scan_file.id)"
    )
    op.drop_table("scan_file_content")
