"""The lead's live monitoring of examiners (DESIGN §13): per marking group and examiner, the
figures of the ``export monitoring`` contract, the distribution of their marks against the
group's, their open alarms, and a sample of marks worth a second look.

Definitions (README "Monitoring" says the same):

- ``marks``: their live marks in force (not withdrawn), of every kind (first or third).
- ``median_seconds``: per mark, mark time − max(its lease's claim time, the examiner's
  previous mark or submitted check in the session); gaps over 600 s are pauses, left out.
- ``severity``: mean over their marks with a co-mark of (their value − the mean of the
  co-markers' values on that response), in marks. Positive: more generous than the others.
- ``exact`` / ``adjacent``: share of pairs (their mark, a co-marker's on the same response)
  equal / within one step (adjacent includes exact).
- ``qwk``: quadratic weighted kappa over those pairs, values in steps, per question on its
  own scale, averaged weighted by pairs (the statistics report's own function).
- ``seed_marks`` / ``seed_within``: their submitted seed marks, and the share within the
  question's tolerance of the lead's definitive mark.
- ``remarks`` / ``consistency``: their submitted 回评, and the share within tolerance of
  their own first mark.
- ``third_rate``: share of the responses they gave a first (double) mark that needed a
  third mark or the lead's arbitration.
- ``status``: suspended (on this group) | qualifying (the group has a qualification set and
  they have not qualified) | active. ``alarms``: kinds of their open alarms, ``;``-separated.

Values are the marks in force (a corrected mark counts with its correction). Check marks
(seeds, 回评, qualification) are figures of their own and never enter the live figures.
Nothing here names a candidate or a script: the sample shows response handles.

At the size of a large session (millions of marks) the figures take seconds to compute, so
the page reads them from ``monitoring_snapshot``, refreshed by a background job while
marking goes on (``marking.jobs.tasks``), computed on the spot when there is none yet or
when the last computation was quick; status and alarms are always read live.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marking.domain.rules import agreement as rules
from marking.queue.handles import response_handle
from marking.read import monitoring_data as data
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    Mark,
    MarkingGroup,
    Response,
    SessionState,
    utcnow,
)
from marking.store.models.checks import (
    CheckAlarm,
    CheckMark,
    CheckPurpose,
    GroupSuspension,
    MonitoringSnapshot,
)

COLUMNS = (
    "group",
    "examiner",
    "marks",
    "median_seconds",
    "severity",
    "exact",
    "adjacent",
    "qwk",
    "seed_marks",
    "seed_within",
    "remarks",
    "consistency",
    "third_rate",
    "status",
    "alarms",
)
STATUSES = ("active", "qualifying", "suspended")
SAMPLE_PER_GROUP = 30
#: A stale snapshot is recomputed on the page itself when its computation took less.
SYNC_MS = 500


@dataclass(frozen=True)
class ExaminerFigures:
    """One examiner on one group: the contract's figures and their marks' distribution."""

    group: str  # key
    examiner: str  # username
    examiner_name: str
    marks: int
    median_seconds: float | None
    severity: float | None  # in marks
    exact: float | None
    adjacent: float | None
    qwk: float | None
    seed_marks: int
    seed_within: float | None
    remarks: int
    consistency: float | None
    third_rate: float | None
    status: str = "active"
    alarms: tuple[str, ...] = ()
    bands: tuple[int, ...] = (0,) * rules.BANDS


@dataclass(frozen=True)
class WorthALook:
    """A live mark worth a second look, by response handle (never a script or candidate)."""

    handle: str
    question: str  # the question's number
    examiner_name: str
    value: str  # in marks, as given
    seconds: float | None
    reasons: tuple[str, ...]  # zero | full | fast
    component: str = ""  # the question's component by name ("" in a snapshot from before)


@dataclass(frozen=True)
class GroupFigures:
    key: str
    name: str
    bands: tuple[int, ...]  # the group's marks per band (everyone's)
    examiners: tuple[ExaminerFigures, ...]
    sample: tuple[WorthALook, ...] = ()


@dataclass(frozen=True)
class Monitoring:
    computed_at: dt.datetime
    took_ms: int
    last_mark_id: int
    groups: tuple[GroupFigures, ...] = field(default_factory=tuple)

    @property
    def rows(self) -> list[ExaminerFigures]:
        return [row for group in self.groups for row in group.examiners]


# --- computing --------------------------------------------------------------------------------


@dataclass
class _Context:
    """The session's live marks and checks as arrays, sorted by (group, examiner) so that
    each examiner's figures read one slice (a large session has millions of marks)."""

    marks: data.Marks
    checks: data.Checks
    live: Any  # indices of the live marks in ``marks``, by (group, examiner)
    owner: Any  # per live mark: its (group, examiner) key
    value: Any  # per live mark, thousandths
    question: Any
    first: Any
    needed_more: Any
    seconds: Any  # per live mark, NaN where unknown
    maximum: Any
    step: Any
    deviation: Any  # per live mark: value - mean of its co-marks
    pair_i: Any  # co-mark pairs, indices into the live marks, by the owner of i
    pair_j: Any
    pair_owner: Any
    look: rules.WorthALook
    check_tolerance: Any  # per check
    purposes: Any


