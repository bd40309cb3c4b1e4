"""A candidate may be in one scan batch per component: publication joins their components
across batches by the sealed exam number and refuses the same (exam number, component)
twice; an open batch already refuses a roster that overlaps another open one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from marking.errors import InputErrors
from marking.paper.closing import close_batch
from marking.paper.codes import new_serials
from marking.paper.issue import component_layout
from marking.paper.layout import layout_digest
from marking.publication.preconditions import PublicationRefused
from marking.publication.unsealing import unseal_roster
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import Component, IssuedSheet, ScanBatch
from tests.conftest import FreshDatabase
from tests.integration.scan_support import ScanRoom, scan_room


def close(room: ScanRoom, batch_id: int) -> None:
    with transaction(room.engine) as db:
        batch = db.get(ScanBatch, batch_id)
        assert batch is not None
        close_batch(db, room.session(db), batch, actor="office")


def skills_pages(room: ScanRoom, serial: str, digest: str, exam_no: str) -> list[dict[str, object]]:
    page = room.page(serial, 1, exam_no=exam_no, rows={"1": "T"})
    return [dict(page, component="skills", layout=digest)]


def test_components_join_across_batches_and_a_second_batch_of_one_is_refused(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    schema.upgrade(fresh_db.engine)
    room = scan_room(fresh_db.engine, tmp_path, n=2)
    c, s = room.roster, room.serials
    with pytest.raises(InputErrors, match="row 2, column exam_no: already on the roster"):
        room.new_batch(c[:1], "overlap")
    room.scan("theory.pdf", [*room.sheet(s[0], c[0].exam_no), *room.sheet(s[1], c[1].exam_no)])
    with transaction(room.engine) as db:
        exam = room.session(db)
        digest = layout_digest(component_layout(exam, "skills"))
        skills = db.scalars(
            select(Component).where(Component.session_id == exam.id, Component.key == "skills")
        ).one()
        serial = new_serials(1)[0]
        db.add(IssuedSheet(session_id=exam.id, component_id=skills.id, serial=serial,
                           layout=digest, issued_by="office"))  # fmt: skip
    skills_batch = room.new_batch(c[:1], "skills-room", component="skills")
    file_id = room.add_file("skills.pdf", skills_pages(room, serial, digest, c[0].exam_no),
                            batch_id=skills_batch)  # fmt: skip
    assert room.run(file_id).batch_closed
    with transaction(room.engine) as db:
        exam = room.session(db)
        joined = {x.exam_no: x.scripts for x in unseal_roster(db, exam, room.keys.open(exam))}
    assert set(joined[c[0].exam_no]) == {"theory", "skills"}
    assert set(joined[c[1].exam_no]) == {"theory"}

    # A second theory batch naming c[1] without a sheet of theirs claims nothing...
    empty = room.new_batch(c[1:], "theory-roster-only")  # the first one is closed (sealed)
    close(room, empty)
    with transaction(room.engine) as db:
        exam = room.session(db)
        joined = {x.exam_no: x.scripts for x in unseal_roster(db, exam, room.keys.open(exam))}
    assert set(joined[c[1].exam_no]) == {"theory"}
    # ...but one that takes a second theory sheet of c[1] is refused at publication.
    again = room.new_batch(c[1:], "theory-again")
    file_id = room.add_file("again.pdf", room.sheet(s[2], c[1].exam_no), batch_id=again)
    assert room.run(file_id).batch_closed
    with transaction(room.engine) as db:
        exam = room.session(db)
        with pytest.raises(PublicationRefused, match="component theory"):
            unseal_roster(db, exam, room.keys.open(exam))


def test_a_candidate_without_a_sheet_in_one_batch_is_taken_in_by_a_later_one(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """A room's pile scanned in two batches (the first closed by itself before the rest
    came): the candidates the first had no sheet for are taken in by the second, and the
    session is not wedged by the first batch's roster."""
    schema.upgrade(fresh_db.engine)
    room = scan_room(fresh_db.engine, tmp_path, n=2)
    c, s = room.roster, room.serials
    # nothing in doubt: the first batch closes by itself, c[1]'s sheet not in yet
    assert room.scan("first.pdf", room.sheet(s[0], c[0].exam_no)).batch_closed
    later = room.new_batch(c[1:], "rest-of-the-pile")
    assert room.run(room.add_file("rest.pdf", room.sheet(s[1], c[1].exam_no), later)).batch_closed
    with transaction(room.engine) as db:
        exam = room.session(db)
        joined = {x.exam_no: x.scripts for x in unseal_roster(db, exam, room.keys.open(exam))}
    assert set(joined) == {c[0].exam_no, c[1].exam_no}
    assert set(joined[c[0].exam_no]) == set(joined[c[1].exam_no]) == {"theory"}
