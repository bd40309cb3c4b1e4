"""deputy lead, withdrawn rulings, recusal declarations kept as keyed digests

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

- ``exam_session.deputy_id``: the deputy lead who rules where the lead is excluded.
- ``exam_session.recusal_key`` and ``pending_conflict.id_digest``: a declaration waits for
  later intakes as HMAC-SHA256 of its ID number, never in clear (rows written before this
  revision are converted here).
- ``exclusion`` and ``pending_conflict`` refer to any account, so a lead can be excluded.
- ``arbitration.response_id`` is no longer unique: a withdrawn arbitration stays beside
  the one that replaces it; ``ruling_withdrawal`` records the withdrawal.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _digest(key: bytes, id_number: str) -> str:
    # The same function as marking.intake.recusal.id_digest, frozen here as migrations must be.
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def upgrade() -> None:
    bind = op.get_bind()
    # exam_session is referenced by most tables: on SQLite it is altered in place (a batch
    # copy would have to drop it under foreign-key enforcement), elsewhere as usual.
    if bind.dialect.name == "sqlite":
        # (A downgrade on SQLite leaves the column in place: then it is there already.)
        columns = {c["name"] for c in sa.inspect(bind).get_columns("exam_session")}
        if "deputy_id" not in columns:
            op.execute(
                "ALTER TABLE exam_session ADD COLUMN deputy_id INTEGER "
                "CONSTRAINT fk_exam_session_deputy_id_account REFERENCES account (id)"
            )
    else:
        op.add_column("exam_session", sa.Column("deputy_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_exam_session_deputy_id_account"),
            "exam_session",
            "account",
            ["deputy_id"],
            ["id"],
        )
    op.add_column(
        "exam_session", sa.Column("recusal_key", sa.LargeBinary(length=32), nullable=True)
    )
    exam_session = sa.table(
        "exam_session", sa.column("id", sa.Integer), sa.column("recusal_key", sa.LargeBinary)
    )
    keys: dict[int, bytes] = {}
    for (session_id,) in bind.execute(sa.select(exam_session.c.id)).all():
        keys[session_id] = secrets.token_bytes(32)
        bind.execute(
            exam_session.update()
            .where(exam_session.c.id == session_id)
            .values(recusal_key=keys[session_id])
        )

    with op.batch_alter_table("pending_conflict", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_digest", sa.String(length=64), nullable=True))
    pending = sa.table(
        "pending_conflict",
        sa.column("id", sa.Integer),
        sa.column("session_id", sa.Integer),
        sa.column("id_number", sa.String),
        sa.column("id_digest", sa.String),
    )
    for row_id, session_id, id_number in bind.execute(
        sa.select(pending.c.id, pending.c.session_id, pending.c.id_number)
    ).all():
        bind.execute(
            pending.update()
            .where(pending.c.id == row_id)
            .values(id_digest=_digest(keys[session_id], id_number))
        )
    with op.batch_alter_table("pending_conflict", schema=None) as batch_op:
        batch_op.drop_constraint(
            "uq_pending_conflict_session_id_examiner_id_id_number", type_="unique"
        )
        batch_op.drop_constraint("fk_pending_conflict_examiner_id_examiner", type_="foreignkey")
        batch_op.drop_column("id_number")
        batch_op.alter_column("id_digest", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_pending_conflict_session_id_examiner_id_id_digest"),
            ["session_id", "examiner_id", "id_digest"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_pending_conflict_examiner_id_account"),
            "account",
            ["examiner_id"],
            ["id"],
        )

    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.drop_constraint("fk_exclusion_examiner_id_examiner", type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_exclusion_examiner_id_account"), "account", ["examiner_id"], ["id"]
        )

    with op.batch_alter_table("arbitration", schema=None) as batch_op:
        batch_op.drop_constraint("uq_arbitration_response_id", type_="unique")
        batch_op.create_index(batch_op.f("ix_arbitration_response_id"), ["response_id"])

    op.create_table(
        "ruling_withdrawal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("arbitration_id", sa.Integer(), nullable=True),
        sa.Column("anomaly_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(arbitration_id IS NULL) <> (anomaly_id IS NULL)",
            name=op.f("ck_ruling_withdrawal_one_ruling"),
        ),
        sa.ForeignKeyConstraint(
            ["anomaly_id"], ["anomaly.id"], name=op.f("fk_ruling_withdrawal_anomaly_id_anomaly")
        ),
        sa.ForeignKeyConstraint(
            ["arbitration_id"],
            ["arbitration.id"],
            name=op.f("fk_ruling_withdrawal_arbitration_id_arbitration"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ruling_withdrawal")),
        sa.UniqueConstraint("anomaly_id", name=op.f("uq_ruling_withdrawal_anomaly_id")),
        sa.UniqueConstraint("arbitration_id", name=op.f("uq_ruling_withdrawal_arbitration_id")),
    )


def downgrade() -> None:
    # Fails, as it should, where the newer schema holds what the older cannot: a second
    # arbitration on a response, or an exclusion of a lead. Waiting declarations cannot
    # become clear text again: they are dropped (publication still checks them, sealed).
    op.drop_table("ruling_withdrawal")
    with op.batch_alter_table("arbitration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_arbitration_response_id"))
        batch_op.create_unique_constraint("uq_arbitration_response_id", ["response_id"])
    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.drop_constraint("fk_exclusion_examiner_id_account", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_exclusion_examiner_id_examiner", "examiner", ["examiner_id"], ["account_id"]
        )
    op.execute("DELETE FROM pending_conflict")
    with op.batch_alter_table("pending_conflict", schema=None) as batch_op:
        batch_op.drop_constraint("uq_pending_conflict_session_id_examiner_id_id_digest")
        batch_op.drop_constraint("fk_pending_conflict_examiner_id_account", type_="foreignkey")
        batch_op.drop_column("id_digest")
        batch_op.add_column(sa.Column("id_number", sa.String(length=64), nullable=False))
        batch_op.create_unique_constraint(
            "uq_pending_conflict_session_id_examiner_id_id_number",
            ["session_id", "examiner_id", "id_number"],
        )
        batch_op.create_foreign_key(
            "fk_pending_conflict_examiner_id_examiner",
            "examiner",
            ["examiner_id"],
            ["account_id"],
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE exam_session DROP COLUMN recusal_key")
        # A column with a foreign key cannot be dropped in place on SQLite; it stays, unused.
    else:
        op.drop_constraint("fk_exam_session_deputy_id_account", "exam_session")
        op.drop_column("exam_session", "recusal_key")
        op.drop_column("exam_session", "deputy_id")
