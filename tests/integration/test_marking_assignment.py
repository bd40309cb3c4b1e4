"""The marking engine through its services: assignment (R9-R11) and opening a group (R5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from marking.errors import MarkingError, StateError
from marking.queue.claims import claim
from marking.setup.assignment import approve_scheme, assign, get_group
from marking.store.models import SessionState
from tests.integration import factory as f
from tests.integration.marking_helpers import account, team

# --- assignment (R9, R10, R11) and opening a group (R5) -----------------------------------------


def test_assignment_refuses_a_certificate_expired_by_the_session_date(
    db: Session, tmp_path: Path
) -> None:
    f.add_staff(db)
    f.add_examiners(
        db, tmp_path, f.Ex("lapsed", expires="2026-12-04"), f.Ex("edge", expires="2026-12-05")
    )
    exam, _ = f.new_session(db, tmp_path, f.tiny_toml("AS-01", date="2026-12-05"))
    short = get_group(db, exam, "short")

    with pytest.raises(MarkingError) as refused:
        assign(db, exam, short, ["edge", "lapsed"], actor=f.ACTOR)

    message = str(refused.value)
    assert (
        "lapsed: certificate C-lapsed expired on 2026-12-04, before the session date "
        "2026-12-05 (R11, 第三条)" in message
    )
    assert "edge" not in message  # valid on the session day itself
    assert team(db, short) == set()  # refused whole: not even the valid examiner
    assert assign(db, exam, short, ["edge"], actor=f.ACTOR).added == ["edge"]


def test_assignment_refuses_a_scope_without_the_occupation_and_level(
    db: Session, tmp_path: Path
) -> None:
    f.add_staff(db)
    f.add_examiners(
        db,
        tmp_path,
        f.Ex("level4", scope=f"{f.OCCUPATION}:4"),
        f.Ex("plumber", scope="6-29-03-01:3"),
        f.Ex("fine", scope=f"{f.OCCUPATION}:3"),
    )
    exam, _ = f.new_session(db, tmp_path, f.tiny_toml("AS-02"))
    short = get_group(db, exam, "short")

    with pytest.raises(MarkingError) as refused:
        assign(db, exam, short, ["fine", "level4", "plumber"], actor=f.ACTOR)

    message = str(refused.value)
    assert (
        f"level4: certificate scope ({f.OCCUPATION}:4) does not cover {f.OCCUPATION} level 3 "
        "(R9, 第七条(一))" in message
    )
    assert (
        f"plumber: certificate scope (6-29-03-01:3) does not cover {f.OCCUPATION} level 3 "
        "(R9, 第七条(一))" in message
    )
    assert "fine" not in message
    assert team(db, short) == set()


# R10's team rules (rotation, consecutive sessions): tests/integration/test_teams.py


def test_nothing_is_handed_out_before_the_lead_approves_the_scheme(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "AP-01", open_groups=False)
    exam = tiny.exam
    short, prac = get_group(db, exam, "short"), get_group(db, exam, "prac")
    assign(db, exam, short, ["e1", "e2"], actor=f.ACTOR, lead="lead")
    assign(db, exam, prac, ["e3"], actor=f.ACTOR)

    with pytest.raises(StateError, match="AP-01 is intake, not open for marking"):
        claim(db, exam, account(db, "e1"))
    for who in ("e1", "office"):
        with pytest.raises(
            MarkingError, match=f"only the session's lead examiner approves schemes; {who} is not"
        ):
            approve_scheme(db, exam, short, by=who)
    assert short.approved_at is None and exam.state is SessionState.INTAKE

    approve_scheme(db, exam, short, by="lead")
    assert exam.state is SessionState.MARKING
    got = claim(db, exam, account(db, "e1"), size=100)
    assert len(got) == 4 and {item.group for item in got} == {"short"}
    # e3's only group (prac) is still closed.
    with pytest.raises(MarkingError, match="e3 has no open marking group in session AP-01"):
        claim(db, exam, account(db, "e3"))
    with pytest.raises(StateError, match="already approved"):
        approve_scheme(db, exam, short, by="lead")
