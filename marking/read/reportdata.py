"""What the reports show, read from the database into plain data (``reports.data``).

The identity rule lives here: anything naming candidates (register, notices, pass list,
the results part of the statistics) is read only from a published session's ``Result``
rows and refused before publication. The marking-quality statistics name examiners and
never a candidate or a script, so they are available while marking goes on.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import BigInteger, exists, func, select, type_coerce
from sqlalchemy.orm import Session, aliased

from marking.errors import MarkingError, StateError
from marking.read.exports import mark_in_force_at, ruling_in_force_at
from marking.read.published import pick_revision
from marking.store.models import (
    Account,
    Anomaly,
    Arbitration,
    Component,
    ExamSession,
    Mark,
    MarkCorrection,
    MarkingGroup,
    MarkKind,
    MarkWithdrawal,
    Publication,
    Question,
    Response,
    Result,
    Revision,
    Script,
    SessionState,
    latest_corrections,
)
from reports.data import (
    CandidateRow,
    ComponentInfo,
    GroupAttribution,
    ItemScores,
    MonitoredExaminer,
    MonitoredGroup,
    PublicationInfo,
    QuestionMarks,
    Register,
    SessionInfo,
    StatsInput,
)


def _milli(column: Any) -> Any:
    """A Marks column read as its stored integer (thousandths), without a Decimal per row."""
    return type_coerce(column, BigInteger)


def _who(name: str, username: str) -> str:
    return f"{name} ({username})" if name and name != username else username


def _when(value: dt.datetime | None, zone: dt.tzinfo) -> str:
    """A moment as the session's local time (R1), as a person reads it on paper."""
    return "" if value is None else value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def session_info(exam: ExamSession) -> SessionInfo:
    return SessionInfo(
        code=exam.code,
        occupation=exam.occupation,
        occupation_code=exam.occupation_code,
        level=exam.level,
        date=exam.date.isoformat(),
        station=exam.station,
        time_zone=exam.zone.key,
    )


def _components(db: Session, exam: ExamSession) -> tuple[ComponentInfo, ...]:
    return tuple(
        ComponentInfo(c.key, c.name)
        for c in db.scalars(
            select(Component).where(Component.session_id == exam.id).order_by(Component.position)
        )
    )


def require_published(exam: ExamSession, what: str) -> None:
    """Raise StateError unless the session is published: ``what`` names candidates (R8)."""
    if exam.state is not SessionState.PUBLISHED:
        raise StateError(
            f"session {exam.code} is {exam.state.value}, not published: the {what} names "
            "candidates and is available only after publication (R8)"
        )


def _account(db: Session, account_id: int | None) -> str:
    if account_id is None:
        return ""
    account = db.get(Account, account_id)
    return "" if account is None else _who(account.name, account.username)


def _results(
    db: Session, exam: ExamSession, components: tuple[ComponentInfo, ...], revision: int
) -> list[CandidateRow]:
    rows: list[CandidateRow] = []
    for r in db.scalars(
        select(Result)
        .where(Result.session_id == exam.id, Result.revision == revision)
        .order_by(Result.exam_no)
    ):
        scores = tuple((r.components.get(c.key) or {}).get("score") for c in components)
        rows.append(
            CandidateRow(
                exam_no=r.exam_no,
                name=r.name,
                id_number=r.id_number,
                institution=r.institution,
                outcome=r.outcome,
                scores=scores,
                interview=None if r.interview_score is None else f"{r.interview_score:.1f}",
            )
        )
    return rows


def _publication(db: Session, exam: ExamSession, revision: int) -> PublicationInfo:
    record = db.scalars(
        select(Publication).where(
            Publication.session_id == exam.id, Publication.revision == revision
        )
    ).one()
    reason = db.scalar(
        select(Revision.reason).where(Revision.session_id == exam.id, Revision.number == revision)
    )
    return PublicationInfo(
        revision=revision,
        reason=reason or "",
        published_by=_account(db, record.published_by),
        approved_by=_account(db, record.approved_by),
        published_at=record.created_at.astimezone(exam.zone).isoformat(timespec="seconds"),
        results_sha256=record.results_sha256,
        ledger_head=record.ledger_head,
        candidates=record.candidates,
    )