def _key(group: Any, examiner: Any) -> Any:
    return np.asarray(group, dtype=np.int64) * (1 << 32) + np.asarray(examiner, dtype=np.int64)


def _per_question(questions: dict[int, data.QuestionFacts], attribute: str, qids: Any) -> Any:
    """``attribute`` of each question in ``qids`` (an int array of question ids)."""
    keys = np.array(sorted(questions), dtype=np.int64)
    table = np.array([getattr(questions[int(k)], attribute) for k in keys], dtype=np.int64)
    if len(qids) == 0 or len(keys) == 0:
        return np.zeros(len(qids), dtype=np.int64)
    return table[np.searchsorted(keys, qids)]


def _context(db: Session, exam: ExamSession, groups: dict[int, MarkingGroup]) -> Any:
    questions = data.questions(db, list(groups))
    marks = data.read_marks(db, groups)
    checks = data.read_checks(db, exam)
    # Seconds per mark, over every event of each examiner (marks and checks alike).
    seconds = rules.seconds_per_mark(
        np.concatenate((marks.examiner, checks.examiner)),
        np.concatenate((marks.claimed, checks.claimed)),
        np.concatenate((marks.done, checks.done)),
        np.concatenate((marks.live, np.zeros(len(checks.examiner), dtype=bool))),
    )[: len(marks.id)]
    live = np.flatnonzero(marks.live)
    owner = _key(marks.group[live], marks.examiner[live])
    order = np.argsort(owner, kind="stable")
    live, owner = live[order], owner[order]
    question, value = marks.question[live], marks.value[live]
    maximum = _per_question(questions, "maximum", question)
    pair_i, pair_j = rules.co_mark_pairs(marks.response[live], marks.examiner[live])
    by_owner = np.argsort(owner[pair_i], kind="stable")
    pair_i, pair_j = pair_i[by_owner], pair_j[by_owner]
    context = _Context(
        marks=marks,
        checks=checks,
        live=live,
        owner=owner,
        value=value,
        question=question,
        first=marks.first[live],
        needed_more=marks.needed_more[live],
        seconds=seconds[live],
        maximum=maximum,
        step=_per_question(questions, "step", question),
        deviation=rules.co_mark_deviation(marks.response[live], value),
        pair_i=pair_i,
        pair_j=pair_j,
        pair_owner=owner[pair_i],
        look=rules.worth_a_look(value, maximum, seconds[live]),
        check_tolerance=_per_question(questions, "tolerance", checks.question),
        purposes=np.array([p.value for p in checks.purpose], dtype=object),
    )
    return questions, context


def _slice(sorted_keys: Any, key: int) -> slice:
    return slice(
        int(np.searchsorted(sorted_keys, key, "left")),
        int(np.searchsorted(sorted_keys, key, "right")),
    )


