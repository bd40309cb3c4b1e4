"""Where corrections, appeal revisions and the archive meet: a revision's own marks take
corrections by the rules that held before publication (R6, 第七条(八)), nothing else of a
published session does (DESIGN §6), and the archive of a session corrected and revised
verifies, each revision's results, finals and corrections checked (档案管理)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit.bundle import check_archive
from marking.audit.verify import verify
from marking.errors import StateError
from marking.people.accounts import get_account
from marking.publication.publish import publish
from marking.publication.revision_publish import approve_revision, publish_revision
from marking.publication.revisions import open_revision
from marking.queue.claims import claim
from marking.queue.corrections import Corrected, correct_mark, last_correctable
from marking.queue.marks import submit_mark
from marking.read import exports
from marking.read.archive import write_archive
from marking.store.models import ExamSession, Publication, ResponseState
from tests.integration import factory as f
from tests.integration.test_archive import edit_csv, rewritten

EXAMINERS = ("e1", "e2", "e3", "e4", "e5")


def correct(
    db: Session, exam: ExamSession, by: str, value: str, text: str, *, of: str | None = None
) -> Corrected:
    return correct_mark(
        db,
        exam,
        get_account(db, by),
        response_id=f.response_id(db, exam, text),
        examiner=get_account(db, of) if of else None,
        value=value,
        reason="笔误",
    )


def give(db: Session, exam: ExamSession, user: str, table: dict[str, str]) -> None:
    """``user`` claims the revision's responses and marks those named by text."""
    who = get_account(db, user)
    for item in claim(db, exam, who, size=10):
        submit_mark(db, exam, who, response_id=item.response_id, value=Decimal(table[item.text]))


@dataclass
class Revised:
    exam: ExamSession
    c1: str
    c2: str


def published_with_a_correction(db: Session, tmp_path: Path, code: str) -> Revised:
    """Tiny session marked by e1 and e2 (3 on every short answer), the lead's correction of
    e1's mark on c2's theory to 4 before publication, published, revision 2 opened for c1."""
    tiny = f.tiny_session(db, tmp_path, code, n=4, examiners=EXAMINERS)
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    correct(db, exam, "lead", "4", "c2 theory", of="e1")
    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam))
    c1, c2 = tiny.candidates[0].exam_no, tiny.candidates[1].exam_no
    open_revision(db, exam, by="office", candidates=[c1], reason="candidate appealed")
    return Revised(exam, c1, c2)


def test_a_revision_mark_is_corrected_by_its_examiner_then_by_the_lead_only(
    db: Session, tmp_path: Path
) -> None:
    """R6, 第七条(八): in an open revision (复核) its examiner corrects their own mark while
    the response is not final, the lead after; every response the revision did not reopen
    takes none (DESIGN §6: after publication a change is an appeal)."""
    revised = published_with_a_correction(db, tmp_path, "RC-01")
    exam = revised.exam
    give(db, exam, "e3", {"c1 theory": "0", "c1 skills": "4"})
    mine = last_correctable(db, exam, get_account(db, "e3"))
    assert mine is not None and mine.value in (Decimal(0), Decimal(4))
    correct(db, exam, "e3", "1", "c1 theory")  # one mark of two: not final
    give(db, exam, "e4", {"c1 theory": "1.5", "c1 skills": "4"})
    theory = f.response_of(db, exam, "c1 theory")
    assert (theory.state, theory.final, theory.revision) == (ResponseState.FINAL, Decimal("1.5"), 2)

    with pytest.raises(StateError) as refused:
        correct(db, exam, "e3", "2", "c1 theory")
    assert refused.value.code == "correction_final"
    done = correct(db, exam, "lead", "3", "c1 theory", of="e3")  # the lead, after the final
    assert done.state is ResponseState.OPEN  # 3 and 1.5: beyond tolerance, a third mark
    give(db, exam, "e5", {"c1 theory": "2.5"})
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.FINAL
    assert done.correction.old_value == Decimal(1)

    # What the revision did not reopen: another candidate's, and the first markers' marks.
    with pytest.raises(StateError) as outside:
        correct(db, exam, "lead", "3", "c2 theory", of="e1")
    assert outside.value.code == "correction_outside_revision"
    assert "revision 2" in str(outside.value)
    with pytest.raises(StateError) as withdrawn:
        correct(db, exam, "lead", "2", "c1 theory", of="e1")
    assert withdrawn.value.code == "correction_withdrawn"

    approve_revision(db, exam, get_account(db, "director"))
    publish_revision(db, exam, by="office", approved_by="director")
    with pytest.raises(StateError) as published:
        correct(db, exam, "lead", "3", "c1 theory", of="e3")
    assert published.value.code == "correction_published"
    finals = {(r[0], r[1], r[2]): r[3] for r in exports.finals_rows(db, exam)}
    code = f.script_code(db, exam, "c1 theory")
    assert finals[(code, "theory", "2")] == f"{f.response_of(db, exam, 'c1 theory').final:f}"
    assert verify(db, exam).ok, verify(db, exam).problems


