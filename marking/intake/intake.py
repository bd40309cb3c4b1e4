"""Anonymizing intake of a batch folder: roster and responses in, codes and ciphertext out.

The roster lives only in this process's memory. What reaches the database is scripts
with random codes created in a random order, responses keyed by script, objective
scores, exclusions, and the batch's identity records sealed to the session's public key.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from anonymizer.seal import BatchSealer, associated_data
from marking.audit import ledger
from marking.domain.definition import QuestionDef
from marking.domain.objective import make_scorer
from marking.domain.tabular import find_table, read_rows
from marking.errors import InputError, InputErrors, MarkingError, StateError
from marking.intake.recusal import id_digest
from marking.store.db import to_milli
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    Exclusion,
    Image,
    IntakeBatch,
    MarkingGroup,
    PendingConflict,
    Question,
    Script,
    SessionState,
    utcnow,
)

log = logging.getLogger(__name__)

CANDIDATE_COLUMNS = ("exam_no", "name", "id_number", "institution")
RESPONSE_COLUMNS = ("exam_no", "component", "question", "response")
RESPONSE_OPTIONAL = ("image",)
MAX_ERRORS = 50
MAX_IMAGE_BYTES = 20 * 1024 * 1024
STAGE_CHUNK = 20_000
# Crockford's base32: no I, L, O, U, so a code read aloud or retyped is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 random bits
STAGE_COLUMNS = "cand, comp, qpos, question_id, text, image, key_score, group_id, marks_needed"
# A response's place in the queue (Response.queue_key), drawn by the database for each row
# as it is copied in: a uniform 31-bit number from the server's own generator (SQLite's
# is seeded from the OS; PostgreSQL seeds each backend from pg_strong_random). No one sees
# these numbers; what matters is that neither the roster nor anyone's choice orders the
# queue. Drawn in SQL, the copy stays one statement with nothing more sent per row.
_RANDOM_KEY = {
    "sqlite": "(random() & 2147483647)",
    "postgresql": "floor(random() * 2147483648)::integer",
}


@dataclass
class IntakeSummary:
    batch_id: int
    candidates: int
    scripts: int
    responses: int
    objective_scored: int
    images: int
    exclusions: int
    by_component: dict[str, int] = field(default_factory=dict)


def new_script_code(rng: Callable[[int], bytes] = secrets.token_bytes) -> str:
    raw = int.from_bytes(rng(8), "big")
    return "".join(CODE_ALPHABET[(raw >> (5 * i)) & 31] for i in range(CODE_LENGTH))


def batch_digest(*paths: Path) -> str:
    """SHA-256 over the batch's files as received, to refuse the same batch twice."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()


class _Errors:
    """Collects problems up to a cap, then stops the scan."""

    def __init__(self) -> None:
        self.items: list[InputError] = []

    def add(self, file: str, row: int, column: str, reason: str) -> None:
        self.items.append(InputError(file, reason, row=row, column=column))
        if len(self.items) >= MAX_ERRORS:
            raise InputErrors(self.items, truncated=True)

    def raise_if_any(self) -> None:
        if self.items:
            raise InputErrors(self.items)


@dataclass(frozen=True)
class _Candidate:
    exam_no: str
    name: str
    id_number: str
    institution: str


def _read_roster(path: Path, errors: _Errors) -> list[_Candidate]:
    roster: list[_Candidate] = []
    exam_rows: dict[str, int] = {}
    id_rows: dict[str, int] = {}
    for rowno, (exam_no, name, id_number, institution) in read_rows(path, CANDIDATE_COLUMNS):
        ok = True
        for column, value in (("exam_no", exam_no), ("name", name), ("id_number", id_number)):
            if not value:
                errors.add(path.name, rowno, column, "empty")
                ok = False
        if exam_no and exam_no in exam_rows:
            errors.add(
                path.name,
                rowno,
                "exam_no",
                f"duplicate exam number (first at row {exam_rows[exam_no]})",
            )
            ok = False
        if id_number and id_number.upper() in id_rows:
            errors.add(
                path.name,
                rowno,
                "id_number",
                f"the same ID number as row {id_rows[id_number.upper()]}: one candidate, two rows",
            )
            ok = False
        if ok:
            exam_rows[exam_no] = rowno
            id_rows[id_number.upper()] = rowno
            roster.append(_Candidate(exam_no, name, id_number.upper(), institution))
    return roster


