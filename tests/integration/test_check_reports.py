"""Anomaly reports on seeds and 回评 (R4, DESIGN §13): the examiner reports a check as live
work, and the report reaches the lead as a live one does."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.quality.items import item_of, retire_item
from marking.quality.reports import open_reports
from marking.queue import handles
from marking.queue.claims import claim
from marking.queue.lead import resolve_anomaly
from marking.store.models import AnomalyResolution, CheckPurpose, ExamSession, LedgerEntry
from tests.integration.marking_helpers import account, takeable
from tests.integration.test_checks import group, one_seed
from web.actions import examiner as screens
from web.actions.common import addressed

NOTE = "图像模糊，看不清作答"


def reported_seed(db: Session, tmp_path: Path, code: str) -> tuple[ExamSession, int, dict]:
    """e3 reports the seed of their batch as illegible, and a live response of it: the
    session, the seed's source and the two answers (seed's, live's)."""
    exam, source = one_seed(db, tmp_path, code, ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    batch = claim(db, exam, e3, size=3, group="short")
    [seed] = [i for i in batch if i.check_id is not None]
    live = next(i for i in batch if i.check_id is None)
    answers = {
        which: screens.flag(db, exam, e3, addressed(exam, item)["response"], "illegible", NOTE)
        for which, item in (("seed", seed), ("live", live))
    }
    return exam, source, answers


def test_a_report_on_a_seed_reaches_the_lead_with_its_kind_and_note(
    db: Session, tmp_path: Path
) -> None:
    exam, source, answers = reported_seed(db, tmp_path, "CR-1")
    # The examiner's answer is a live report's, shape for shape.
    assert answers["seed"].keys() == answers["live"].keys()
    assert answers["seed"]["anomaly"] != answers["live"]["anomaly"]

    [report] = open_reports(db, exam, group(exam, "short"))
    assert report.handle == handles.response_handle(exam, source)
    assert (report.purpose, report.kind, report.note) == ("seed", "illegible", NOTE)
    assert report.examiner == account(db, "e3").name

    entries = db.scalars(
        select(LedgerEntry).where(
            LedgerEntry.session_id == exam.id, LedgerEntry.kind == "check_reported"
        )
    ).all()
    assert [(e.actor, e.payload["kind"], e.payload["response"]) for e in entries] == [
        ("e3", "illegible", source)
    ]
    assert not verify(db, exam).problems  # the ledger and the report agree


def test_a_reported_check_comes_back_to_the_count_as_a_resolved_live_report_does(
    db: Session, tmp_path: Path
) -> None:
    exam, source = one_seed(db, tmp_path, "CR-2", ("e1", "e2", "e3"))
    e3, lead = account(db, "e3"), account(db, "lead")

    def available() -> int:  # what a claim could hand e3 (they are shown no such count)
        return takeable(db, exam, e3, "short")

    before = available()
    batch = claim(db, exam, e3, size=3, group="short")
    assert sum(i.check_id is not None for i in batch) == 1
    answers = [
        (
            item.check_id is None,
            screens.flag(db, exam, e3, addressed(exam, item)["response"], "illegible", NOTE),
        )
        for item in batch
    ]
    assert available() == before - 3  # all three held out, the check's place with them
    for live, answer in answers:
        if live:  # the lead sends the live ones back to the queue
            resolve_anomaly(
                db,
                exam,
                lead,
                anomaly_id=handles.anomaly_id(exam, answer["anomaly"]),
                resolution=AnomalyResolution.REQUEUE,
                note="已核对，可以评分",
            )
    assert available() == before - 1  # the check still stands in: its report is open
    seed = item_of(
        db, exam, handle=handles.response_handle(exam, source), purpose=CheckPurpose.SEED
    )
    retire_item(db, exam, lead, item_id=seed.id)  # and retires the unreadable seed
    assert available() == before  # as a batch of three live reports resolved
    assert not open_reports(db, exam, group(exam, "short"))
    assert not verify(db, exam).problems
