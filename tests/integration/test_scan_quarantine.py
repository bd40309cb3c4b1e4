"""Nothing doubtful is guessed: unreadable, foreign and repeated pages, incomplete sheets,
exam numbers unreadable, off the roster or claimed twice, doubtful rows and 违纪 boxes go
to quarantine; the office resolves them (recorded, no exam number in the ledger); closing
discards what is left, recorded; a reader killed mid-file resumes without a half sheet."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from marking.paper.closing import close_batch
from marking.paper.quarantine import ResolutionRefused, list_quarantine, resolve_item
from marking.paper.tally import tally
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import (
    LedgerEntry,
    QuarantineItem,
    Question,
    Response,
    ScanAnswer,
    ScanBatch,
    ScanBatchState,
    ScanPage,
    ScanSheet,
    ScanSheetState,
)
from tests.conftest import FreshDatabase
from tests.integration.scan_support import KilledReader, ScanRoom, scan_room


@pytest.fixture
def room(fresh_db: FreshDatabase, tmp_path: Path) -> ScanRoom:
    schema.upgrade(fresh_db.engine)
    return scan_room(fresh_db.engine, tmp_path, n=6)


def items(room: ScanRoom) -> dict[str, list[int]]:
    with transaction(room.engine) as db:
        rows = list_quarantine(db, room.session(db))
    found: dict[str, list[int]] = {}
    for r in rows:
        found.setdefault(r.kind, []).append(r.id)
    return found


def resolve(room: ScanRoom, item: int, **how: object) -> object:
    with transaction(room.engine) as db:
        _item, closed = resolve_item(db, room.session(db), item, actor="office", **how)  # type: ignore[arg-type]
        return closed


def test_every_doubt_goes_to_quarantine_and_the_office_settles_it(room: ScanRoom) -> None:
    c, s = room.roster, room.serials
    other = dict(room.page(s[5], 1), session="OTHER-9")
    pages = [
        *room.sheet(s[0], c[0].exam_no, rows={"1": "?"}),  # a doubtful row
        room.sheet(s[0], c[0].exam_no)[1],  # a repeated page
        {"unreadable": "no QR code found on the page"},
        {"tampered": True},
        other,
        dict(room.page("ABCDEFGHJK", 1)),  # never issued
        *room.sheet(s[1], None, problem="column 3: two bubbles"),
        *room.sheet(s[2], "99999999"),  # off the roster
        *room.sheet(s[3], c[3].exam_no, violation=True),
        *room.sheet(s[4], c[4].exam_no),
        room.sheet(s[6], c[4].exam_no)[1],  # claims c[4] too (both pages)
        room.sheet(s[6], c[4].exam_no)[0],
        room.sheet(s[7], c[5].exam_no)[0],  # its second page never comes
    ]
    result = room.scan("pile.pdf", pages)
    assert (result.state, result.batch_closed) == ("done", False)
    found = items(room)
    assert {k: len(v) for k, v in found.items()} == {
        "bubble_row": 1, "repeated": 1, "unreadable": 1, "foreign": 3, "exam_number": 1,
        "off_roster": 1, "violation": 1, "claimed_twice": 2, "incomplete": 1,
    }  # fmt: skip
    with transaction(room.engine) as db:
        listed = {r.id: r for r in list_quarantine(db, room.session(db))}
        row = listed[found["bubble_row"][0]]
        assert (row.serial, row.source_file, row.page, row.question) == (s[0], "pile.pdf", 1, "1")
        assert all(c[4].exam_no not in r.reason for r in listed.values())
        (t,) = tally(db, room.session(db))
        assert (t.pages_received, t.sheets_complete, t.pages_quarantined) == (18, 6, 5)
        assert (t.exam_numbers_quarantined, t.open_items, t.state) == (4, 12, "open")

    with pytest.raises(ResolutionRefused, match="options ABCD"):
        resolve(room, found["bubble_row"][0], value="E")
    resolve(room, found["bubble_row"][0], value="a")
    with pytest.raises(ResolutionRefused, match="not on the batch's roster"):
        resolve(room, found["off_roster"][0], exam_no="12345678")
    resolve(room, found["off_roster"][0], exam_no=c[2].exam_no)
    with pytest.raises(ResolutionRefused, match="holds that exam number"):
        resolve(room, found["exam_number"][0], exam_no=c[4].exam_no)
    resolve(room, found["exam_number"][0], exam_no=c[1].exam_no)
    first, second = found["claimed_twice"]
    resolve(room, second, discard=True)  # the photocopy-like second claimant goes
    resolve(room, first, exam_no=c[4].exam_no)  # confirmed now that no one else holds it
    resolve(room, found["violation"][0], value="warning")
    for item in found["foreign"] + found["repeated"] + found["unreadable"]:
        resolve(room, item, discard=True)
    with transaction(room.engine) as db:
        answer = db.scalar(select(ScanAnswer).where(ScanAnswer.value == "A"))
        assert answer is not None and answer.verified_by == "office"
        resolutions = db.scalars(
            select(LedgerEntry.payload).where(LedgerEntry.kind == "quarantine_resolved")
        ).all()
        assert len(resolutions) == 11
        assert all(c[4].exam_no not in str(p) for p in resolutions)

    closed = resolve(room, found["incomplete"][0], discard=True)  # the last: it closes
    assert closed is not None
    with transaction(room.engine) as db:
        batch = db.get(ScanBatch, room.batch_id)
        assert batch is not None and batch.state is ScanBatchState.CLOSED
        taken = db.scalar(select(func.count()).where(ScanSheet.state == ScanSheetState.TAKEN))
        assert taken == 5  # s0, s1 (given), s2 (given), s3, s4 (confirmed)


def test_closing_discards_what_is_left_and_records_it(room: ScanRoom) -> None:
    c, s = room.roster, room.serials
    room.scan("a.pdf", [*room.sheet(s[0], c[0].exam_no, rows={"1": "?"}), room.page(s[1], 1)])
    with transaction(room.engine) as db:
        exam = room.session(db)
        batch = db.get(ScanBatch, room.batch_id)
        assert batch is not None
        summary = close_batch(db, exam, batch, actor="office", note="closed by the office")
    assert summary.discarded == {"bubble_row": 1, "incomplete": 1}
    assert (summary.sheets_taken, summary.scripts, summary.absent) == (1, 1, 5)
    with transaction(room.engine) as db:
        entry = db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "scan_batch_closed"))
        assert entry is not None and entry.payload["discarded"] == summary.discarded
        assert db.scalar(select(func.count()).where(QuarantineItem.state == "open")) == 0
        score = db.scalar(
            select(Response.key_score)
            .join(Question, Question.id == Response.question_id)
            .where(Question.number == "1")
        )
        assert score == 0  # taken as unanswered


def test_a_reader_killed_mid_file_resumes_without_half_sheets_or_twice_taken_pages(
    room: ScanRoom,
) -> None:
    c, s = room.roster, room.serials
    pages = [
        *room.sheet(s[0], c[0].exam_no),
        room.sheet(s[1], c[1].exam_no)[0],
        dict(room.sheet(s[1], c[1].exam_no)[1], kill=True),  # killed on page 4
        *room.sheet(s[2], c[2].exam_no),
    ]
    file_id = room.add_file("pile.pdf", pages)
    with pytest.raises(KilledReader):
        room.run(file_id)
    with transaction(room.engine) as db:
        assert db.scalar(select(func.count()).select_from(ScanPage)) == 3
        states = dict(db.execute(select(ScanSheet.serial, ScanSheet.state)).all())
        assert states == {s[0]: ScanSheetState.COMPLETE, s[1]: ScanSheetState.GATHERING}
    room.reader.armed = False
    result = room.run(file_id)  # the same owner takes its lease again and resumes at page 4
    assert (result.state, result.pages, result.batch_closed) == ("done", 6, True)
    with transaction(room.engine) as db:
        numbers = db.scalars(select(ScanPage.number).order_by(ScanPage.number)).all()
        assert numbers == [1, 2, 3, 4, 5, 6]
        assert db.scalar(select(func.count()).select_from(QuarantineItem)) == 0
