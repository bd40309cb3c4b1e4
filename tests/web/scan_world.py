"""A scanned session for the web tests: sheets read through the scan engine with the fake page
reader, quarantine settled by the office, examiners assigned, marking open.

Every cut the reader hands the engine is searchable: each header crop, answer box, bubble
row crop and page thumbnail carries a token of its own, recorded here with what it was cut
from, so a test can tell whether a byte an examiner received is the box of that response,
another question's box or a header (identity).

The session ``code`` has three scan batches: room 1 for theory (a doubtful bubble row, an
exam number off the roster and a repeated page, all settled by the office, so it closed by
itself) and for skills (a 违纪 box settled; closed), and room 2 for theory, left OPEN with
two exam-number items whose header crops are still in clear, for the office only. Logging
is captured at DEBUG from the first page read to the last resolution.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.demo import synthetic
from marking.paper.codes import new_serials
from marking.paper.issue import component_layout
from marking.paper.layout import MAX_LINES, layout_digest
from marking.paper.omr import BoxCut, PageRead
from marking.paper.quarantine import list_quarantine, resolve_item
from marking.paper.reading import PageReading
from marking.paper.scanning import add_scan_file, create_scan_batch, process_file
from marking.paper.sources import ScanPage
from marking.store.db import scrub_wal, session_factory
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    IssuedSheet,
    ScanBatch,
    ScanBatchState,
)
from reports.sheetdata import SheetPage
from tests.integration.factory import (
    ACTOR,
    add_examiners,
    add_staff,
    new_session,
    open_marking,
    people,
    tiny_toml,
    write_csv,
)
from tests.integration.scan_support import PNG, TWELVE_DIGITS, FakeReader
from tests.web.conftest import World

# Marking teams: e1 sees theory boxes only, e2 skills boxes only, e3 and e4 both.
TEAMS = {"short": ("e1", "e3", "e4"), "prac": ("e2", "e3", "e4")}
GROUP_OF = {"theory": "short", "skills": "prac"}  # the examiner-marked box of each is "2"


@dataclass(frozen=True)
class Cut:
    """A box the reader cut: where from, and whether it was blank."""

    component: str
    serial: str
    question: str
    blank: bool


@dataclass
class SecretReader(FakeReader):
    """The fake reader, its cuts made of unique tokens (never the serial or exam number)."""

    headers: dict[bytes, str] = field(default_factory=dict)  # crop -> serial
    boxes: dict[bytes, Cut] = field(default_factory=dict)
    crops: list[bytes] = field(default_factory=list)  # bubble rows and thumbnails

    def read(self, reading: PageReading, page: SheetPage, *, key: bytes) -> PageRead:
        read = super().read(reading, page, key=key)
        spec = json.loads(reading.text)
        boxes = []
        for box in read.boxes:
            png = PNG + f"BOXCUT-{secrets.token_hex(12)}".encode()
            self.boxes[png] = Cut(spec["component"], spec["serial"], box.question, box.blank)
            boxes.append(BoxCut(box.question, box.kind, png, box.blank))
        header = None
        if read.header_png is not None:
            header = PNG + f"HEADERCROP-{secrets.token_hex(12)}".encode()
            self.headers[header] = spec["serial"]
        return dataclasses.replace(read, boxes=tuple(boxes), header_png=header)

    def row_crop(self, reading: PageReading, page: SheetPage, question: str) -> bytes:
        crop = PNG + f"ROWCROP-{secrets.token_hex(12)}".encode()
        self.crops.append(crop)
        return crop

    def thumbnail(self, scan: ScanPage) -> bytes | None:
        crop = PNG + f"THUMBNAIL-{secrets.token_hex(12)}".encode()
        self.crops.append(crop)
        return crop


@dataclass
class Scanned:
    """What the test knows and no user may learn: rosters, serials and every cut."""

    code: str
    exam_id: int
    rooms: list[list[synthetic.SyntheticCandidate]]
    serials: list[str]  # every serial issued, used or not
    batches: dict[str, int]  # "theory-1", "skills-1", "theory-2" -> scan batch id
    reader: SecretReader
    logs: list[logging.LogRecord]

    @property
    def people(self) -> list[synthetic.SyntheticCandidate]:
        return [p for room in self.rooms for p in room]

    def cuts_of(self, component: str) -> dict[bytes, Cut]:
        return {png: c for png, c in self.reader.boxes.items() if c.component == component}


def _toml(code: str) -> str:
    """The tiny paper, its theory answer box tall enough for a two-page theory sheet."""
    return (
        tiny_toml(code, station=f"S-{code}")
        .replace('group = "short"', f'group = "short"\nlines = {MAX_LINES}', 1)
        .replace("[[groups]]", TWELVE_DIGITS, 1)
    )


def _sheet_pages(
    code: str, component: str, digest: str, pages: int, serial: str, exam_no: str | None,
    **read: Any,
) -> list[dict[str, Any]]:  # fmt: skip
    """The fake reader's specs of one sheet: the header on page 1, the answer box last."""
    boxes = read.pop("boxes", {})
    base = {"session": code, "component": component, "layout": digest, "serial": serial}
    specs = [{**base, "page": n} for n in range(1, pages + 1)]
    specs[0].update(exam_no=exam_no, **read)
    specs[-1]["boxes"] = boxes
    return specs