def revised_archive(db: Session, tmp_path: Path, code: str) -> tuple[Revised, Path]:
    """The corrected session above with revision 2 marked (a correction in it) and
    published, and its archive."""
    revised = published_with_a_correction(db, tmp_path, code)
    exam = revised.exam
    give(db, exam, "e3", {"c1 theory": "0", "c1 skills": "1"})
    correct(db, exam, "e3", "1", "c1 theory")
    give(db, exam, "e4", {"c1 theory": "1", "c1 skills": "1"})
    approve_revision(db, exam, get_account(db, "director"))
    publish_revision(db, exam, by="office", approved_by="director")
    path = tmp_path / "archive.zip"
    with path.open("wb") as out:
        write_archive(db, exam, out, workers=1)
    return revised, path


def _rows(path: Path, name: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as z:
        return list(csv.DictReader(io.StringIO(z.read(name).decode("utf-8-sig"))))


def test_the_archive_of_a_corrected_and_revised_session_verifies_and_tampering_is_named(
    db: Session, tmp_path: Path
) -> None:
    """档案管理: both revisions' results, heads and finals verify from the archive alone;
    revision 2's results changed, an earlier revision's final changed in its record, or
    a correction changed (R6), each is named."""
    revised, path = revised_archive(db, tmp_path, "RC-02")
    exam, exam_no = revised.exam, revised.c1
    report = check_archive(path)
    assert report.problems == []
    heads = [
        (p.revision, p.ledger_head)
        for p in db.scalars(
            select(Publication)
            .where(Publication.session_id == exam.id)
            .order_by(Publication.revision)
        )
    ]
    assert report.heads == heads and len(heads) == 2
    corrections = _rows(path, "marks/records/mark_correction.csv")
    assert len(corrections) == 2

    with zipfile.ZipFile(path) as z:
        body = json.loads(z.read("results/revision-2.json"))
    columns = body["columns"]
    row = next(i for i, r in enumerate(body["rows"]) if r[0] == exam_no)
    score = columns.index("theory_score")

    def raise_revision_2(files: dict[str, bytes]) -> None:
        body["rows"][row][score] = "99.9"
        files["results/revision-2.json"] = json.dumps(body, ensure_ascii=False).encode()
        edit_csv(
            files, "results/revision-2.csv", lambda rows: rows[row + 1].__setitem__(score, "99.9")
        )

    found = check_archive(rewritten(path, tmp_path / "r2.zip", raise_revision_2)).problems
    assert any("results of revision 2 do not hash" in p for p in found), found
    assert any(
        p.startswith(f"candidate {exam_no} (revision 2): theory score 99.9") for p in found
    ), found
    assert not any("revision 1" in p for p in found), found

    # The final c1's theory answer had in revision 1 (3, agreed) is kept by revision 2.
    theory = str(f.response_id(db, exam, "c1 theory"))
    [kept] = [
        r for r in _rows(path, "marks/records/revised_response.csv") if r["response_id"] == theory
    ]
    assert Decimal(kept["prior_final"]) == 3

    def rewrite_history(files: dict[str, bytes]) -> None:
        def edit(rows: list[list[str]]) -> None:
            header = rows[0]
            for line in rows[1:]:
                if line[header.index("response_id")] == theory:
                    line[header.index("prior_final")] = "5"

        edit_csv(files, "marks/records/revised_response.csv", edit)

    code = f.script_code(db, exam, "c1 theory")
    found = check_archive(rewritten(path, tmp_path / "prior.zip", rewrite_history)).problems
    assert any(
        p.startswith(
            f"script {code}, theory question 2 (revision 1): the revision's record holds 5"
        )
        for p in found
    ), found

    def change_correction(files: dict[str, bytes]) -> None:
        def edit(rows: list[list[str]]) -> None:
            rows[1][rows[0].index("value")] = "6"

        edit_csv(files, "marks/records/mark_correction.csv", edit)

    found = check_archive(rewritten(path, tmp_path / "corr.zip", change_correction)).problems
    first = corrections[0]
    assert any(
        p.startswith(f"mark correction {first['id']}: mark {first['mark_id']} to 6 by lead")
        for p in found
    ), found
    assert any("finals.csv holds" in p or "(revision 1)" in p for p in found), found