@dataclass(frozen=True)
class _QuestionInfo:
    question_id: int
    component_index: int
    column: int  # index of the question across the whole paper (for the duplicate bitmap)
    position: int
    scorer: Callable[[str], Decimal] | None
    group_id: int | None
    marks_needed: int


def _image(folder: Path, relative: str) -> tuple[Path | None, str | None]:
    """Resolve an image path inside the batch folder, or say why not.

    Paths typed on Windows (``images\\a.png``) are accepted: a backslash is never part of
    a file name an office would give.
    """
    candidate = (folder / relative.replace("\\", "/")).resolve()
    if not candidate.is_relative_to(folder):
        return None, "image path leads outside the batch folder"
    if not candidate.is_file():
        return None, "image file not found in the batch folder"
    return candidate, None


def _media_type(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


class _Stage:
    """A temporary table holding the batch's responses until scripts exist.

    Rows are written in file (roster) order but copied into ``response`` sorted by the
    randomly ordered script ids, so neither row ids nor the physical order of rows keeps
    a trace of the roster. The table is dropped before commit.
    """

    def __init__(self, db: Session) -> None:
        self.conn = db.connection()
        self.dialect = self.conn.dialect.name
        temp = "TEMPORARY TABLE"
        suffix = "" if self.dialect == "sqlite" else " ON COMMIT DROP"
        self.conn.exec_driver_sql("DROP TABLE IF EXISTS intake_stage")
        self.conn.exec_driver_sql("DROP TABLE IF EXISTS intake_script")
        self.conn.exec_driver_sql(
            f"CREATE {temp} intake_stage (cand INTEGER NOT NULL, comp INTEGER NOT NULL, "
            "qpos INTEGER NOT NULL, question_id INTEGER NOT NULL, text TEXT NOT NULL, "
            "image VARCHAR(64), key_score BIGINT, group_id INTEGER, marks_needed INTEGER NOT NULL)"
            f"{suffix}"
        )
        self.conn.exec_driver_sql(
            f"CREATE {temp} intake_script (cand INTEGER NOT NULL, comp INTEGER NOT NULL, "
            f"script_id INTEGER NOT NULL, PRIMARY KEY (cand, comp)){suffix}"
        )
        self.raw: Any = self.conn.connection.dbapi_connection

    def write(self, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cur = self.raw.cursor()
        try:
            if self.dialect == "postgresql":
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ",".join("?" * (columns.count(",") + 1))
                cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
        finally:
            cur.close()

    def drop(self) -> None:
        self.conn.exec_driver_sql("DROP TABLE IF EXISTS intake_stage")
        self.conn.exec_driver_sql("DROP TABLE IF EXISTS intake_script")


def intake_batch(
    db: Session,
    exam: ExamSession,
    folder: Path,
    *,
    actor: str,
    name: str | None = None,
    shuffle_rng: random.Random | None = None,
) -> IntakeSummary:
    """Take one batch folder (candidates, responses, images) into the session, anonymized.

    Raises StateError when the session cannot take intake, MarkingError for a batch
    already taken, and InputErrors naming file, row, column and reason for bad files;
    in every case nothing of the batch is stored (the caller's transaction rolls back).
    """
    if exam.public_key is None:
        raise StateError(f"session {exam.code} has no key: run `blindmark keys init` first")
    if exam.state not in (SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING):
        raise StateError(f"session {exam.code} is {exam.state.value}: intake is closed")
    folder = folder.resolve()
    if not folder.is_dir():
        raise MarkingError(f"{folder}: not a folder")
    cand_path = find_table(folder, "candidates")
    resp_path = find_table(folder, "responses")
    assert cand_path is not None and resp_path is not None
    digest = batch_digest(cand_path, resp_path)
    previous = db.scalar(
        select(IntakeBatch).where(IntakeBatch.session_id == exam.id, IntakeBatch.digest == digest)
    )
    if previous is not None:
        raise MarkingError(
            f"this batch was already taken in as batch {previous.id} ({previous.name}) on "
            f"{previous.created_at:%Y-%m-%d %H:%M} UTC; nothing was stored"
        )

    started = time.perf_counter()
    errors = _Errors()
    roster = _read_roster(cand_path, errors)
    errors.raise_if_any()
    cand_index = {c.exam_no: i for i, c in enumerate(roster)}

    components = list(
        db.scalars(
            select(Component).where(Component.session_id == exam.id).order_by(Component.position)
        )
    )
    comp_index = {c.key: i for i, c in enumerate(components)}
    required = {
        gid: n
        for gid, n in db.execute(
            select(MarkingGroup.id, MarkingGroup.marks_required).where(
                MarkingGroup.session_id == exam.id
            )
        )
    }
    questions: dict[tuple[str, str], _QuestionInfo] = {}
    comp_columns: list[list[int]] = [[] for _ in components]
    column = 0
    for ci, comp in enumerate(components):
        for q in db.scalars(
            select(Question).where(Question.component_id == comp.id).order_by(Question.position)
        ):
            needed = required.get(q.group_id, 0) if q.group_id is not None else 0
            questions[(comp.key, q.number)] = _QuestionInfo(
                q.id, ci, column, q.position, make_scorer_for(q), q.group_id, needed
            )
            comp_columns[ci].append(column)
            column += 1
    seen = np.zeros((len(roster), column), dtype=np.bool_)

    stage = _Stage(db)
    images: set[str] = set()
    known_images: set[str] = set()
    rows: list[tuple[Any, ...]] = []
    objective = 0
    rfile = resp_path.name
    for rowno, (exam_no, comp_key, number, response, image_rel) in read_rows(
        resp_path, RESPONSE_COLUMNS, optional=RESPONSE_OPTIONAL
    ):
        cand = cand_index.get(exam_no)
        if cand is None:
            errors.add(rfile, rowno, "exam_no", f"not in {cand_path.name}" if exam_no else "empty")
            continue
        info = questions.get((comp_key, number))
        if info is None:
            if comp_key not in comp_index:
                errors.add(rfile, rowno, "component", f"no component {comp_key!r} in this session")
            else:
                errors.add(
                    rfile, rowno, "question", f"no question {number!r} in component {comp_key}"
                )
            continue
        if seen[cand, info.column]:
            errors.add(
                rfile,
                rowno,
                "question",
                "a second answer to the same question by the same candidate",
            )
            continue
        seen[cand, info.column] = True
        sha: str | None = None
        if image_rel:
            path, why = _image(folder, image_rel)
            if path is None:
                errors.add(rfile, rowno, "image", why or "bad image")
                continue
            content = path.read_bytes()
            media = _media_type(content[:8])
            if media is None:
                errors.add(rfile, rowno, "image", "not a PNG or JPEG file")
                continue
            if len(content) > MAX_IMAGE_BYTES:
                errors.add(rfile, rowno, "image", f"larger than {MAX_IMAGE_BYTES // (1 << 20)} MiB")
                continue
            sha = hashlib.sha256(content).hexdigest()
            if sha not in images and sha not in known_images:
                if db.get(Image, sha) is None:
                    db.add(Image(sha256=sha, media_type=media, size=len(content), content=content))
                    images.add(sha)
                else:
                    known_images.add(sha)
        score: int | None = None
        if info.scorer is not None:
            score = to_milli(info.scorer(response))
            objective += 1
        if not errors.items:
            rows.append(
                (
                    cand,
                    info.component_index,
                    info.position,
                    info.question_id,
                    response,
                    sha,
                    score,
                    info.group_id,
                    info.marks_needed,
                )
            )
            if len(rows) >= STAGE_CHUNK:
                stage.write("intake_stage", STAGE_COLUMNS, rows)
                rows.clear()
    errors.raise_if_any()
    stage.write("intake_stage", STAGE_COLUMNS, rows)
    rows.clear()
    if images:
        db.flush()
    log.info("intake: files read and staged in %.2f s", time.perf_counter() - started)

    # Scripts: one per (candidate, component) answered at all, created in a random order
    # with random codes, so the roster's order leaves no trace in ids or codes.
    pairs = [
        (cand, ci)
        for ci, cols in enumerate(comp_columns)
        if cols
        for cand in np.flatnonzero(seen[:, cols].any(axis=1)).tolist()
    ]
    (shuffle_rng or random.SystemRandom()).shuffle(pairs)
    codes: set[str] = set()
    while len(codes) < len(pairs):
        codes.add(new_script_code())
    code_list = list(codes)
    (shuffle_rng or random.SystemRandom()).shuffle(code_list)
    script_rows = [
        {"session_id": exam.id, "component_id": components[ci].id, "code": code}
        for (_cand, ci), code in zip(pairs, code_list, strict=True)
    ]
    # Inserted in the shuffled order, so ids are as random as the order; then read back by
    # code. (RETURNING in parameter order would make SQLite insert row by row.)
    for start in range(0, len(script_rows), STAGE_CHUNK):
        db.execute(insert(Script), script_rows[start : start + STAGE_CHUNK])
    id_of: dict[str, int] = {}
    for start in range(0, len(code_list), 900):
        chunk_codes = code_list[start : start + 900]
        id_of.update(
            (code, sid)
            for sid, code in db.execute(
                select(Script.id, Script.code).where(Script.code.in_(chunk_codes))
            )
        )
    script_ids = [id_of[code] for code in code_list]
    stage.write(
        "intake_script",
        "cand, comp, script_id",
        [(cand, ci, sid) for (cand, ci), sid in zip(pairs, script_ids, strict=True)],
    )
    result = stage.conn.exec_driver_sql(
        # Objective responses are final at once (scored from the key); the others wait
        # for marks_needed marks from their group's examiners, in a random queue order.
        "INSERT INTO response (script_id, question_id, text, image_sha256, key_score, "
        "group_id, state, marks_needed, marks_done, held, final, final_rule, queue_key) "
        "SELECT m.script_id, s.question_id, s.text, s.image, s.key_score, s.group_id, "
        "CASE WHEN s.group_id IS NULL THEN 'final' ELSE 'open' END, s.marks_needed, 0, 0, "
        f"s.key_score, CASE WHEN s.group_id IS NULL THEN 'key' END, {_RANDOM_KEY[stage.dialect]} "
        "FROM intake_stage s JOIN intake_script m ON m.cand = s.cand AND m.comp = s.comp "
        "ORDER BY m.script_id, s.qpos"
    )
    response_count = result.rowcount
    stage.drop()
    log.info(
        "intake: %d scripts created, %d responses copied in script order, %.2f s so far",
        len(pairs),
        response_count,
        time.perf_counter() - started,
    )

    scripts_of: dict[int, dict[str, int]] = {}
    for (cand, ci), sid in zip(pairs, script_ids, strict=True):
        scripts_of.setdefault(cand, {})[components[ci].key] = sid

    # Recusal declared so far (before this batch, whether before or after marking opened)
    # becomes exclusions: each candidate's ID number is digested here, in memory, and
    # matched against the declarations waiting as digests (marking/intake/recusal.py). A matched
    # declaration leaves the waiting table; it survives sealed, with the batch as well.
    pending = db.execute(
        select(PendingConflict, Account.username)
        .join(Account, Account.id == PendingConflict.examiner_id)
        .where(PendingConflict.session_id == exam.id)
    ).all()
    consumed: list[dict[str, str]] = []
    exclusions: list[dict[str, int]] = []
    matched_ids: list[int] = []
    if pending:
        by_digest = {id_digest(exam, c.id_number): i for i, c in enumerate(roster)}
        for conflict, username in pending:
            cand = by_digest.get(conflict.id_digest)
            if cand is None:
                continue
            matched_ids.append(conflict.id)
            consumed.append({"examiner": username, "id_number": roster[cand].id_number})
            for sid in scripts_of.get(cand, {}).values():
                exclusions.append({"script_id": sid, "examiner_id": conflict.examiner_id})
        del by_digest
    if exclusions:
        db.execute(insert(Exclusion), exclusions)
    if matched_ids:
        db.execute(delete(PendingConflict).where(PendingConflict.id.in_(matched_ids)))

    batch = IntakeBatch(
        session_id=exam.id,
        name=(name or folder.name)[:128],
        digest=digest,
        candidate_count=len(roster),
        script_count=len(pairs),
        response_count=response_count,
        sealed_key=b"",
        identities=b"",
        created_by=actor,
    )
    db.add(batch)
    db.flush()
    aad = associated_data("intake_batch", exam.id, batch.id)
    sealer = BatchSealer(exam.public_key)
    records = {
        "format": "blindmark-identities/1",
        "candidates": [
            {
                "exam_no": c.exam_no,
                "name": c.name,
                "id_number": c.id_number,
                "institution": c.institution,
                "scripts": scripts_of.get(i, {}),
            }
            for i, c in enumerate(roster)
        ],
        "conflicts_consumed": consumed,
    }
    batch.identities = sealer.encrypt(json.dumps(records, ensure_ascii=False).encode(), aad)
    batch.sealed_key = sealer.sealed_key(aad)
    del sealer, records, roster, cand_index

    if exam.state is SessionState.DRAFT:
        exam.state = SessionState.INTAKE
    db.flush()
    by_component = {components[ci].key: 0 for ci in range(len(components))}
    for _cand, ci in pairs:
        by_component[components[ci].key] += 1
    summary = IntakeSummary(
        batch_id=batch.id,
        candidates=batch.candidate_count,
        scripts=len(pairs),
        responses=response_count,
        objective_scored=objective,
        images=len(images),
        exclusions=len(exclusions),
        by_component=by_component,
    )
    ledger.append(
        db,
        exam,
        kind="intake",
        actor=actor,
        payload={
            "batch": batch.id,
            "name": batch.name,
            "digest": digest,
            "candidates": summary.candidates,
            "scripts": summary.scripts,
            "responses": summary.responses,
            "objective_scored": objective,
            "exclusions": summary.exclusions,
        },
    )
    return summary


def withdraw_batch(
    db: Session, exam: ExamSession, batch_id: int, *, reason: str, actor: str
) -> IntakeBatch:
    """Withdraw a batch (taken in twice, or by mistake): publication leaves its candidates
    and their scripts out. Recorded; the batch's sealed records stay for the archive."""
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is published; it is read-only")
    batch = db.get(IntakeBatch, batch_id)
    if batch is None or batch.session_id != exam.id:
        raise MarkingError(f"session {exam.code} has no batch {batch_id}")
    if batch.withdrawn_at is not None:
        raise StateError(f"batch {batch_id} was already withdrawn")
    if not reason.strip():
        raise MarkingError("a withdrawal needs a reason")
    batch.withdrawn_at = utcnow()
    db.flush()
    ledger.append(
        db, exam, kind="batch_withdrawn", actor=actor, payload={"batch": batch_id, "reason": reason}
    )
    return batch


def make_scorer_for(
    question: Question, answer: tuple[str, ...] | None = None
) -> Callable[[str], Decimal] | None:
    """The key scorer of an objective question (with its stored key, or ``answer``);
    None for a question examiners mark."""
    key = answer if answer is not None else question.answer
    if key is None:
        return None
    return make_scorer(
        QuestionDef(
            number=question.number,
            bank_item=question.bank_item,
            type=question.type,
            max=question.max,
            step=question.step,
            tolerance=None,
            group=None,
            reference="",
            scheme="",
            answer=tuple(key),
        )
    )


def iter_batches(db: Session, exam: ExamSession) -> Iterator[IntakeBatch]:
    yield from db.scalars(
        select(IntakeBatch).where(IntakeBatch.session_id == exam.id).order_by(IntakeBatch.id)
    )


__all__ = ["IntakeSummary", "intake_batch", "iter_batches"]
