"""Storing a validated batch anonymized: random script codes, responses in a random queue
order, exclusions from recusal declarations, and the identities sealed with the batch.

One storing step for every way a batch arrives: the typed path (``marking/intake/batch.py``,
from CSV/XLSX files) and scanned sheets both hand ``store_batch`` a ``ValidatedBatch``.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from anonymizer.seal import BatchSealer, associated_data
from marking.audit import ledger
from marking.errors import MarkingError, StateError
from marking.intake.recusal import id_digest
from marking.intake.validated import Identity, ResponseChunk, ValidatedBatch
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    Exclusion,
    Image,
    IntakeBatch,
    PendingConflict,
    Script,
    SessionState,
)

log = logging.getLogger(__name__)

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
_CANDIDATE = itemgetter(0)
_COMPONENT = itemgetter(1)
_KEY_SCORE = itemgetter(6)


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


def check_open_for_intake(exam: ExamSession) -> None:
    """Raise StateError unless the session has its key and still takes batches."""
    if exam.public_key is None:
        raise StateError.coded(
            "no_key",
            "session %(session)s has no key: run `blindmark keys init` first",
            session=exam.code,
        )
    if exam.state not in (SessionState.DRAFT, SessionState.INTAKE, SessionState.MARKING):
        raise StateError(f"session {exam.code} is {exam.state.value}: intake is closed")


def refuse_taken_batch(db: Session, exam: ExamSession, digest: str) -> None:
    """Raise MarkingError if a batch with this digest was already taken into the session."""
    previous = db.scalar(
        select(IntakeBatch).where(IntakeBatch.session_id == exam.id, IntakeBatch.digest == digest)
    )
    if previous is not None:
        raise MarkingError(
            f"this batch was already taken in as batch {previous.id} ({previous.name}) on "
            f"{previous.created_at.astimezone(exam.zone):%Y-%m-%d %H:%M}; nothing was stored"
        )


def store_batch(
    db: Session,
    exam: ExamSession,
    batch: ValidatedBatch,
    *,
    actor: str,
    shuffle_rng: random.Random | None = None,
) -> IntakeSummary:
    """Store a validated batch in the session, anonymized, and record it in the ledger.

    Creates one script per (candidate, component) answered, in a random order with random
    codes; copies the responses in by script (objective ones final with their key score,
    the others open for their group, at random queue places); stores the images not held
    yet; turns the recusal declarations waiting for this session into exclusions; seals
    the identities (with each candidate's script ids) to the session's public key. The
    caller has refused a batch already taken (``refuse_taken_batch``). Raises StateError
    when the session cannot take intake, and whatever ``batch.responses`` raises
    (InputErrors); nothing is committed here, so the caller's rollback leaves no trace.
    ``shuffle_rng`` makes the script order reproducible in tests.
    """
    check_open_for_intake(exam)
    started = time.perf_counter()
    stage = _Stage(db)
    answered, objective, images, blank = _stage_responses(
        db, stage, batch.responses, (len(batch.identities), len(batch.components))
    )
    log.info("intake: files read and staged in %.2f s", time.perf_counter() - started)

    # Scripts: one per (candidate, component) answered at all, created in a random order
    # with random codes, so the roster's order leaves no trace in ids or codes.
    pairs = [(cand, ci) for ci in range(answered.shape[1]) for cand in _answered(answered, ci)]
    script_ids = _create_scripts(db, exam, stage, batch.components, pairs, shuffle_rng)
    response_count = _copy_responses(stage)
    _flag_blank(stage, blank)
    stage.drop()
    log.info(
        "intake: %d scripts created, %d responses copied in script order, %.2f s so far",
        len(pairs),
        response_count,
        time.perf_counter() - started,
    )

    scripts_of: dict[int, dict[str, int]] = {}
    for (cand, ci), sid in zip(pairs, script_ids, strict=True):
        scripts_of.setdefault(cand, {})[batch.components[ci].key] = sid
    consumed, exclusions = _exclude_declared(db, exam, batch.identities, scripts_of)
    record = IntakeBatch(
        session_id=exam.id,
        name=batch.name[:128],
        digest=batch.digest,
        candidate_count=len(batch.identities),
        script_count=len(pairs),
        response_count=response_count,
        sealed_key=b"",
        identities=b"",
        created_by=actor,
    )
    _seal_identities(db, exam, record, batch.identities, scripts_of, consumed, _covers(batch))

    if exam.state is SessionState.DRAFT:
        exam.state = SessionState.INTAKE
    db.flush()
    by_component = Counter({comp.key: 0 for comp in batch.components})
    by_component.update(batch.components[ci].key for _cand, ci in pairs)
    summary = IntakeSummary(
        batch_id=record.id,
        candidates=record.candidate_count,
        scripts=len(pairs),
        responses=response_count,
        objective_scored=objective,
        images=images,
        exclusions=exclusions,
        by_component=dict(by_component),
    )
    _record_in_ledger(db, exam, record, summary, actor=actor)
    return summary


def _covers(batch: ValidatedBatch) -> list[list[str]]:
    """The components each candidate of the batch is taken in for (sealed with them)."""
    every = batch.covers or [c.key for c in batch.components]
    return [
        every if batch.covered is None or i in batch.covered else []
        for i in range(len(batch.identities))
    ]


def _answered(answered: np.ndarray[Any, np.dtype[np.bool_]], ci: int) -> list[int]:
    """The candidates (roster indexes, ascending) with a response in component ``ci``."""
    found: list[int] = np.flatnonzero(answered[:, ci]).tolist()
    return found


def _stage_responses(
    db: Session, stage: _Stage, chunks: Iterable[ResponseChunk], shape: tuple[int, int]
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], int, int, set[str]]:
    """Every chunk's rows into the stage and its new images into the session.

    Returns which (candidate, component) answered, the objective responses, the images
    stored and the images that are blank answer boxes (scanned sheets).
    """
    answered = np.zeros(shape, dtype=np.bool_)
    objective = images = 0
    blank: set[str] = set()
    for chunk in chunks:
        blank |= chunk.blank
        for sha, image in chunk.images.items():
            if db.get(Image, sha) is None:
                db.add(
                    Image(
                        sha256=sha,
                        media_type=image.media_type,
                        size=len(image.content),
                        content=image.content,
                    )
                )
                images += 1
        rows = chunk.rows
        if not rows:
            continue
        answered[
            np.fromiter(map(_CANDIDATE, rows), np.intp, len(rows)),
            np.fromiter(map(_COMPONENT, rows), np.intp, len(rows)),
        ] = True
        objective += len(rows) - list(map(_KEY_SCORE, rows)).count(None)
        stage.write("intake_stage", STAGE_COLUMNS, rows)
    if images:
        db.flush()
    return answered, objective, images, blank


def _create_scripts(
    db: Session,
    exam: ExamSession,
    stage: _Stage,
    components: list[Component],
    pairs: list[tuple[int, int]],
    shuffle_rng: random.Random | None,
) -> list[int]:
    """Scripts for ``pairs`` (shuffled in place), with random codes; their ids, in order."""
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
    return script_ids


def _copy_responses(stage: _Stage) -> int:
    """The staged responses copied into ``response`` in script order; how many."""
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
    return int(result.rowcount)


def _flag_blank(stage: _Stage, blank: set[str]) -> None:
    """Responses of this batch whose image is an empty answer box flagged blank: examiners
    still see the box, labelled blank (DESIGN §12)."""
    shas = sorted(blank)
    for start in range(0, len(shas), 900):
        chunk = shas[start : start + 900]
        marks = ",".join("?" if stage.dialect == "sqlite" else "%s" for _ in chunk)
        stage.conn.exec_driver_sql(
            "UPDATE response SET blank = true WHERE script_id IN "
            f"(SELECT script_id FROM intake_script) AND image_sha256 IN ({marks})",
            tuple(chunk),
        )


def _exclude_declared(
    db: Session,
    exam: ExamSession,
    identities: list[Identity],
    scripts_of: dict[int, dict[str, int]],
) -> tuple[list[dict[str, str]], int]:
    """Waiting recusal declarations matched to this batch's candidates become exclusions.

    Returns the declarations consumed (to seal with the batch) and the exclusions made.
    """
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
        by_digest = {id_digest(exam, c.id_number): i for i, c in enumerate(identities)}
        for conflict, username in pending:
            cand = by_digest.get(conflict.id_digest)
            if cand is None:
                continue
            matched_ids.append(conflict.id)
            consumed.append({"examiner": username, "id_number": identities[cand].id_number})
            for sid in scripts_of.get(cand, {}).values():
                exclusions.append({"script_id": sid, "examiner_id": conflict.examiner_id})
        del by_digest
    if exclusions:
        db.execute(insert(Exclusion), exclusions)
    if matched_ids:
        db.execute(delete(PendingConflict).where(PendingConflict.id.in_(matched_ids)))
    return consumed, len(exclusions)


def _seal_identities(
    db: Session,
    exam: ExamSession,
    record: IntakeBatch,
    identities: list[Identity],
    scripts_of: dict[int, dict[str, int]],
    consumed: list[dict[str, str]],
    covers: list[list[str]],
) -> None:
    """The batch record stored, with the identities (each with the components the batch
    answers for) and the consumed declarations sealed in it."""
    assert exam.public_key is not None  # store_batch checked the session has its key
    db.add(record)
    db.flush()
    aad = associated_data("intake_batch", exam.id, record.id)
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
                "components": covers[i],
            }
            for i, c in enumerate(identities)
        ],
        "conflicts_consumed": consumed,
    }
    record.identities = sealer.encrypt(json.dumps(records, ensure_ascii=False).encode(), aad)
    record.sealed_key = sealer.sealed_key(aad)
    del sealer, records


def _record_in_ledger(
    db: Session, exam: ExamSession, record: IntakeBatch, summary: IntakeSummary, *, actor: str
) -> None:
    """The intake appended to the session's ledger: counts and digest, no identities."""
    ledger.append(
        db,
        exam,
        kind="intake",
        actor=actor,
        payload={
            "batch": record.id,
            "name": record.name,
            "digest": record.digest,
            "candidates": summary.candidates,
            "scripts": summary.scripts,
            "responses": summary.responses,
            "objective_scored": summary.objective_scored,
            "exclusions": summary.exclusions,
        },
    )


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
