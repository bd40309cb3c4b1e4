"""The scan path under attack: what an office user, a second office or a hostile file can do
to a scan batch. Each test is a probe that once found a way in (see the commit that added
it): scripts linked back to the pile after close, two readers or two offices at once, file
names and files that stopped a reader for good."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from marking.errors import InputError, StateError
from marking.paper.quarantine import list_quarantine, resolve_item
from marking.paper.sources import MAX_PIXELS, file_pages
from marking.store import schema
from marking.store.db import session_factory, transaction
from marking.store.models import (
    IntakeBatch,
    QuarantineKind,
    Response,
    ScanAnswer,
    ScanBatch,
    ScanBatchState,
    ScanBox,
    ScanSheet,
    ScanSheetState,
)
from tests.conftest import FreshDatabase
from tests.integration.scan_support import ScanRoom, scan_room


@pytest.fixture
def room(fresh_db: FreshDatabase, tmp_path: Path) -> ScanRoom:
    schema.upgrade(fresh_db.engine)
    return scan_room(fresh_db.engine, tmp_path, n=4)


def test_after_close_no_script_can_be_joined_to_its_sheet_or_place_in_the_pile(
    room: ScanRoom,
) -> None:
    """The sheets' ids, serials, files and page numbers stay for the tally, in pile (seat)
    order; a box's image hash or a sheet's objective answers equal to a script's would tie
    each script to its place in the pile, undoing the shuffle at intake (DESIGN §3)."""
    c, s = room.roster, room.serials
    pages = [*room.sheet(s[0], c[0].exam_no, rows={"1": "A"})]
    pages += room.sheet(s[1], c[1].exam_no, rows={"1": "B"})
    assert room.scan("pile.pdf", pages).batch_closed
    with transaction(room.engine) as db:
        hashes = set(db.scalars(select(Response.image_sha256).where(Response.image_sha256 != "")))
        assert len(hashes) == 2
        assert not hashes & set(db.scalars(select(ScanBox.image_sha256)))
        assert db.scalars(select(ScanAnswer.value).where(ScanAnswer.value.is_not(None))).all() == []
        assert db.scalar(select(func.count()).select_from(ScanBox)) == 2  # the tally's count


def test_a_file_whose_name_the_file_system_refuses_is_still_read(room: ScanRoom) -> None:
    """An upload keeps its name (255 characters): 100 Chinese characters are 300 bytes,
    over Linux's 255 for a file name; the reader's temporary copy must not use it."""
    c, s = room.roster, room.serials
    name = "第一考场理论答题卡扫描件" * 10 + ".pdf"
    result = room.scan(name, room.sheet(s[0], c[0].exam_no))
    assert result.state == "done" and result.pages == 2


def test_a_damaged_file_is_named_as_given_not_by_the_readers_copy(room: ScanRoom) -> None:
    from marking.paper.scanning import add_scan_file, process_file
    from marking.store.models import ScanFile

    with transaction(room.engine) as db:
        batch = db.get(ScanBatch, room.batch_id)
        assert batch is not None
        file_id = add_scan_file(db, batch, name="room-3.png", content=b"\x89PNG\r\n\x1a\n0").id
    result = process_file(session_factory(room.engine), file_id, owner="r")
    assert result.state == "failed"
    with transaction(room.engine) as db:
        file = db.get(ScanFile, file_id)
        assert file is not None and file.error is not None
        assert file.error.startswith("room-3.png: ") and "blindmark-scan-" not in file.error


def _pdf(width: float, height: float) -> bytes:
    document = pdfium.PdfDocument.new()
    document.new_page(width, height)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_a_page_no_scanner_makes_is_refused_before_it_is_rendered() -> None:
    """A 550-byte PDF of one 200 in × 0.14 in page would render as 2.4 million × 1,650
    pixels (its short side scaled to A4's): MemoryError, a reader down, not an InputError."""
    with pytest.raises(InputError, match="page 1"):
        list(file_pages("thin.pdf", data=_pdf(14400, 10)))


def test_an_image_larger_than_any_scan_is_refused_before_it_is_decoded() -> None:
    """Pillow only warns up to 179 million pixels (and raises DecompressionBombError, not
    OSError, past it on a TIFF's later page): a 13,000² PNG of 46 KB took 1 GB to read."""
    side = int(MAX_PIXELS**0.5) + 10
    out = io.BytesIO()
    Image.new("1", (side, side), 1).save(out, "PNG")
    with pytest.raises(InputError, match="pixels"):
        list(file_pages("big.png", data=out.getvalue()))
    out = io.BytesIO()
    first = Image.new("1", (100, 100), 1)
    first.save(out, "TIFF", save_all=True, append_images=[Image.new("1", (14000, 14000), 1)])
    with pytest.raises(InputError, match="page 2"):
        list(file_pages("two.tif", data=out.getvalue()))


def _read_at_once(room: ScanRoom, files: list[int], held: Callable[[Session], bool]) -> None:
    """Read ``files`` in two threads at once, the commits ``held`` picks waiting (3 s at
    most) for each other: two workers' transactions at the same moment."""
    both, errors = threading.Barrier(2, timeout=3), []

    def hold(session: Session) -> None:
        if held(session):
            with contextlib.suppress(threading.BrokenBarrierError):
                both.wait()  # broken: taken one after the other, the other waits for this one

    def run(file_id: int) -> None:
        try:
            room.run(file_id, owner=f"reader-{file_id}")
        except BaseException as exc:
            errors.append(exc)

    event.listen(Session, "before_commit", hold)
    try:
        threads = [threading.Thread(target=run, args=(f,)) for f in files]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    finally:
        event.remove(Session, "before_commit", hold)
    assert errors == [], [str(e) for e in errors]


@pytest.mark.postgres
def test_two_readers_completing_two_sheets_of_one_exam_number_at_once_both_see_it(
    room: ScanRoom,
) -> None:
    """Two workers read two files of one batch at once (a room's pile in two bundles). Two
    sheets reading the same exam number complete in two transactions: unless they are taken
    one after the other, neither sees the other, both are taken, and one candidate gets two
    scripts of the component (or the batch can never close)."""
    c, s = room.roster, room.serials
    a = room.add_file("a.pdf", room.sheet(s[0], c[0].exam_no))
    b = room.add_file("b.pdf", room.sheet(s[1], c[0].exam_no))
    _read_at_once(
        room,
        [a, b],
        lambda db: any(isinstance(o, ScanSheet) and o.state is ScanSheetState.COMPLETE for o in db),
    )
    with transaction(room.engine) as db:
        kinds = [r.kind for r in list_quarantine(db, room.session(db))]
    assert kinds == [QuarantineKind.CLAIMED_TWICE.value] * 2


@pytest.mark.postgres
def test_two_readers_with_the_two_pages_of_one_sheet_at_once_make_one_sheet(
    room: ScanRoom,
) -> None:
    """Fronts and backs scanned as two bundles, read by two workers at once: both pages'
    transactions make the sheet; unless one waits for the other, the second fails on the
    serial's unique key, its file stuck being read."""
    c, s = room.roster, room.serials
    front, back = room.sheet(s[0], c[0].exam_no)
    a = room.add_file("fronts.pdf", [front])
    b = room.add_file("backs.pdf", [back])
    _read_at_once(room, [a, b], lambda db: any(isinstance(o, ScanSheet) for o in db.new))
    with transaction(room.engine) as db:
        states = db.scalars(select(ScanSheet.state)).all()
    assert states == [ScanSheetState.TAKEN]  # complete, and the batch closed by itself


@pytest.mark.postgres
def test_two_offices_settling_the_last_item_at_once_close_the_batch_once(
    room: ScanRoom,
) -> None:
    """Two offices press "settle" on the batch's last item at once: the second must find
    it settled, not close the batch again with a second set of scripts."""
    c, s = room.roster, room.serials
    room.scan("a.pdf", room.sheet(s[0], c[0].exam_no, rows={"1": "?"}))
    with transaction(room.engine) as db:
        [row] = list_quarantine(db, room.session(db))
    errors: list[BaseException] = []
    outcomes: list[Any] = []

    def second() -> None:
        try:
            with transaction(room.engine) as db:
                outcomes.append(
                    resolve_item(db, room.session(db), row.id, actor="office-2", value="B")[1]
                )
        except BaseException as exc:
            errors.append(exc)

    with transaction(room.engine) as db:
        _item, closed = resolve_item(db, room.session(db), row.id, actor="office-1", value="A")
        assert closed is not None
        other = threading.Thread(target=second)
        other.start()
        other.join(1.5)  # it waits for this transaction (or, unlocked, runs on regardless)
    other.join(30)
    assert outcomes == [] and len(errors) == 1 and isinstance(errors[0], StateError), (
        outcomes,
        errors,
    )
    with transaction(room.engine) as db:
        batch = db.get(ScanBatch, room.batch_id)
        assert batch is not None and batch.state is ScanBatchState.CLOSED
        assert db.scalar(select(func.count()).select_from(IntakeBatch)) == 1
