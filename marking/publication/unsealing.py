"""The one module that unseals (DESIGN §3): the session key rebuilt from its key file or k
shares, then the roster of candidates and the sealed records it opens. Nothing else in the
core or the web may import ``anonymizer.unseal``; the others take what this hands them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from anonymizer.seal import associated_data
from anonymizer.unseal import SessionKey as SessionKey  # re-exported: the key's type
from marking.errors import MarkingError
from marking.publication.preconditions import PublicationRefused
from marking.store.models import (
    Component,
    ExamSession,
    IntakeBatch,
    RecordWithdrawal,
    SealedKind,
    SealedRecord,
)


def open_key(
    *,
    key_file: Path | None = None,
    passphrase: str | None = None,
    shares: Sequence[Path] = (),
    expected_public_key: bytes,
) -> SessionKey:
    """Rebuild the session's private key from its key file or from k shares."""
    if key_file is not None:
        if passphrase is None:
            raise MarkingError("the key file needs its passphrase")
        return SessionKey.from_key_file(
            key_file, passphrase, expected_public_key=expected_public_key
        )
    if not shares:
        raise MarkingError("publication needs the key: --key-file F, or --share F for k shares")
    return SessionKey.from_share_files(list(shares), expected_public_key=expected_public_key)


def open_uploaded_key(
    *,
    key_file: tuple[str, bytes] | None = None,
    passphrase: str | None = None,
    shares: Sequence[tuple[str, bytes]] = (),
    expected_public_key: bytes,
) -> SessionKey:
    """As ``open_key``, from uploaded files given as (file name, content): nothing is written
    to disk, and errors name the files as their sender called them."""
    if key_file is not None:
        if passphrase is None:
            raise MarkingError("the key file needs its passphrase")
        name, data = key_file
        return SessionKey.from_key_bytes(
            data, passphrase, name=name, expected_public_key=expected_public_key
        )
    if not shares:
        raise MarkingError("publication needs the key: the key file, or k share files")
    return SessionKey.from_named_shares(shares, expected_public_key=expected_public_key)


@dataclass
class Candidate:
    """One candidate of the roster, as intake sealed them, with their scripts by component."""

    exam_no: str
    name: str
    id_number: str
    institution: str
    scripts: dict[str, int]
    batch_id: int


def unseal_roster(db: Session, exam: ExamSession, key: SessionKey) -> list[Candidate]:
    """Every candidate of every batch not withdrawn, a candidate's batches joined by exam
    number; refused when two batches claim the same (exam number, component) or when one
    exam number or ID number stands for two people (DESIGN §12: a scan batch covers one
    component, so one candidate may be in one batch per component)."""
    every = list(db.scalars(select(Component.key).where(Component.session_id == exam.id)))
    roster: list[Candidate] = []
    by_exam_no: dict[str, tuple[Candidate, set[str]]] = {}
    by_id: dict[str, Candidate] = {}
    duplicates: list[str] = []
    for batch in db.scalars(
        select(IntakeBatch)
        .where(IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None))
        .order_by(IntakeBatch.id)
    ):
        aad = associated_data("intake_batch", exam.id, batch.id)
        records = json.loads(key.unseal(batch.sealed_key, batch.identities, aad))
        for item in records["candidates"]:
            c = Candidate(
                exam_no=item["exam_no"],
                name=item["name"],
                id_number=item["id_number"],
                institution=item["institution"],
                scripts=dict(item["scripts"]),
                batch_id=batch.id,
            )
            # What the batch answers for: CSV batches, and records from before, cover every
            # component; a scan batch covers its one for the candidates whose sheet it took.
            covers = set(item.get("components", every))
            known = by_exam_no.get(c.exam_no)
            if known is None:
                other = by_id.get(c.id_number)
                if other is not None:
                    duplicates.append(
                        f"ID number {c.id_number} is in batch {other.batch_id} and in batch "
                        f"{c.batch_id} under another exam number"
                    )
                by_exam_no[c.exam_no], by_id[c.id_number] = (c, covers), c
                roster.append(c)
                continue
            first, covered = known
            overlap = sorted(covered & covers)
            if overlap or first.id_number != c.id_number:
                what = f"component {', '.join(overlap)}" if overlap else "another ID number"
                duplicates.append(
                    f"exam number {c.exam_no} is in batch {first.batch_id} and in batch "
                    f"{c.batch_id} ({what})"
                )
                if overlap and first.id_number == c.id_number:
                    duplicates.append(
                        f"ID number {c.id_number} is in batch {first.batch_id} and in batch "
                        f"{c.batch_id} ({what})"
                    )
            covered |= covers
            first.scripts.update(c.scripts)
    if duplicates:
        raise PublicationRefused(
            "the same candidate was taken in twice; withdraw one batch (the office's session "
            "page lists the batches by number; or `blindmark withdraw --session C --batch N "
            "--reason R`) and publish again:\n  " + "\n  ".join(duplicates)
        )
    return roster


def withdrawn_scripts(db: Session, exam: ExamSession, key: SessionKey) -> list[int]:
    """Scripts of batches the office withdrew (known only by unsealing those batches)."""
    scripts: list[int] = []
    for batch in db.scalars(
        select(IntakeBatch).where(
            IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_not(None)
        )
    ):
        aad = associated_data("intake_batch", exam.id, batch.id)
        records = json.loads(key.unseal(batch.sealed_key, batch.identities, aad))
        for item in records["candidates"]:
            scripts.extend(item["scripts"].values())
    return scripts


def sealed_items(
    db: Session, exam: ExamSession, key: SessionKey, kind: SealedKind
) -> list[dict[str, Any]]:
    """The items of the session's sealed records of one kind, each with its record's id
    (and who entered it); records the office withdrew are left out."""
    items: list[dict[str, Any]] = []
    for record in db.scalars(
        select(SealedRecord)
        .where(
            SealedRecord.session_id == exam.id,
            SealedRecord.kind == kind,
            ~exists().where(RecordWithdrawal.record_id == SealedRecord.id),
        )
        .order_by(SealedRecord.id)
    ):
        aad = associated_data("sealed_record", exam.id, record.id)
        for item in json.loads(key.unseal(record.sealed_key, record.ciphertext, aad)):
            item["record"] = record.id
            item["entered_by"] = record.created_by
            items.append(item)
    return items