def _examiner_figures(
    c: _Context, gid: int, key: str, eid: int, names: dict[int, tuple[str, str]]
) -> ExaminerFigures:
    """One examiner's figures on one group."""
    owner = int(_key(gid, eid))
    mine = _slice(c.owner, owner)
    pairs = _slice(c.pair_owner, owner)
    a, b = c.pair_i[pairs], c.pair_j[pairs]
    categories = c.maximum[a] // np.maximum(c.step[a], 1) + 1
    agreed = rules.pair_agreement(c.value[a], c.value[b], c.step[a], c.question[a], categories)
    checked = (c.checks.group == gid) & (c.checks.examiner == eid)
    seeds = checked & (c.purposes == CheckPurpose.SEED.value)
    remarks = checked & (c.purposes == CheckPurpose.REMARK.value)
    firsts = c.first[mine]
    severity = rules.mean(c.deviation[mine])
    return ExaminerFigures(
        group=key,
        examiner=names[eid][0],
        examiner_name=names[eid][1],
        marks=mine.stop - mine.start,
        median_seconds=rules.median(c.seconds[mine]),
        severity=None if severity is None else severity / 1000,
        exact=agreed.exact,
        adjacent=agreed.adjacent,
        qwk=agreed.qwk,
        seed_marks=int(seeds.sum()),
        seed_within=rules.within_share(
            c.checks.given[seeds], c.checks.expected[seeds], c.check_tolerance[seeds]
        ),
        remarks=int(remarks.sum()),
        consistency=rules.within_share(
            c.checks.given[remarks], c.checks.expected[remarks], c.check_tolerance[remarks]
        ),
        third_rate=float(c.needed_more[mine][firsts].mean()) if firsts.any() else None,
        bands=tuple(rules.bands(c.value[mine], c.maximum[mine])),
    )


def compute(db: Session, exam: ExamSession, *, now: dt.datetime | None = None) -> Monitoring:
    """Every figure, computed now from the marks (seconds for millions of marks). Status
    and alarms as they stand now."""
    started = time.perf_counter()
    groups = {
        g.id: g
        for g in db.scalars(
            select(MarkingGroup).where(MarkingGroup.session_id == exam.id).order_by(MarkingGroup.id)
        )
    }
    questions, c = _context(db, exam, groups)
    live_groups = c.marks.group[c.live]
    assignments = db.execute(
        select(Assignment.group_id, Assignment.examiner_id).where(Assignment.session_id == exam.id)
    ).all()
    pairs_of: set[tuple[int, int]] = {(g, e) for g, e in assignments}
    owners = np.unique(c.owner)
    pairs_of |= set(zip((owners >> 32).tolist(), (owners & 0xFFFFFFFF).tolist(), strict=True))
    pairs_of |= set(zip(c.checks.group.tolist(), c.checks.examiner.tolist(), strict=True))
    names = data.names(db, [e for _g, e in pairs_of])
    out: list[GroupFigures] = []
    for gid, group in groups.items():
        in_group = live_groups == gid
        team = sorted({e for g, e in pairs_of if g == gid}, key=lambda e: names[e][0])
        out.append(
            GroupFigures(
                key=group.key,
                name=group.name,
                bands=tuple(rules.bands(c.value[in_group], c.maximum[in_group])),
                examiners=tuple(_examiner_figures(c, gid, group.key, e, names) for e in team),
                sample=_sample(exam, questions, names, c, in_group),
            )
        )
    figures = Monitoring(
        computed_at=now or utcnow(),
        took_ms=int((time.perf_counter() - started) * 1000),
        last_mark_id=int(c.marks.id.max()) if len(c.marks.id) else 0,
        groups=tuple(out),
    )
    return with_live_state(db, exam, figures)


def _sample(
    exam: ExamSession,
    questions: dict[int, data.QuestionFacts],
    names: dict[int, tuple[str, str]],
    c: _Context,
    in_group: Any,
) -> tuple[WorthALook, ...]:
    """The newest marks of the group worth a second look, by handle."""
    marks, look = c.marks, c.look
    chosen = np.flatnonzero(look.any & in_group)
    chosen = chosen[np.argsort(-marks.done[c.live][chosen], kind="stable")][:SAMPLE_PER_GROUP]
    out = []
    for k in chosen:
        m = c.live[k]
        reasons = tuple(
            reason
            for reason, flags in (("zero", look.zero), ("full", look.full), ("fast", look.fast))
            if flags[k]
        )
        spent = c.seconds[k]
        out.append(
            WorthALook(
                handle=response_handle(exam, int(marks.response[m])),
                question=questions[int(marks.question[m])].number,
                component=questions[int(marks.question[m])].component,
                examiner_name=names[int(marks.examiner[m])][1],
                value=data.marks_text(int(marks.value[m])),
                seconds=None if np.isnan(spent) else round(float(spent), 1),
                reasons=reasons,
            )
        )
    return tuple(out)


