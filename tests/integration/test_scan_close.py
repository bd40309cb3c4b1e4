"""A scan batch from complete sheets to scripts: one store_batch at close, objective answers
scored as CSV intake scores them, empty boxes flagged blank, absentees without scripts, and
the roster, exam numbers and header crops sealed and gone from the clear tables."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from anonymizer.seal import associated_data
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import (
    Component,
    Image,
    IntakeBatch,
    LedgerEntry,
    Question,
    Response,
    ScanBatch,
    ScanBatchState,
    Script,
    SealedKind,
    SealedRecord,
)
from tests.conftest import FreshDatabase
from tests.integration.factory import new_session, take_in, tiny_rows
from tests.integration.scan_support import PNG, ScanRoom, scan_room, two_page_toml


def theory_scores(room_or_engine: ScanRoom, exam_id: int) -> list[tuple[str, object, bool]]:
    """(question, key score, blank) of every theory response of the session, sorted."""
    with transaction(room_or_engine.engine) as db:
        found = db.execute(
            select(Question.number, Response.key_score, Response.blank)
            .join(Question, Question.id == Response.question_id)
            .join(Script, Script.id == Response.script_id)
            .join(Component, Component.id == Script.component_id)
            .where(Script.session_id == exam_id, Component.key == "theory")
        ).all()
    return sorted((n, s, b) for n, s, b in found)


def test_complete_sheets_become_scripts_scored_as_csv_intake_scores_them(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    schema.upgrade(fresh_db.engine)
    room = scan_room(fresh_db.engine, tmp_path)
    c = room.roster
    s = room.serials
    first = room.sheet(s[0], c[0].exam_no, rows={"1": "A"})
    second = room.sheet(s[1], c[1].exam_no, rows={"1": "B"}, boxes={"2": "blank"})
    absent = room.sheet(s[2], c[2].exam_no, absent=True)
    # any page order, the sheets' pages interleaved; c[3] has no sheet at all
    result = room.scan("pile.pdf", [second[1], first[0], absent[0], second[0], absent[1], first[1]])
    assert (result.state, result.pages, result.batch_closed) == ("done", 6, True)

    with transaction(fresh_db.engine) as db:
        batch = db.get(ScanBatch, room.batch_id)
        assert batch is not None and batch.state is ScanBatchState.CLOSED
        assert batch.roster is None and batch.intake_batch_id is not None
        intake = db.get(IntakeBatch, batch.intake_batch_id)
        assert intake is not None
        assert (intake.candidate_count, intake.script_count) == (4, 2)
        key = room.keys.open(room.session(db))
        aad = associated_data("intake_batch", room.exam_id, intake.id)
        sealed = json.loads(key.unseal(intake.sealed_key, intake.identities, aad))
        scripts = {x["exam_no"]: x["scripts"] for x in sealed["candidates"]}
        assert set(scripts[c[0].exam_no]) == {"theory"} and set(scripts[c[1].exam_no]) == {"theory"}
        assert scripts[c[2].exam_no] == {} and scripts[c[3].exam_no] == {}  # absent: 缺考, no sheet
        images = db.scalars(select(Image.content)).all()
        assert sorted(images) == sorted(
            [PNG + f"{s[0]}:2:ink".encode(), PNG + f"{s[1]}:2:blank".encode()]
        )
        headers = db.scalars(
            select(SealedRecord).where(SealedRecord.kind == SealedKind.SCAN_HEADER)
        ).all()
        assert len(headers) == 1
        closed = db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "scan_batch_closed"))
        assert closed is not None and closed.payload["scripts"] == 2
        assert closed.payload["absent"] == 2 and closed.payload["blank_boxes"] == 1
        csv_exam, _keys = new_session(db, tmp_path / "csv", two_page_toml("CSV-1"), key_file=True)
        rows = tiny_rows(c, absent={c[2].exam_no: {"theory"}, c[3].exam_no: {"theory"}},
                         answers={c[1].exam_no: {("theory", "1"): "B"}})  # fmt: skip
        take_in(db, csv_exam, tmp_path / "csv-batch", c, [r for r in rows if r[1] == "theory"])
        csv_id = csv_exam.id

    scanned = theory_scores(room, room.exam_id)
    typed = theory_scores(room, csv_id)
    assert [(q, sc) for q, sc, _b in scanned] == [(q, sc) for q, sc, _b in typed]
    assert [(q, sc) for q, sc, _b in scanned if q == "1"] == [("1", 0), ("1", 2)]
    assert [b for q, _s, b in scanned if q == "2"].count(True) == 1
