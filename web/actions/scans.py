"""The office's scans (DESIGN §12): scan batches with their tally and files, uploads,
the quarantine of a batch and its resolutions, and closing a batch.

Every object is reached through the session in the URL (``get_scan_batch``, ``get_item``
raise NotFound for another session's ids), and nothing here returns an exam number, a
name or an ID number: the header crop is served as bytes to the office's crop route only.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from flask import g
from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import InputError, NotFound
from marking.jobs import submit_scan_file
from marking.paper.closing import CloseSummary, close_batch
from marking.paper.issue import component_layout
from marking.paper.quarantine import get_item, list_quarantine, resolve_item
from marking.paper.scanning import (
    add_scan_file,
    create_scan_batch,
    get_scan_batch,
)
from marking.paper.tally import tally
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    QuarantineItem,
    ScanBatch,
    ScanFile,
)
from web.actions.common import plain
from web.jobs import get_jobs

log = logging.getLogger(__name__)


def scan_batches(db: Session, exam: ExamSession) -> list[dict[str, Any]]:
    """Each scan batch's tally (counts only) and its files with their progress."""
    files: dict[int, list[dict[str, Any]]] = {}
    for f in db.scalars(
        select(ScanFile)
        .join(ScanBatch, ScanBatch.id == ScanFile.batch_id)
        .where(ScanBatch.session_id == exam.id)
        .order_by(ScanFile.id)
    ):
        files.setdefault(f.batch_id, []).append(
            {
                "id": f.id,
                "name": f.name,
                "pages_done": f.pages_done,
                "page_count": f.page_count,
                "state": f.state.value,
                "error": f.error,
            }
        )
    return [dict(asdict(t), files=files.get(t.batch, [])) for t in tally(db, exam)]


def _component_key(exam: ExamSession, component: str) -> str:
    """The key of the session's component chosen in the form; NotFound for anything else
    (another session's component is not reachable from this one)."""
    for c in exam.components:
        if component in (c.key, c.name):
            return c.key
    raise NotFound(f"session {exam.code} has no component {component or '-'}")


def new_scan_batch(
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    component: str,
    name: str,
    roster: tuple[str, bytes],
    files: Sequence[tuple[str, bytes]],
) -> dict[str, Any]:
    """A scan batch for a room: its roster (``candidates.csv`` columns) held in clear while
    the batch is open, and its files queued and submitted for reading."""
    roster_name = Path(roster[0] or "candidates.csv").name
    if not roster_name.lower().endswith(".csv"):
        raise InputError(
            roster_name, gettext("the room's roster is a CSV file (candidates.csv columns)")
        )
    with tempfile.TemporaryDirectory(prefix="blindmark-roster-") as tmp:
        path = Path(tmp) / roster_name
        path.write_bytes(roster[1])
        batch = create_scan_batch(
            db,
            exam,
            component=_component_key(exam, component),
            roster=path,
            actor=account.username,
            name=name.strip() or None,
        )
    queued = [add_scan_file(db, batch, name=n, content=c) for n, c in files]
    submit_scan_files(db, exam, batch, queued)
    return {"id": batch.id, "name": batch.name, "files": len(queued)}


def add_scan_files(
    db: Session, exam: ExamSession, batch_id: int, files: Sequence[tuple[str, bytes]]
) -> dict[str, Any]:
    """More files for an open batch of this session, queued and submitted for reading."""
    batch = get_scan_batch(db, exam, batch_id)
    queued = [add_scan_file(db, batch, name=n, content=c) for n, c in files]
    submit_scan_files(db, exam, batch, queued)
    return {"id": batch.id, "name": batch.name, "files": len(queued)}


def submit_scan_files(
    db: Session, exam: ExamSession, batch: ScanBatch, files: Sequence[ScanFile]
) -> None:
    """THE one place scan files are handed over for reading: a background job per file
    (``blindmark worker``; `blindmark serve` runs one), queued once the request commits so
    that a worker on another machine sees the rows. The page shows each file's progress."""
    del exam, batch  # a job needs only the file's id
    jobs = get_jobs()
    db.flush()
    for file in files:
        submit_scan_file(jobs, db, file.id)