def _attributions(
    db: Session, exam: ExamSession, revision: int | None = None
) -> tuple[GroupAttribution, ...]:
    """Per marking group: who marked (independent and third marks), who arbitrated, who
    corrected a mark, who approved the scheme, and when marking ran (R3, R5, R6), as in
    published ``revision`` (default the latest)."""
    revision = pick_revision(db, exam, revision)
    effective = mark_in_force_at(revision)
    marks = db.execute(
        select(Response.group_id, Mark.kind, Account.name, Account.username, Mark.created_at)
        .join(Mark, Mark.response_id == Response.id)
        .join(Account, Account.id == Mark.examiner_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, effective)
    ).all()
    markers: dict[int | None, dict[MarkKind, set[str]]] = defaultdict(lambda: defaultdict(set))
    times: dict[int | None, list[dt.datetime]] = defaultdict(list)
    for group_id, kind, name, username, at in marks:
        markers[group_id][kind].add(_who(name, username))
        times[group_id].append(at)
    rulers: dict[int | None, set[str]] = defaultdict(set)
    lead = aliased(Account)
    for source, who in ((Arbitration, Arbitration.lead_id), (Anomaly, Anomaly.resolved_by)):
        query = (
            select(Response.group_id, lead.name, lead.username)
            .join(source, source.response_id == Response.id)
            .join(lead, lead.id == who)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, ruling_in_force_at(source, revision))
        )
        if source is Anomaly:
            query = query.where(Anomaly.final_value.is_not(None))
        for group_id, name, username in db.execute(query):
            rulers[group_id].add(_who(name, username))
    correctors: dict[int | None, set[str]] = defaultdict(set)
    for group_id, name, username in db.execute(
        select(Response.group_id, lead.name, lead.username)
        .join(Mark, Mark.response_id == Response.id)
        .join(MarkCorrection, MarkCorrection.mark_id == Mark.id)
        .join(lead, lead.id == MarkCorrection.by_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id)
    ):
        correctors[group_id].add(_who(name, username))
    out: list[GroupAttribution] = []
    for group in db.scalars(
        select(MarkingGroup).where(MarkingGroup.session_id == exam.id).order_by(MarkingGroup.id)
    ):
        when = sorted(times.get(group.id, []))
        out.append(
            GroupAttribution(
                key=group.key,
                name=group.name,
                markers=tuple(sorted(markers[group.id][MarkKind.DOUBLE])),
                third_markers=tuple(sorted(markers[group.id][MarkKind.THIRD])),
                arbitrators=tuple(sorted(rulers.get(group.id, set()))),
                scheme_approved_by=_account(db, group.approved_by),
                scheme_approved_at=_when(group.approved_at, exam.zone),
                first_mark_at=_when(when[0], exam.zone) if when else "",
                last_mark_at=_when(when[-1], exam.zone) if when else "",
                marks=len(when),
                correctors=tuple(sorted(correctors.get(group.id, set()))),
            )
        )
    return tuple(out)


def register_data(db: Session, exam: ExamSession, revision: int | None = None) -> Register:
    """Everything the register, notices and pass list show, as published in ``revision``
    (default the latest). StateError before publication, NotFound for an unknown revision."""
    require_published(exam, "score register")
    shown = pick_revision(db, exam, revision)
    components = _components(db, exam)
    return Register(
        session=session_info(exam),
        components=components,
        has_interview=exam.level <= 2,
        rows=tuple(_results(db, exam, components, shown)),
        groups=_attributions(db, exam, shown),
        publication=_publication(db, exam, shown),
        lead=_account(db, exam.lead_id),
    )


def _question_marks(db: Session, exam: ExamSession) -> tuple[QuestionMarks, ...]:
    """Effective examiner marks per examiner-marked question; no script, no candidate."""
    questions = db.execute(
        select(
            Question.id,
            Component.key,
            Question.number,
            MarkingGroup.key,
            _milli(Question.max),
            _milli(Question.step),
        )
        .join(Component, Component.id == Question.component_id)
        .join(MarkingGroup, MarkingGroup.id == Question.group_id)
        .where(Component.session_id == exam.id)
        .order_by(Component.position, Question.position)
    ).all()
    responses: dict[int, list[tuple[int, int | None, str | None]]] = defaultdict(list)
    for rid, qid, final, rule in db.execute(
        select(Response.id, Response.question_id, _milli(Response.final), Response.final_rule)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.group_id.is_not(None))
        .order_by(Response.id)
    ):
        responses[qid].append((rid, final, rule))
    marks: dict[int, list[tuple[int, str, str, int]]] = defaultdict(list)
    latest = latest_corrections()  # the marks in force (R6)
    for qid, rid, name, username, kind, value in db.execute(
        select(
            Response.question_id,
            Response.id,
            Account.name,
            Account.username,
            Mark.kind,
            _milli(func.coalesce(latest.c.value, Mark.value)),
        )
        .join(Mark, Mark.response_id == Response.id)
        .outerjoin(latest, latest.c.mark_id == Mark.id)
        .join(Account, Account.id == Mark.examiner_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, ~exists().where(MarkWithdrawal.mark_id == Mark.id))
        .order_by(Mark.id)
    ):
        marks[qid].append((rid, _who(name, username), kind.value, value))
    out: list[QuestionMarks] = []
    for qid, component, number, group, maximum, step in questions:
        index = {rid: i for i, (rid, _f, _r) in enumerate(responses[qid])}
        given = marks[qid]
        out.append(
            QuestionMarks(
                component=component,
                number=number,
                group=group,
                max_milli=maximum,
                step_milli=step,
                response=tuple(index[m[0]] for m in given),
                examiner=tuple(m[1] for m in given),
                kind=tuple(m[2] for m in given),
                value=tuple(m[3] for m in given),
                final=tuple(f for _rid, f, _r in responses[qid]),
                rule=tuple(r for _rid, _f, r in responses[qid]),
            )
        )
    return tuple(out)


