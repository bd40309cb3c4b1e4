"""Taking in a batch folder: read and check its files, then store it anonymized; withdrawing
a batch; listing a session's batches.

The roster lives only in this process's memory. What reaches the database is scripts
with random codes created in a random order, responses keyed by script, objective
scores, exclusions, and the batch's identity records sealed to the session's public key.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, StateError
from marking.intake.questions import load_paper
from marking.intake.reading import batch_digest, batch_files, read_responses, read_roster
from marking.intake.storing import (
    STAGE_CHUNK,
    IntakeSummary,
    check_open_for_intake,
    refuse_taken_batch,
    store_batch,
)
from marking.intake.validated import ErrorList, ValidatedBatch
from marking.store.models import ExamSession, IntakeBatch, SessionState, utcnow


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
    check_open_for_intake(exam)
    folder = folder.resolve()
    if not folder.is_dir():
        raise MarkingError(f"{folder}: not a folder")
    cand_path, resp_path = batch_files(folder)
    digest = batch_digest(cand_path, resp_path)
    refuse_taken_batch(db, exam, digest)

    errors = ErrorList()
    identities = read_roster(cand_path, errors)
    errors.raise_if_any()
    paper = load_paper(db, exam)
    # The responses are read, checked and scored as store_batch stages them, chunk by
    # chunk: a batch of millions of responses is never held in memory at once.
    responses = read_responses(
        folder, resp_path, cand_path.name, identities, paper, errors, chunk=STAGE_CHUNK
    )
    batch = ValidatedBatch(
        name=name or folder.name,
        digest=digest,
        identities=identities,
        components=paper.components,
        responses=responses,
    )
    return store_batch(db, exam, batch, actor=actor, shuffle_rng=shuffle_rng)


def withdraw_batch(
    db: Session, exam: ExamSession, batch_id: int, *, reason: str, actor: str
) -> IntakeBatch:
    """Withdraw a batch (taken in twice, or by mistake): publication leaves its candidates
    and their scripts out. Recorded; the batch's sealed records stay for the archive."""
    if exam.state is SessionState.PUBLISHED:
        raise StateError.coded(
            "withdraw_published",
            "session %(session)s is published; it is read-only",
            session=exam.code,
        )
    batch = db.get(IntakeBatch, batch_id)
    if batch is None or batch.session_id != exam.id:
        raise MarkingError.coded(
            "withdraw_no_batch",
            "session %(session)s has no batch %(batch)s",
            session=exam.code,
            batch=batch_id,
        )
    if batch.withdrawn_at is not None:
        raise StateError.coded(
            "withdraw_again", "batch %(batch)s was already withdrawn", batch=batch_id
        )
    if not reason.strip():
        raise MarkingError.coded("withdraw_no_reason", "a withdrawal needs a reason")
    batch.withdrawn_at = utcnow()
    db.flush()
    ledger.append(
        db, exam, kind="batch_withdrawn", actor=actor, payload={"batch": batch_id, "reason": reason}
    )
    return batch


def iter_batches(db: Session, exam: ExamSession) -> Iterator[IntakeBatch]:
    yield from db.scalars(
        select(IntakeBatch).where(IntakeBatch.session_id == exam.id).order_by(IntakeBatch.id)
    )


__all__ = ["intake_batch", "iter_batches", "withdraw_batch"]
