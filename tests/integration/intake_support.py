"""Shared by the intake tests: sessions with keys, batch files, and what intake stored."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anonymizer.seal import associated_data
from anonymizer.unseal import SessionKey
from marking.demo import synthetic
from marking.domain.definition import parse_session_definition
from marking.setup.sessions import create_session, init_keys
from marking.store.models import (
    Component,
    ExamSession,
    Exclusion,
    Image,
    IntakeBatch,
    LedgerEntry,
    PendingConflict,
    Question,
    Response,
    Script,
)

ACTOR = "test"
PASSPHRASE = "correct horse battery staple"
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{12}")  # Crockford's base32, 60 bits
PNG = synthetic._png(8, 4, 120)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))
RESPONSE_HEADER = ["exam_no", "component", "question", "response", "image"]
CANDIDATE_HEADER = ["exam_no", "name", "id_number", "institution"]


# --- helpers ------------------------------------------------------------------------------------


def new_session(db: Session, toml: str, shares: Path) -> ExamSession:
    """A session from a definition, keyed with 2-of-2 shares written into ``shares``."""
    exam = create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
    init_keys(db, exam, actor=ACTOR, custodians=2, threshold=2, out_dir=shares)
    return exam


def synthetic_session(db: Session, tmp_path: Path, code: str, questions: int = 4) -> ExamSession:
    toml = synthetic.session_toml(code, questions_per_component=questions)
    return new_session(db, toml, tmp_path / f"shares-{code}")


def identities(db: Session, exam: ExamSession, batch_id: int, key: SessionKey) -> dict[str, Any]:
    """What the batch sealed, opened as publication would open it."""
    batch = db.get(IntakeBatch, batch_id)
    assert batch is not None
    aad = associated_data("intake_batch", exam.id, batch.id)
    [plain] = key.unseal_many(batch.sealed_key, [(batch.identities, aad)], key_aad=aad)
    records: dict[str, Any] = json.loads(plain)
    return records


def share_key(exam: ExamSession, shares: Path) -> SessionKey:
    return SessionKey.from_share_files(
        sorted(shares.glob("share-*.txt")), expected_public_key=exam.public_key
    )


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def counts(db: Session) -> dict[str, int]:
    """Rows of every table intake writes to."""
    tables = (Script, Response, IntakeBatch, Image, Exclusion, PendingConflict, LedgerEntry)
    return {t.__tablename__: db.scalar(select(func.count()).select_from(t)) or 0 for t in tables}


def stored_responses(db: Session, exam: ExamSession) -> list[tuple[str, str, str, Decimal | None]]:
    """(component, question, text, key score) of every response of the session, sorted."""
    rows = db.execute(
        select(Component.key, Question.number, Response.text, Response.key_score)
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(Script.session_id == exam.id)
    )
    return sorted(
        (tuple(r) for r in rows), key=lambda r: (r[0], int(r[1]), r[2], r[3] or Decimal(-1))
    )


def scripts_by_id(db: Session, exam: ExamSession) -> dict[int, tuple[str, str]]:
    """script id -> (component key, code)."""
    rows = db.execute(
        select(Script.id, Component.key, Script.code)
        .join(Component, Component.id == Script.component_id)
        .where(Script.session_id == exam.id)
    )
    return {sid: (comp, code) for sid, comp, code in rows}


def questions_of_script(db: Session, script_id: int) -> set[str]:
    return set(
        db.scalars(
            select(Question.number)
            .join(Response, Response.question_id == Question.id)
            .where(Response.script_id == script_id)
        )
    )