def _item_scores(db: Session, exam: ExamSession) -> tuple[ItemScores, ...]:
    """Per component, every script's finals question by question (0 where unanswered)."""
    out: list[ItemScores] = []
    for component in db.scalars(
        select(Component).where(Component.session_id == exam.id).order_by(Component.position)
    ):
        questions = db.execute(
            select(Question.id, Question.number, _milli(Question.max))
            .where(Question.component_id == component.id)
            .order_by(Question.position)
        ).all()
        column = {qid: j for j, (qid, _n, _m) in enumerate(questions)}
        grid: dict[int, list[int]] = {}
        for sid, qid, final in db.execute(
            select(Response.script_id, Response.question_id, _milli(Response.final))
            .join(Script, Script.id == Response.script_id)
            .where(Script.component_id == component.id)
        ):
            row = grid.setdefault(sid, [0] * len(questions))
            row[column[qid]] = final or 0
        out.append(
            ItemScores(
                component=component.key,
                numbers=tuple(n for _q, n, _m in questions),
                max_milli=tuple(m for _q, _n, m in questions),
                finals=tuple(tuple(row) for _sid, row in sorted(grid.items())),
            )
        )
    return tuple(out)


def _monitoring(db: Session, exam: ExamSession) -> tuple[MonitoredGroup, ...]:
    """The monitoring figures (DESIGN §13) as computed now, by examiner name."""
    from marking.read.monitoring import compute

    return tuple(
        MonitoredGroup(
            name=g.name,
            bands=g.bands,
            examiners=tuple(
                MonitoredExaminer(
                    examiner=_who(e.examiner_name, e.examiner),
                    status=e.status,
                    marks=e.marks,
                    median_seconds=e.median_seconds,
                    severity=e.severity,
                    exact=e.exact,
                    adjacent=e.adjacent,
                    qwk=e.qwk,
                    seed_marks=e.seed_marks,
                    seed_within=e.seed_within,
                    remarks=e.remarks,
                    consistency=e.consistency,
                    third_rate=e.third_rate,
                    alarms=e.alarms,
                    bands=e.bands,
                )
                for e in g.examiners
            ),
        )
        for g in compute(db, exam).groups
        if g.examiners
    )


def stats_data(db: Session, exam: ExamSession) -> StatsInput:
    """The statistics' input: marking quality in any state; results once published."""
    components = _components(db, exam)
    groups = tuple(
        (g.key, g.name)
        for g in db.scalars(
            select(MarkingGroup).where(MarkingGroup.session_id == exam.id).order_by(MarkingGroup.id)
        )
    )
    base = StatsInput(
        session=session_info(exam),
        state=exam.state.value,
        components=components,
        groups=groups,
        questions=_question_marks(db, exam),
        has_interview=exam.level <= 2,
        monitoring=_monitoring(db, exam),
    )
    if exam.state is not SessionState.PUBLISHED:
        return base
    # The results and finals as now: the latest revision (an open one's reopened responses
    # count with no final until it is published).
    latest = pick_revision(db, exam, None)
    return StatsInput(
        **{
            **base.__dict__,
            "published": True,
            "results": tuple(_results(db, exam, components, latest)),
            "items": _item_scores(db, exam),
            "publication": _publication(db, exam, latest),
        }
    )


def gather(
    db: Session, exam: ExamSession, kind: str, revision: int | None = None
) -> Register | StatsInput:
    """The data for a report kind (see ``reports.produce``); refused before publication
    for every kind that names candidates. ``revision``: the published revision the register,
    notices and pass list show (default the latest); the statistics show the latest."""
    if kind == "stats":
        return stats_data(db, exam)
    if kind in ("register", "notices", "passlist"):
        what = {"register": "score register", "notices": "score notice", "passlist": "pass list"}
        require_published(exam, what[kind])
        return register_data(db, exam, revision)
    raise MarkingError(f"unknown report {kind!r}")
