"""R10's team rules (第七条(四)): rotation of at least a third against the station's previous
session of the occupation, at most three consecutive sessions at one station; a director's
recorded override; only sessions that reached marking count; the lead is a team member."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, Refusals, StateError
from marking.setup.assignment import approve_scheme, assign, get_group
from marking.setup.teams import record_override, team_warnings
from marking.store.models import ExamSession, LedgerEntry, SessionState, TeamRule
from tests.integration import factory as f

STATION = "GD-0999"


def _session(
    db: Session,
    tmp_path: Path,
    code: str,
    date: str,
    members: list[str],
    *,
    lead: str = "lead",
    occupation: str | None = None,
    mark: bool = True,
    station: str = STATION,
    rotation: bool = False,
) -> ExamSession:
    """A session at ``station`` with ``members`` on both groups and ``lead``; taken in and
    opened for marking (it then counts for R10) unless ``mark`` is False. Unless
    ``rotation``, a director lets its team skip the rotation rule (these tests build
    streaks)."""
    toml = f.tiny_toml(code, date=date, station=station)
    if occupation is not None:
        toml = toml.replace(f'"{f.OCCUPATION}"', f'"{occupation}"')
    exam, _ = f.new_session(db, tmp_path, toml, key_file=True)
    roster = f.people(2, seed=len(code))
    f.take_in(db, exam, tmp_path / f"batch-{code}", roster, f.tiny_rows(roster))
    for n, group in enumerate(exam.groups):
        assign(db, exam, group, members, actor=f.ACTOR, lead=lead if n == 0 else None)
    if not rotation:
        record_override(db, exam, rule=TeamRule.ROTATION, director="director", reason="setup")
    if mark:
        for group in exam.groups:
            approve_scheme(db, exam, group, by=lead)
    return exam


@pytest.fixture
def people(db: Session, tmp_path: Path) -> None:
    f.add_staff(db)
    f.add_examiners(db, tmp_path, "v1", "v2", "v3", "v4", "v5", "v6")
    f.add_examiners(
        db,
        tmp_path / "leads",
        f.Ex("chief", grade="senior"),
        f.Ex("chief2", grade="senior"),
        f.Ex("p1", scope="6-29-03-01:3"),
        f.Ex("chiefp", grade="senior", scope="6-29-03-01:3"),
    )


def test_a_fourth_consecutive_session_is_refused_and_a_director_may_override(
    db: Session, tmp_path: Path, people: None
) -> None:
    """第七条(四): 在同一职业技能鉴定所(站)内连续从事考评工作不能超过三次."""
    for i, date in enumerate(("2026-03-01", "2026-06-01", "2026-09-01")):
        _session(db, tmp_path, f"ST-0{i}", date, ["v1", "v2", f"v{3 + i}"], lead="chief")
    exam = _session(db, tmp_path, "ST-04", "2026-12-05", ["v6"], lead="chief2", mark=False)
    short = get_group(db, exam, "short")

    with pytest.raises(Refusals) as refused:
        assign(db, exam, short, ["v1", "v2", "v5"], actor=f.ACTOR)
    message = str(refused.value)
    for username in ("v1", "v2"):
        assert (
            f"{username}: would serve a 4th consecutive session of {f.OCCUPATION} at station "
            f"{STATION}; at most 3 (R10, 第七条(四)): choose another examiner, or ask a "
            "director to record an override" in message
        )
    assert "v5" not in message  # one session only
    assert [r.code for r in refused.value.refusals] == ["consecutive_sessions"] * 2

    record_override(
        db,
        exam,
        rule=TeamRule.CONSECUTIVE,
        examiner="v1",
        director="director",
        reason="the only examiner of this trade in the county",
    )
    with pytest.raises(Refusals, match="v2: would serve"):
        assign(db, exam, short, ["v1", "v2"], actor=f.ACTOR)
    assert assign(db, exam, short, ["v1"], actor=f.ACTOR).added == ["v1"]
    entry = db.scalars(
        select(LedgerEntry).where(
            LedgerEntry.kind == "team_override", LedgerEntry.session_id == exam.id
        )
    ).all()[-1]
    assert entry.actor == "director" and entry.payload["examiner"] == "v1"


def test_the_lead_counts_toward_consecutive_sessions(
    db: Session, tmp_path: Path, people: None
) -> None:
    """第七条(四): the lead (考评组长) is a member of the team, held to the same limit."""
    for i, date in enumerate(("2026-03-01", "2026-06-01", "2026-09-01")):
        _session(db, tmp_path, f"LC-0{i}", date, [f"v{1 + i}", f"v{4 + i}"], lead="chief")
    exam = _session(db, tmp_path, "LC-04", "2026-12-05", ["v1"], lead="chief2", mark=False)
    with pytest.raises(Refusals, match="chief: would serve a 4th consecutive session"):
        assign(
            db,
            exam,
            get_group(db, exam, "short"),
            ["v2"],
            actor=f.ACTOR,
            lead="chief",
        )


def test_drafts_and_other_occupations_do_not_count(
    db: Session, tmp_path: Path, people: None
) -> None:
    """第七条(四) counts sessions the examiner served (marking reached): a draft, or a session
    of another trade at the station, neither extends nor breaks a streak."""
    _session(db, tmp_path, "DR-01", "2026-03-01", ["v1", "v2"], lead="chief")
    _session(db, tmp_path, "DR-02", "2026-04-01", ["v1", "v3"], lead="chief")
    # Between them and the next: a draft with v1 in it, and another trade without v1.
    _session(db, tmp_path, "DR-03", "2026-05-01", ["v1", "v4"], lead="chief2", mark=False)
    _session(db, tmp_path, "DR-04", "2026-05-02", ["p1"], lead="chiefp", occupation="6-29-03-01")
    _session(db, tmp_path, "DR-05", "2026-06-01", ["v1", "v5"], lead="chief2")
    exam = _session(db, tmp_path, "DR-06", "2026-12-05", ["v6"], lead="chief2", mark=False)
    # v1 served DR-01, DR-02, DR-05 (three): a fourth is refused; the draft and the other
    # trade's session did not break the streak, and the draft did not add to it.
    with pytest.raises(Refusals, match="v1: would serve a 4th consecutive session"):
        assign(db, exam, get_group(db, exam, "short"), ["v1"], actor=f.ACTOR)


def test_rotation_is_refused_when_marking_starts_and_a_director_may_override(
    db: Session, tmp_path: Path, people: None
) -> None:
    """第七条(四): 每次轮换不得少于三分之一 — the lead counted; a warning while the team is
    built, a refusal saying what to do when marking would start."""
    _session(db, tmp_path, "RO-01", "2026-09-01", ["v1", "v2", "v3"], lead="chief")
    exam = _session(
        db,
        tmp_path,
        "RO-02",
        "2026-12-05",
        ["v1", "v2", "v4"],
        lead="chief",
        mark=False,
        rotation=True,
    )
    # Team {v1, v2, v4, chief}: one new of four is less than a third.
    warned = [w.code for w in team_warnings(db, exam)]
    assert warned == ["rotation"]
    with pytest.raises(Refusals) as refused:
        approve_scheme(db, exam, get_group(db, exam, "short"), by="chief")
    assert refused.value.code == "team_refused"
    assert (
        "only 1 of the 4 members of the team (lead included) are new since session RO-01, "
        f"the previous session of {f.OCCUPATION} at station {STATION}; at least a third must "
        "rotate (R10, 第七条(四)): change the team, or ask a director to record an override"
    ) in str(refused.value)
    assert exam.state is SessionState.INTAKE

    with pytest.raises(MarkingError, match="needs a director account"):
        record_override(db, exam, rule=TeamRule.ROTATION, director="office", reason="x")
    with pytest.raises(MarkingError, match="give the reason"):
        record_override(db, exam, rule=TeamRule.ROTATION, director="director", reason=" ")
    record_override(
        db,
        exam,
        rule=TeamRule.ROTATION,
        director="director",
        reason="two examiners ill; the centre agreed by telephone",
    )
    approve_scheme(db, exam, get_group(db, exam, "short"), by="chief")
    assert exam.state is SessionState.MARKING
    assert team_warnings(db, exam) == []


def test_rotation_of_a_third_passes_and_a_change_during_marking_is_judged(
    db: Session, tmp_path: Path, people: None
) -> None:
    """第七条(四): a third new is enough; once marking runs, a change that drops the team
    below a third is refused at once."""
    _session(db, tmp_path, "RT-01", "2026-09-01", ["v1", "v2", "v3", "v4", "v5"], lead="chief")
    # Team {v1, v4, v6, chief2}... two new (v6, chief2) of four: fine.
    exam = _session(
        db, tmp_path, "RT-02", "2026-12-05", ["v1", "v4", "v6"], lead="chief2", rotation=True
    )
    assert exam.state is SessionState.MARKING
    # Adding v2, v3, v5 makes it 2 new of 7: refused while marking.
    with pytest.raises(Refusals, match="only 2 of the 7 members"):
        assign(
            db,
            exam,
            get_group(db, exam, "short"),
            ["v2", "v3", "v5"],
            actor=f.ACTOR,
        )
    assert assign(db, exam, get_group(db, exam, "short"), ["v2"], actor=f.ACTOR).added == ["v2"]


def test_an_override_is_refused_once_the_team_is_closed(
    db: Session, tmp_path: Path, people: None
) -> None:
    exam = _session(db, tmp_path, "OC-01", "2026-09-01", ["v1", "v2"], lead="chief")
    exam.state = SessionState.RECONCILED
    with pytest.raises(StateError, match="its team no longer changes"):
        record_override(db, exam, rule=TeamRule.ROTATION, director="director", reason="late")