def with_live_state(db: Session, exam: ExamSession, figures: Monitoring) -> Monitoring:
    """``figures`` with each row's status and open alarms as they stand now (small tables,
    read on every page: a suspension shows at once, whatever the snapshot's age)."""
    groups = dict(
        db.execute(
            select(MarkingGroup.id, MarkingGroup.key).where(MarkingGroup.session_id == exam.id)
        ).all()
    )
    qualifying_groups = set(
        db.scalars(
            select(MarkingGroup.key).where(
                MarkingGroup.session_id == exam.id, MarkingGroup.qualification_size.is_not(None)
            )
        )
    )
    state: dict[tuple[str, str], str] = {}
    for gid, username, suspended, qualified in db.execute(
        select(
            Assignment.group_id,
            Account.username,
            Assignment.suspended_at,
            Assignment.qualified_at,
        )
        .join(Account, Account.id == Assignment.examiner_id)
        .where(Assignment.session_id == exam.id)
    ):
        key = (groups[gid], username)
        if suspended is not None:
            state[key] = "suspended"
        elif groups[gid] in qualifying_groups and qualified is None:
            state[key] = "qualifying"
        else:
            state[key] = "active"
    # A lead's suspension that is not reinstated stands even if the assignment row is gone.
    for gid, username in db.execute(
        select(GroupSuspension.group_id, Account.username)
        .join(Account, Account.id == GroupSuspension.examiner_id)
        .where(GroupSuspension.session_id == exam.id, GroupSuspension.reinstated_at.is_(None))
    ):
        state[(groups[gid], username)] = "suspended"
    alarms: dict[tuple[str, str], set[str]] = defaultdict(set)
    for gid, username, kind in db.execute(
        select(CheckAlarm.group_id, Account.username, CheckAlarm.kind)
        .join(Account, Account.id == CheckAlarm.examiner_id)
        .where(CheckAlarm.session_id == exam.id, CheckAlarm.closed_at.is_(None))
    ):
        alarms[(groups[gid], username)].add(kind.value)
    return replace(
        figures,
        groups=tuple(
            replace(
                g,
                examiners=tuple(
                    replace(
                        row,
                        status=state.get((row.group, row.examiner), "active"),
                        alarms=tuple(sorted(alarms.get((row.group, row.examiner), ()))),
                    )
                    for row in g.examiners
                ),
            )
            for g in figures.groups
        ),
    )


# --- the snapshot -----------------------------------------------------------------------------


def to_json(figures: Monitoring) -> dict[str, Any]:
    stored = asdict(figures)
    stored["computed_at"] = figures.computed_at.isoformat()
    return stored


def from_json(stored: dict[str, Any]) -> Monitoring:
    return Monitoring(
        computed_at=dt.datetime.fromisoformat(stored["computed_at"]),
        took_ms=int(stored["took_ms"]),
        last_mark_id=int(stored["last_mark_id"]),
        groups=tuple(
            GroupFigures(
                key=g["key"],
                name=g["name"],
                bands=tuple(g["bands"]),
                examiners=tuple(
                    ExaminerFigures(
                        **{
                            **row,
                            "alarms": tuple(row["alarms"]),
                            "bands": tuple(row["bands"]),
                        }
                    )
                    for row in g["examiners"]
                ),
                sample=tuple(
                    WorthALook(**{**s, "reasons": tuple(s["reasons"])}) for s in g["sample"]
                ),
            )
            for g in stored["groups"]
        ),
    )


def refresh(db: Session, exam: ExamSession, *, now: dt.datetime | None = None) -> Monitoring:
    """Compute the figures and store them as the session's snapshot (flushed, not
    committed); returns them. Two first views of a session racing to store the first
    snapshot: the one that loses keeps its figures and stores nothing."""
    figures = compute(db, exam, now=now)
    try:
        with db.begin_nested():
            snapshot = db.get(MonitoringSnapshot, exam.id)
            if snapshot is None:
                snapshot = MonitoringSnapshot(session_id=exam.id)
                db.add(snapshot)
            snapshot.computed_at = figures.computed_at
            snapshot.took_ms = figures.took_ms
            snapshot.last_mark_id = figures.last_mark_id
            snapshot.data = to_json(figures)
    except IntegrityError:
        pass
    return figures