@contextmanager
def captured_logs() -> Iterator[list[logging.LogRecord]]:
    """Every log record of every logger at DEBUG (SQLAlchemy keeps its own WARNING level:
    statement echo is a debugging switch of its own, off unless asked for)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    handler, before = Keep(level=logging.DEBUG), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


def _issue(db: Session, exam: ExamSession, component: str, count: int) -> tuple[str, list[str]]:
    digest = layout_digest(component_layout(exam, component))
    comp = db.scalars(
        select(Component).where(Component.session_id == exam.id, Component.key == component)
    ).one()
    serials = list(new_serials(count))
    db.add_all(
        IssuedSheet(
            session_id=exam.id, component_id=comp.id, serial=s, layout=digest, issued_by=ACTOR
        )
        for s in serials
    )
    return digest, serials


def scanned_session(world: World, code: str, *, n: int = 6) -> Scanned:
    """The scanned session described in the module's docstring, committed."""
    folder = world.tmp / code
    rooms = [people(n, seed=31), people(3, seed=32, prefix="2613")]
    with world.tx() as db:
        add_staff(db)
        known = set(db.scalars(select(Account.username)))
        if missing := [u for u in ("e1", "e2", "e3", "e4") if u not in known]:
            add_examiners(db, folder, *missing)
        exam, _keys = new_session(db, folder, _toml(code), key_file=True)
        theory, theory_serials = _issue(db, exam, "theory", n + 6)
        skills, skills_serials = _issue(db, exam, "skills", n + 2)
        batches = {}
        for name, component, room in (
            ("theory-1", "theory", rooms[0]),
            ("skills-1", "skills", rooms[0]),
            ("theory-2", "theory", rooms[1]),
        ):
            roster = write_csv(
                folder / f"{name}.csv",
                ("exam_no", "name", "id_number", "institution"),
                ((c.exam_no, c.name, c.id_number, c.institution) for c in room),
            )
            made = create_scan_batch(db, exam, component=component, roster=roster, actor=ACTOR)
            batches[name] = made.id
        exam_id = exam.id
    t_pages = len(component_layout_of(world, exam_id, "theory").pages)
    s_pages = len(component_layout_of(world, exam_id, "skills").pages)

    def theory_sheet(serial: str, exam_no: str | None, **read: Any) -> list[dict[str, Any]]:
        return _sheet_pages(code, "theory", theory, t_pages, serial, exam_no, **read)

    def skills_sheet(serial: str, exam_no: str | None, **read: Any) -> list[dict[str, Any]]:
        return _sheet_pages(code, "skills", skills, s_pages, serial, exam_no, **read)

    c, r, t, s = rooms[0], rooms[1], theory_serials, skills_serials
    files: dict[str, list[dict[str, Any]]] = {
        "theory-1": [
            *theory_sheet(t[0], c[0].exam_no, rows={"1": "A"}),
            *theory_sheet(t[1], c[1].exam_no, rows={"1": "?"}),  # doubtful: the office reads it
            *theory_sheet(t[2], "99999999", rows={"1": "B"}),  # off the roster: given c[2]
            *theory_sheet(t[3], c[3].exam_no, rows={"1": "A"}, boxes={"2": "blank"}),
            *theory_sheet(t[4], c[4].exam_no, rows={"1": "C"}),
            theory_sheet(t[4], c[4].exam_no)[-1],  # a repeated page: discarded
            *theory_sheet(t[5], c[5].exam_no, rows={"1": "A"}),
        ],
        "skills-1": [
            spec
            for i, p in enumerate(c)
            for spec in skills_sheet(
                s[i],
                p.exam_no,
                rows={"1": "T"},
                violation=(i == 1),
                boxes={"2": "blank"} if i == 4 else {},
            )
        ],
        "theory-2": [
            *theory_sheet(t[n + 3], r[0].exam_no, rows={"1": "A"}),
            *theory_sheet(t[n + 4], None, rows={"1": "A"}, problem="column 2: two bubbles"),
            *theory_sheet(t[n + 5], "88888888", rows={"1": "A"}),
        ],
    }
    reader = SecretReader()
    with captured_logs() as logs:
        _scan(world, batches, files, reader)
        _settle_room_1(world, code, batches, c)
        scrub_wal(world.database.engine)
    _open_marking(world, exam_id, batches)
    return Scanned(code, exam_id, rooms, [*t, *s], batches, reader, logs)


