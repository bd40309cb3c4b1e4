"""`blindmark serve --demo` seeds a live session whose quality control (DESIGN §13) a
newcomer can meet: a qualification set built by the lead with notes, one examiner qualified
and one not yet, seeds and 回评 on, a drift alarm with its evidence, and work left open."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.demo import live_quality
from marking.demo.demo import DEMO_PASSWORD
from marking.demo.live import seed
from marking.quality import decisions
from marking.quality.qualification import active_items, qualification_state
from marking.queue.claims import claim
from marking.read import monitoring
from marking.setup.assignment import get_group
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    Account,
    AlarmKind,
    Assignment,
    CheckItem,
    CheckMark,
    CheckPurpose,
    CheckState,
    Mark,
    Response,
    ResponseState,
    SessionState,
)
from tests.conftest import FreshDatabase
from tests.web.conftest import login
from web import create_app


def _account(db: Session, username: str) -> Account:
    found = db.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


def test_live_demo_shows_quality_control(fresh_db: FreshDatabase, tmp_path: Path) -> None:
    printed: list[str] = []
    code = seed(fresh_db.engine, candidates=40, out_dir=tmp_path / "demo", echo=printed.append)
    with transaction(fresh_db.engine) as db:
        exam = get_session(db, code)
        assert exam.state is SessionState.MARKING
        # Seeds and 回评 on in every group; the alarm group turns them up.
        assert all(g.seed_rate > 0 and g.remark_rate > 0 for g in exam.groups)
        short = get_group(db, exam, live_quality.ALARM_GROUP)
        assert (short.seed_rate, short.remark_rate) == (Decimal("0.1"), Decimal("0.05"))
        calc = get_group(db, exam, live_quality.QUALIFYING_GROUP)
        assert (calc.qualification_size, calc.qualification_within) == (3, Decimal("0.66"))
        # The lead's qualification set, each item with a definitive mark and a note.
        qualification = active_items(db, calc)
        assert len(qualification) == 3 and all(item.note for item in qualification)
        # The notes a Chinese lead reads on the quality pages are Chinese only.
        notes = db.scalars(select(CheckItem.note).where(CheckItem.session_id == exam.id)).all()
        assert notes and not any("simulated" in (note or "") for note in notes)
        exam001, exam002, exam004 = (_account(db, u) for u in ("exam001", "exam002", "exam004"))
        assert qualification_state(db, exam, exam001, calc).qualified
        waiting = qualification_state(db, exam, exam002, calc)
        assert waiting.required and not waiting.qualified and waiting.attempt == 0
        # exam002 gets live work elsewhere, nothing of 计算题 before the set.
        batch = claim(db, exam, exam002, size=20, rng=random.Random(1))
        assert batch and all(item.group != calc.key for item in batch)
        # The severe examiner marks 简答题 only, and their seeds raised a drift alarm.
        groups = db.scalars(
            select(Assignment.group_id).where(
                Assignment.examiner_id == exam004.id, Assignment.session_id == exam.id
            )
        ).all()
        assert groups == [short.id]
        alarms = decisions.alarms(db, exam)
        assert [(a.username, a.group_key) for a in alarms] == [("exam004", short.key)]
        assert alarms[0].kind is AlarmKind.SEEDS_OFF
        assert len(alarms[0].evidence["seeds"]) >= 3
        seeds = db.scalar(
            select(func.count()).where(
                CheckItem.session_id == exam.id, CheckItem.purpose == CheckPurpose.SEED
            )
        )
        assert seeds
        purposes = set(db.scalars(select(CheckMark.purpose).where(CheckMark.session_id == exam.id)))
        assert {CheckPurpose.QUALIFICATION, CheckPurpose.SEED} <= purposes
        # Work left to mark in every group, and the ledger holds.
        for group in exam.groups:
            left = db.scalar(
                select(func.count()).where(
                    Response.group_id == group.id, Response.state == ResponseState.OPEN
                )
            )
            assert left, group.key
        assert verify(db, exam).ok
        # The monitoring figures: the severe examiner's seeds and alarm show.
        figures = monitoring.with_live_state(db, exam, monitoring.compute(db, exam))
        rows = {(r.group, r.examiner): r for g in figures.groups for r in g.examiners}
        severe = rows[(short.key, "exam004")]
        assert severe.seed_marks >= 3 and severe.seed_within == 0
        # Every seed exam004 marked came out below its definitive mark (8 below, clipped at
        # 0): the drift the alarm reports, whatever responses the queue handed them.
        seed_marks = db.execute(
            select(CheckMark.value, CheckMark.expected).where(
                CheckMark.session_id == exam.id,
                CheckMark.group_id == short.id,
                CheckMark.examiner_id == exam004.id,
                CheckMark.purpose == CheckPurpose.SEED,
                CheckMark.state == CheckState.SUBMITTED,
            )
        ).all()
        assert len(seed_marks) == severe.seed_marks
        assert all(value < expected for value, expected in seed_marks)
        # Severity needs a co-marker on the same response: with intake's random queue order
        # exam004 may have marked only responses nobody else has reached yet. When someone
        # has, the severe examiner shows below them; when nobody has, there is no figure.
        theirs = (
            select(Mark.response_id)
            .join(Response, Response.id == Mark.response_id)
            .where(Mark.examiner_id == exam004.id, Response.group_id == short.id)
        )
        co_marked = db.scalar(
            select(func.count(func.distinct(Mark.response_id))).where(
                Mark.response_id.in_(theirs), Mark.examiner_id != exam004.id
            )
        )
        if co_marked:
            assert severe.severity is not None and severe.severity < 0
        else:
            assert severe.severity is None
        assert "seeds_off" in severe.alarms
        assert rows[(calc.key, "exam002")].status == "qualifying"
    text = "\n".join(printed)
    assert "exam002   资格测试 on 计算题" in text
    assert "drift alarm seeds_off" in text
    assert f"/lead/sessions/{code}/quality/" in text
    # What the newcomer sees: exam002 is sent to the qualification set first; the lead's
    # inbox holds the alarm.
    app = create_app(
        {
            "DATABASE_URL": fresh_db.url,
            "ENGINE": fresh_db.engine,
            "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False,
            "TESTING": True,
        }
    )
    examiner = app.test_client()
    login(examiner, "exam002", DEMO_PASSWORD)
    home = examiner.get("/examiner/").get_data(as_text=True)
    assert f"/examiner/sessions/{code}/groups/calc/qualification" in home
    assert "须先完成资格测试" in home
    lead = app.test_client()
    login(lead, lead_name(printed), DEMO_PASSWORD)
    inbox = lead.get(f"/lead/sessions/{code}/quality/alarms")
    assert inbox.status_code == 200
    assert "样卷偏差过多" in inbox.get_data(as_text=True)
    page = lead.get(f"/lead/sessions/{code}/monitoring")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)


def test_live_demo_seeds_again_on_the_same_database(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """`make demo` run again on the same instance/ seeds a new run beside the earlier ones:
    the examiners' accounts (and certificates) are reused, each run's lead is a new account
    with a certificate number of its own, and each run's live session opens for marking at
    a station of its own (R10 would refuse the same four examiners there again)."""
    leads = []
    for run in (1, 2, 3):
        printed: list[str] = []
        code = seed(fresh_db.engine, candidates=40, out_dir=tmp_path / "demo", echo=printed.append)
        assert code == f"DEMO-2026-{run}-LIVE"
        leads.append(lead_name(printed))
    assert leads == ["lead-demo-2026-1", "lead-demo-2026-2", "lead-demo-2026-3"]
    with transaction(fresh_db.engine) as db:
        certificates = {u: _account(db, u).examiner for u in leads}
        numbers = {e.certificate_no for e in certificates.values() if e is not None}
        assert len(numbers) == len(leads)
        examiners = db.scalars(
            select(Account.username).where(Account.username.like("exam%")).order_by(Account.id)
        ).all()
        assert examiners == [f"exam{i:03d}" for i in range(1, 13)]
        stations = set()
        for run in (1, 2, 3):
            exam = get_session(db, f"DEMO-2026-{run}-LIVE")
            assert exam.state is SessionState.MARKING
            assert verify(db, exam).ok
            stations.add(exam.station)
        assert len(stations) == 3


def lead_name(printed: list[str]) -> str:
    """The lead's account as the demo printed it."""
    line = next(line for line in printed if line.strip().startswith("lead "))
    return line.split()[-1]
