"""No sequence of scans leaves a batch that cannot be finished or a candidate absent for good:
a page the reader breaks on is quarantined and the file read on; a sheet left out of one
batch (incomplete at its close, or scanned with the wrong room) is taken by a later one."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from marking.paper.closing import close_batch
from marking.paper.quarantine import list_quarantine
from marking.publication.unsealing import unseal_roster
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import ScanBatch, ScanBatchState, ScanFile, ScanFileState
from tests.conftest import FreshDatabase
from tests.integration.scan_support import scan_room


def test_a_page_the_reader_breaks_on_is_quarantined_and_the_file_read_on(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    schema.upgrade(fresh_db.engine)
    room = scan_room(fresh_db.engine, tmp_path, n=2)
    c, s = room.roster, room.serials
    pages = [
        room.page(s[0], 1, boom="cv2.error: out of memory"),
        *room.sheet(s[1], c[1].exam_no),
    ]
    result = room.scan("bundle.pdf", pages)
    assert (result.state, result.pages) == ("done", 3)
    with transaction(room.engine) as db:
        exam = room.session(db)
        items = list_quarantine(db, exam)
        assert [(i.kind, i.page) for i in items] == [("unreadable", 1)]
        assert "the reader failed on it (RuntimeError)" in items[0].reason
        file = db.scalar(select(ScanFile).where(ScanFile.batch_id == room.batch_id))
        assert file is not None and file.state is ScanFileState.DONE
        batch = db.get(ScanBatch, room.batch_id)
        assert batch is not None
        close_batch(db, exam, batch, actor="office")  # nothing stuck: the office can close
        assert batch.state is ScanBatchState.CLOSED


def test_a_sheet_left_incomplete_at_close_is_taken_by_a_later_batch(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    schema.upgrade(fresh_db.engine)
    room = scan_room(fresh_db.engine, tmp_path, n=2)
    c, s = room.roster, room.serials
    front, back = room.sheet(s[1], c[1].exam_no)
    room.scan("first.pdf", [*room.sheet(s[0], c[0].exam_no), front])  # c[1]'s back is missing
    with transaction(room.engine) as db:
        batch = db.get(ScanBatch, room.batch_id)
        assert batch is not None
        close_batch(db, room.session(db), batch, actor="office")  # c[1]'s sheet discarded
    later = room.new_batch(c[1:], "c1-rescanned")
    result = room.run(room.add_file("again.pdf", [front, back], batch_id=later))
    assert result.batch_closed  # the whole sheet, taken: nothing in doubt
    with transaction(room.engine) as db:
        exam = room.session(db)
        joined = {x.exam_no: x.scripts for x in unseal_roster(db, exam, room.keys.open(exam))}
    assert set(joined[c[0].exam_no]) == set(joined[c[1].exam_no]) == {"theory"}


def test_a_taken_sheet_is_never_taken_again(fresh_db: FreshDatabase, tmp_path: Path) -> None:
    """The photocopy guard holds: only a discarded sheet starts over."""
    schema.upgrade(fresh_db.engine)
    room = scan_room(fresh_db.engine, tmp_path, n=2)
    c, s = room.roster, room.serials
    assert room.scan("first.pdf", room.sheet(s[0], c[0].exam_no)).batch_closed
    later = room.new_batch(c[1:], "copy")
    room.run(room.add_file("copy.pdf", room.sheet(s[0], c[0].exam_no), batch_id=later))
    with transaction(room.engine) as db:
        kinds = {i.kind for i in list_quarantine(db, room.session(db), batch_id=later)}
    assert kinds == {"repeated"}
