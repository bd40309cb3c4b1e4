"""A fake page reader and a scan-batch set-up for the scan engine's tests.

A "scan file" here is JSON: a list of page specs. The fake reader hands back what a spec
says (a page code, an exam number read or its problem, the 缺考/违纪 boxes, each bubble
row's choice or "?" for doubtful, each box inked or blank), so the tests drive the engine
exactly as the real reader would, without pixels. ``{"unreadable": why}`` is a page without
a code, ``{"tampered": true}`` one whose check value fails, ``{"kill": true}`` stops the
run with an exception (a reader killed mid-file) while ``armed``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from marking.paper.codes import PagePayload, PayloadError, new_serials
from marking.paper.issue import component_layout
from marking.paper.layout import MAX_LINES, layout_digest
from marking.paper.omr import BoxCut, ExamNumberRead, PageRead, RowRead
from marking.paper.reading import PageReading, PageUnreadable
from marking.paper.scanning import FileResult, add_scan_file, create_scan_batch, process_file
from marking.paper.sources import ScanPage
from marking.store.db import session_factory, transaction
from marking.store.models import Component, ExamSession, IssuedSheet, ScanBatch
from reports.sheetdata import SheetPage
from tests.integration.factory import (
    ACTOR,
    Keys,
    add_staff,
    new_session,
    people,
    tiny_toml,
    write_csv,
)

PNG = b"\x89PNG\r\n\x1a\n"


def two_page_toml(code: str) -> str:
    """The tiny paper, its theory answer box so tall that theory sheets have two pages."""
    return (
        tiny_toml(code)
        .replace('group = "short"', f'group = "short"\nlines = {MAX_LINES}', 1)
        .replace("[[groups]]", TWELVE_DIGITS, 1)
    )


# The synthetic rosters' exam numbers have 12 digits: the sheets' grid must hold them.
TWELVE_DIGITS = "[paper]\nexam_number_digits = 12\n\n[[groups]]"


class KilledReader(BaseException):
    """The fake's stand-in for a reader process killed mid-file (like SIGKILL, nothing the
    engine may catch: a BaseException, as KeyboardInterrupt and SystemExit are)."""


def _ink(spec: dict[str, Any], question: str) -> str:
    return str(spec.get("boxes", {}).get(question, "ink"))


@dataclass
class FakeReader:
    armed: bool = True
    specs: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)

    def pages(self, path: Path, *, start: int) -> Iterator[ScanPage]:
        for number, spec in enumerate(json.loads(path.read_text()), start=1):
            if number <= start:
                continue
            self.specs[(path.name, number)] = spec
            yield ScanPage(path.name, number, np.zeros((1, 1), np.uint8), None)

    def identify(self, scan: ScanPage, *, key: bytes) -> tuple[PageReading, PagePayload]:
        spec = self.specs[(scan.source, scan.number)]
        if spec.get("kill") and self.armed:
            raise KilledReader(f"killed at page {scan.number}")
        if "unreadable" in spec:
            raise PageUnreadable(spec["unreadable"])
        if "boom" in spec:  # a reader bug, an image it cannot hold
            raise RuntimeError(spec["boom"])
        if spec.get("tampered"):
            raise PayloadError("page code: the check value does not match (misread or altered)")
        payload = PagePayload(
            spec["session"], spec["component"], spec["layout"], spec["serial"], spec["page"]
        )
        eye = np.eye(3)
        return PageReading(
            json.dumps(spec), False, eye, np.zeros((1, 1), np.uint8), (), ()
        ), payload

    def read(self, reading: PageReading, page: SheetPage, *, key: bytes) -> PageRead:
        spec = json.loads(reading.text)
        rows: dict[str, RowRead] = {}
        for question in dict.fromkeys(b.question for b in page.bubbles):
            chosen = spec.get("rows", {}).get(question, "")
            doubtful = chosen == "?"
            rows[question] = RowRead(
                (0.5,) if doubtful else (0.9,), () if doubtful else tuple(chosen), doubtful
            )
        boxes = tuple(
            BoxCut(
                a.question,
                a.kind,
                PNG + f"{spec['serial']}:{a.question}:{_ink(spec, a.question)}".encode(),
                _ink(spec, a.question) == "blank",
            )
            for a in page.answers
        )  # fmt: skip
        number = None
        if page.header is not None:
            digits = spec.get("exam_no")
            number = ExamNumberRead(digits, spec.get("problem"), ())
        return PageRead(
            payload=PagePayload(
                spec["session"], spec["component"], spec["layout"], spec["serial"], spec["page"]
            ),
            upside_down=False,
            exam_number=number,
            absent=spec.get("absent", False) if page.header else None,
            violation=spec.get("violation", False) if page.header else None,
            rows=rows,
            boxes=boxes,
            header_png=PNG + f"header of {spec.get('exam_no')}".encode() if page.header else None,
        )

    def row_crop(self, reading: PageReading, page: SheetPage, question: str) -> bytes:
        return PNG + f"row {question}".encode()

    def thumbnail(self, scan: ScanPage) -> bytes | None:
        return PNG + b"thumbnail"


@dataclass
class ScanRoom:
    """A keyed session with issued serials, a roster and a scan batch, committed."""

    engine: Engine
    exam_id: int
    code: str
    batch_id: int
    roster: list[Any]
    serials: list[str]
    digest: str
    tmp: Path
    keys: Keys
    reader: FakeReader = field(default_factory=FakeReader)

    def page(self, serial: str, page: int = 1, **read: Any) -> dict[str, Any]:
        return {
            "session": self.code, "component": "theory", "layout": self.digest,
            "serial": serial, "page": page, **read,
        }  # fmt: skip

    def sheet(self, serial: str, exam_no: str | None, **read: Any) -> list[dict[str, Any]]:
        """Both pages of a theory sheet: the header page (exam number, row 1) and the box."""
        boxes = read.pop("boxes", {})
        return [
            self.page(serial, 1, exam_no=exam_no, **read),
            self.page(serial, 2, boxes=boxes),
        ]

    def add_file(self, name: str, pages: list[dict[str, Any]], batch_id: int | None = None) -> int:
        with transaction(self.engine) as db:
            batch = db.get(ScanBatch, batch_id or self.batch_id)
            assert batch is not None
            return add_scan_file(db, batch, name=name, content=json.dumps(pages).encode()).id

    def run(self, file_id: int, owner: str = "reader-1") -> FileResult:
        return process_file(session_factory(self.engine), file_id, owner=owner, reader=self.reader)

    def scan(self, name: str, pages: list[dict[str, Any]]) -> FileResult:
        return self.run(self.add_file(name, pages))

    def session(self, db: Session) -> ExamSession:
        exam = db.get(ExamSession, self.exam_id)
        assert exam is not None
        return exam

    def new_batch(self, roster: list[Any], name: str, component: str = "theory") -> int:
        path = write_csv(
            self.tmp / f"{name}.csv",
            ("exam_no", "name", "id_number", "institution"),
            ((c.exam_no, c.name, c.id_number, c.institution) for c in roster),
        )
        with transaction(self.engine) as db:
            exam = self.session(db)
            return create_scan_batch(db, exam, component=component, roster=path, actor=ACTOR).id


def scan_room(engine: Engine, tmp: Path, code: str = "SCAN-1", n: int = 4) -> ScanRoom:
    """A two-page-theory session with ``2 n`` theory serials issued and a batch of ``n``."""
    with transaction(engine) as db:
        add_staff(db)
        exam, keys = new_session(db, tmp, two_page_toml(code), key_file=True)
        digest = layout_digest(component_layout(exam, "theory"))
        serials = list(new_serials(2 * n))
        theory = next(
            c for c in db.query(Component).filter_by(session_id=exam.id) if c.key == "theory"
        )
        db.add_all(
            IssuedSheet(
                session_id=exam.id, component_id=theory.id, serial=s, layout=digest, issued_by=ACTOR
            )
            for s in serials
        )
        exam_id = exam.id
    roster = people(n, seed=7)
    room = ScanRoom(engine, exam_id, code, 0, roster, serials, digest, tmp, keys)
    room.batch_id = room.new_batch(roster, "room-1")
    return room