def is_stale(db: Session, exam: ExamSession, snapshot: MonitoringSnapshot) -> bool:
    """Whether the session has a mark newer than the snapshot's newest, or a check marked
    since it was computed. The marks are asked as "is there a
    mark above that id in the session": a range of the primary key, a minute's marks at
    most while the job runs, where the session's maximum would scan all its marks (0.7 s
    at 800,000 marks, bench/monitoring.py). A mark with a smaller id committed after the
    snapshot read the marks is picked up with the next one."""
    newer = (
        select(Mark.id)
        .join(Response, Response.id == Mark.response_id)
        .join(MarkingGroup, MarkingGroup.id == Response.group_id)
        .where(Mark.id > snapshot.last_mark_id, MarkingGroup.session_id == exam.id)
        .exists()
    )
    # Seeds and 回评 marked since: the page's seed and consistency figures move with them.
    checked = (
        select(CheckMark.id)
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.submitted_at > snapshot.computed_at,
        )
        .exists()
    )
    return bool(db.scalar(select(newer | checked)))


def outdated(db: Session, exam: ExamSession) -> None:
    """The session's figures changed without a newer mark (marks withdrawn: a suspension, a
    late conflict, a revision; a mark corrected): the snapshot forgets its newest mark, so
    ``is_stale`` holds as soon as the session has any mark, and the page (or the job)
    computes the figures again. Without it a suspended examiner's withdrawn marks still
    counted on the page until someone marked again."""
    db.execute(
        update(MonitoringSnapshot)
        .where(MonitoringSnapshot.session_id == exam.id)
        .values(last_mark_id=-1)
        .execution_options(synchronize_session=False)
    )


def monitoring(db: Session, exam: ExamSession, *, now: dt.datetime | None = None) -> Monitoring:
    """The figures for the page: the stored snapshot with status and alarms read now, or
    computed (and stored) when there is none, or when it is stale and was quick to compute.
    A stale snapshot of a large session is shown as it is while the job refreshes it."""
    return current(db, exam, now=now)[0]


def current(
    db: Session, exam: ExamSession, *, now: dt.datetime | None = None
) -> tuple[Monitoring, bool]:
    """``monitoring``, and whether marks came in after the figures were computed."""
    snapshot = db.get(MonitoringSnapshot, exam.id)
    if snapshot is None:
        return refresh(db, exam, now=now), False
    stale = is_stale(db, exam, snapshot)
    if stale and snapshot.took_ms < SYNC_MS:
        return refresh(db, exam, now=now), False
    return with_live_state(db, exam, from_json(snapshot.data)), stale


def stale_sessions(db: Session) -> list[int]:
    """What the background job refreshes: sessions being marked with no snapshot yet, and
    any session whose snapshot is older than its newest mark (the last marks of a session
    whose marking just ended, a re-marking after an appeal)."""
    out = []
    for exam, snapshot in db.execute(
        select(ExamSession, MonitoringSnapshot)
        .outerjoin(MonitoringSnapshot, MonitoringSnapshot.session_id == ExamSession.id)
        .where(
            (ExamSession.state == SessionState.MARKING) | MonitoringSnapshot.session_id.is_not(None)
        )
    ):
        if snapshot is None or is_stale(db, exam, snapshot):
            out.append(exam.id)
    return out


# --- the export -------------------------------------------------------------------------------


def _figure(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def export_rows(figures: Monitoring) -> tuple[Sequence[str], list[tuple[str, ...]]]:
    """The ``export monitoring`` CSV: the contract's columns, one row per group and examiner
    (group key and examiner username: the same keys as the other exports)."""
    return COLUMNS, [
        (
            row.group,
            row.examiner,
            str(row.marks),
            _figure(row.median_seconds, 1),
            _figure(row.severity),
            _figure(row.exact),
            _figure(row.adjacent),
            _figure(row.qwk),
            str(row.seed_marks),
            _figure(row.seed_within),
            str(row.remarks),
            _figure(row.consistency),
            _figure(row.third_rate),
            row.status,
            ";".join(row.alarms),
        )
        for row in figures.rows
    ]