def _options(db: Session, exam: ExamSession, batch: ScanBatch) -> dict[str, list[str]]:
    """Each objective question's options, in the layout's order (for bubble-row forms)."""
    comp = db.get(Component, batch.component_id)
    assert comp is not None
    found: dict[str, list[str]] = {}
    for page in component_layout(exam, comp.key).pages:
        for bubble in page.bubbles:
            found.setdefault(bubble.question, []).append(bubble.option)
    return found


def quarantine(db: Session, exam: ExamSession, batch_id: int) -> dict[str, Any]:
    """A batch's quarantine: its open items with what each needs to decide, and the settled
    ones with who settled them, when and how. No exam number, name or ID number."""
    batch = get_scan_batch(db, exam, batch_id)
    comp = db.get(Component, batch.component_id)
    options = _options(db, exam, batch)
    settled = {
        i.id: i
        for i in db.scalars(select(QuarantineItem).where(QuarantineItem.batch_id == batch.id))
    }
    open_rows, done_rows = [], []
    for row in list_quarantine(db, exam, batch_id=batch.id, settled=True):
        data: dict[str, Any] = asdict(row)
        if row.state == "open":
            data["options"] = options.get(row.question or "", [])
            open_rows.append(data)
        else:
            item = settled[row.id]
            data.update(
                resolution=item.resolution,
                resolved_by=item.resolved_by,
                resolved_at=plain(item.resolved_at),
            )
            done_rows.append(data)
    return {
        "id": batch.id,
        "name": batch.name,
        "component": comp.name if comp else "",
        "state": batch.state.value,
        "open": open_rows,
        "settled": done_rows,
    }


def resolve(
    db: Session,
    exam: ExamSession,
    account: Account,
    batch_id: int,
    item_id: int,
    *,
    exam_no: str | None = None,
    value: str | None = None,
    discard: bool = False,
) -> dict[str, Any]:
    """Settle one open item of this batch (the engine checks the resolution fits it).
    Returns the item's new state and, when it was the last, the batch's closing summary."""
    item_kind(db, exam, batch_id, item_id)
    item, closed = resolve_item(
        db, exam, item_id, actor=account.username, exam_no=exam_no, value=value, discard=discard
    )
    if closed is not None:
        g.scrub_wal = True  # the roster and header crops were erased: no copy in the WAL
    return {"state": item.state.value, "closed": _closed(closed)}


def item_kind(db: Session, exam: ExamSession, batch_id: int, item_id: int) -> str:
    """The kind of this batch's item ``item_id`` (how its form is read); NotFound for an
    item of another batch or session."""
    batch = get_scan_batch(db, exam, batch_id)
    item = get_item(db, exam, item_id)
    if item.batch_id != batch.id:
        raise NotFound(f"scan batch {batch.id} has no quarantine item {item_id}")
    return item.kind.value


def _closed(summary: CloseSummary | None) -> dict[str, Any] | None:
    return asdict(summary) if summary is not None else None


def close(db: Session, exam: ExamSession, account: Account, batch_id: int) -> dict[str, Any]:
    """Close a batch by the office's hand: what is left in quarantine is discarded
    (recorded), the taken sheets become scripts, the roster and header crops are sealed
    and erased from clear."""
    batch = get_scan_batch(db, exam, batch_id)
    summary = close_batch(db, exam, batch, actor=account.username, note="closed by the office")
    g.scrub_wal = True
    closed = _closed(summary)
    assert closed is not None
    return closed


def crop(db: Session, exam: ExamSession, batch_id: int, item_id: int) -> bytes:
    """The PNG an item is decided from (the header for an exam number, only the row for a
    bubble row): the office's crop route alone serves it. NotFound once erased."""
    batch = get_scan_batch(db, exam, batch_id)
    item = get_item(db, exam, item_id)
    if item.batch_id != batch.id or item.crop is None:
        raise NotFound(f"scan batch {batch.id} has no image for quarantine item {item_id}")
    return item.crop