def _scan(
    world: World, batches: dict[str, int], files: dict[str, list[dict[str, Any]]], reader: Any
) -> None:
    """Each batch's pile as one file, queued and read through the engine."""
    for name, pages in files.items():
        with world.tx() as db:
            batch = db.get(ScanBatch, batches[name])
            assert batch is not None
            content = json.dumps(pages).encode()
            file_id = add_scan_file(db, batch, name=f"{name}.pdf", content=content).id
        factory = session_factory(world.database.engine)
        process_file(factory, file_id, owner="reader-1", reader=reader)


def _open_marking(world: World, exam_id: int, batches: dict[str, int]) -> None:
    """Room 1's batches closed by themselves, room 2's is open: examiners assigned."""
    with world.tx() as db:
        exam = db.get(ExamSession, exam_id)
        assert exam is not None
        for name in ("theory-1", "skills-1"):
            done = db.get(ScanBatch, batches[name])
            assert done is not None and done.state is ScanBatchState.CLOSED, name
        still = db.get(ScanBatch, batches["theory-2"])
        assert still is not None and still.state is ScanBatchState.OPEN
        open_marking(db, exam, TEAMS)
        world.passwords(db)


def component_layout_of(world: World, exam_id: int, component: str) -> Any:
    with world.tx() as db:
        exam = db.get(ExamSession, exam_id)
        assert exam is not None
        return component_layout(exam, component)


def _settle_room_1(
    world: World, code: str, batches: dict[str, int], c: list[synthetic.SyntheticCandidate]
) -> None:
    """The office settles room 1's items (the batches close by themselves on the last)."""
    with world.tx() as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.code == code)).one()
        items = [
            (i.id, i.kind)
            for name in ("theory-1", "skills-1")
            for i in list_quarantine(db, exam, batch_id=batches[name])
        ]
    kinds = sorted(k for _i, k in items)
    assert kinds == ["bubble_row", "off_roster", "repeated", "violation"], kinds
    answers: dict[str, dict[str, Any]] = {
        "bubble_row": {"value": "A"},
        "off_roster": {"exam_no": c[2].exam_no},
        "repeated": {"discard": True},
        "violation": {"value": "warning"},
    }
    for item_id, kind in items:
        with world.tx() as db:
            exam = db.scalars(select(ExamSession).where(ExamSession.code == code)).one()
            resolve_item(db, exam, item_id, actor="office", **answers[kind])
