"""Appeal revisions (复核, DESIGN §6, §14): after publication the office reopens named candidates'
components, their examiner-marked responses are marked again, and the revision is approved
and published as revision 2, 3, ... (``revision_publish.py``).

What opening a revision does, and why:

- The candidates are named by exam number and found in the latest published results
  (``Result`` rows, in clear since publication); their scripts by the codes published
  there. No key is needed and nothing new links a candidate to a script: publication made
  that link public already.
- Each examiner-marked response of those scripts goes back to the queue for the revision
  (``Response.revision`` = N, open, needing the group's N marks again). Objective
  (key-scored) responses are not re-marked: a key is corrected by the lead's key correction,
  which is refused while a revision is open (it would change every candidate's scores).
- The marks and rulings in force on those responses are superseded, not deleted (R6): a
  ``MarkWithdrawal``/``RulingWithdrawal`` with ``revision`` = N takes them out of the
  reconciliation of revision N, so every query that reads "marks not withdrawn" (the
  queue's hot path, the numpy check at publication, exports) reads the current revision's
  marks with no filter of its own. They still count for the earlier revisions
  (``in_force_at``), and each response's earlier final is kept (``RevisedResponse``).
- The same examiner never marks a response twice (the ``mark(response_id, examiner_id)``
  unique constraint, and the queue's ``takeable_by``), so the re-marking is by examiners of
  the group who did not mark it before; the lead arbitrates and resolves anomalies as
  usual. A revision cannot wedge for want of such examiners: ``revision_progress`` names
  the groups short of them, and the office assigns more examiners (or the lead, as an
  examiner) to the group while the revision is open (``setup.assignment.assign``).
- Examiners and the lead see the reopened responses as any others, with the script code
  masked (``queue.claims.shown_code``): the code was published beside the candidate's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, true, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import require_role
from marking.publication.late_conflicts import _rulings_in_force
from marking.publication.outcomes import component_keys
from marking.publication.preconditions import open_items
from marking.queue.leases import uncount, uncount_leases
from marking.queue.statements import HOLDS_OUT
from marking.read import monitoring
from marking.read.published import latest_published
from marking.store.models import (
    Assignment,
    CheckMark,
    CheckState,
    ExamSession,
    Exclusion,
    Lease,
    LeaseState,
    Mark,
    MarkingGroup,
    MarkWithdrawal,
    Response,
    ResponseState,
    Result,
    RevisedResponse,
    Revision,
    Role,
    RulingWithdrawal,
    Script,
    SessionState,
    utcnow,
)
from marking.store.models.sessions import Component


def superseded_reason(number: int) -> str:
    """Why a revision withdrew a mark or a ruling (the withdrawal's ``reason``)."""
    return f"superseded by revision {number} (appeal, 复核)"


def open_revision_of(db: Session, exam: ExamSession) -> Revision | None:
    """The session's revision being marked, if any."""
    if exam.open_revision is None:
        return None
    return db.scalar(
        select(Revision).where(
            Revision.session_id == exam.id, Revision.number == exam.open_revision
        )
    )


def require_open_revision(db: Session, exam: ExamSession) -> Revision:
    """The open revision; StateError (coded ``revision_none_open``) when there is none."""
    revision = open_revision_of(db, exam)
    if revision is None:
        raise StateError.coded(
            "revision_none_open",
            "session %(session)s has no revision open",
            session=exam.code,
        )
    return revision


def open_revision(
    db: Session,
    exam: ExamSession,
    *,
    by: str,
    candidates: Sequence[str],
    components: Sequence[str] | None = None,
    reason: str,
    now: dt.datetime | None = None,
) -> Revision:
    """Open revision N (the latest published + 1) for the named candidates' components
    (default: every component they sat) with a reason, and send their examiner-marked
    responses back to be marked again (see the module's docstring).

    ``by`` is an office account (MarkingError otherwise). Raises StateError when the session
    is not published or a revision is already open, MarkingError for a missing reason or
    an unknown component, NotFound for exam numbers without a published result, and
    MarkingError when the named components hold nothing examiners mark; all coded.
    """
    now = now or utcnow()
    office = require_role(db, by, Role.OFFICE, what="opening a revision")
    _require_revisable(db, exam)
    if not reason.strip():
        raise MarkingError.coded(
            "revision_reason", "a revision needs a reason: the appeal it answers"
        )
    latest = latest_published(db, exam)
    scope = _scope(db, exam, latest, candidates, components)
    responses = _responses_of(db, exam, scope)
    if not responses:
        raise MarkingError.coded(
            "revision_nothing_to_mark",
            "nothing to mark again: the named components of %(exam_nos)s have no "
            "examiner-marked answers (objective questions change only by a key correction)",
            exam_nos=", ".join(scope),
        )
    revision = Revision(
        session_id=exam.id,
        number=latest + 1,
        reason=reason.strip(),
        candidates=scope,
        opened_by=office.id,
        opened_at=now,
    )
    db.add(revision)
    db.flush()
    withdrawn = _reopen(db, exam, revision, responses, actor=office.username)
    exam.open_revision = revision.number
    db.flush()
    ledger.append(
        db,
        exam,
        kind="revision_opened",
        actor=office.username,
        payload={
            "revision": revision.number,
            "candidates": scope,
            "reason": revision.reason,
            "responses": len(responses),
        },
        now=now,
    )
    # The superseded marks and rulings, as every withdrawal is recorded (verify reads it).
    ledger.append(
        db,
        exam,
        kind="withdrawal",
        actor=office.username,
        payload={
            "marks": withdrawn["marks"],
            "arbitrations": withdrawn["arbitration"],
            "anomalies": withdrawn["anomaly"],
            "reason": superseded_reason(revision.number),
            "revision": revision.number,
        },
        now=now,
    )
    return revision


def _require_revisable(db: Session, exam: ExamSession) -> None:
    # Locked and read again: a second office opening one at the same time waits, then
    # finds this revision open (not a duplicate-key error).
    db.flush()
    db.refresh(exam, with_for_update=True)
    if exam.state is not SessionState.PUBLISHED:
        raise StateError.coded(
            "revision_not_published",
            "session %(session)s is not published: a revision reopens published results",
            session=exam.code,
        )
    if exam.open_revision is not None:
        raise StateError.coded(
            "revision_already_open",
            "revision %(number)s of session %(session)s is still open: publish it first",
            number=exam.open_revision,
            session=exam.code,
        )


def _scope(
    db: Session,
    exam: ExamSession,
    latest: int,
    candidates: Sequence[str],
    components: Sequence[str] | None,
) -> dict[str, list[str]]:
    """{exam number: [component keys with a script]} of the revision, checked."""
    wanted = list(dict.fromkeys(c.strip() for c in candidates if c.strip()))
    if not wanted:
        raise MarkingError.coded(
            "revision_no_candidates", "name the candidates (exam numbers) to revise"
        )
    keys = component_keys(db, exam)
    chosen = keys if not components else list(dict.fromkeys(components))
    if unknown := [k for k in chosen if k not in keys]:
        raise MarkingError.coded(
            "revision_unknown_component",
            "session %(session)s has no component %(components)s (components: %(known)s)",
            session=exam.code,
            components=", ".join(unknown),
            known=", ".join(keys),
        )
    results = {
        r.exam_no: r
        for r in db.scalars(
            select(Result).where(
                Result.session_id == exam.id,
                Result.revision == latest,
                Result.exam_no.in_(wanted),
            )
        )
    }
    if missing := [n for n in wanted if n not in results]:
        raise NotFound.coded(
            "revision_unknown_candidates",
            "no published result for exam number(s) %(exam_nos)s in session %(session)s",
            exam_nos=", ".join(missing),
            session=exam.code,
        )
    return {
        n: [k for k in chosen if (results[n].components.get(k) or {}).get("code")] for n in wanted
    }


def scope_codes(db: Session, exam: ExamSession, scope: dict[str, list[str]]) -> dict[str, str]:
    """{script code: exam number} of a revision's scope, from the latest published results."""
    latest = latest_published(db, exam)
    codes: dict[str, str] = {}
    for r in db.scalars(
        select(Result).where(
            Result.session_id == exam.id,
            Result.revision == latest,
            Result.exam_no.in_(list(scope)),
        )
    ):
        for key in scope[r.exam_no]:
            codes[r.components[key]["code"]] = r.exam_no
    return codes


def _responses_of(db: Session, exam: ExamSession, scope: dict[str, list[str]]) -> list[Response]:
    """The examiner-marked responses of the scope's scripts, locked."""
    codes = list(scope_codes(db, exam, scope))
    if not codes:
        return []
    return list(
        db.scalars(
            select(Response)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Script.code.in_(codes),
                Response.group_id.is_not(None),
            )
            .order_by(Response.id)
            .with_for_update(of=Response)
        )
    )


def _reopen(
    db: Session,
    exam: ExamSession,
    revision: Revision,
    responses: list[Response],
    *,
    actor: str,
) -> dict[str, list[int]]:
    """Supersede the responses' marks and rulings in force and put them back in the queue
    for ``revision``; returns the ids withdrawn, by kind (``marks``, ``arbitration``,
    ``anomaly``)."""
    ids = [r.id for r in responses]
    reason = superseded_reason(revision.number)
    marks = list(
        db.scalars(
            select(Mark.id).where(
                Mark.response_id.in_(ids),
                ~select(MarkWithdrawal.mark_id).where(MarkWithdrawal.mark_id == Mark.id).exists(),
            )
        )
    )
    for mark_id in marks:
        db.add(MarkWithdrawal(mark_id=mark_id, reason=reason, by=actor, revision=revision.number))
    monitoring.outdated(db, exam)
    withdrawn: dict[str, list[int]] = {"marks": sorted(marks), "arbitration": [], "anomaly": []}
    for kind, ruling_id, _response in _rulings_in_force(db, ids):
        column = "arbitration_id" if kind == "arbitration" else "anomaly_id"
        db.add(
            RulingWithdrawal(
                **{column: ruling_id}, reason=reason, by=actor, revision=revision.number
            )
        )
        withdrawn[kind].append(ruling_id)
    # Leases left over from the first marking (expired, never swept) no longer hold anything.
    stale = db.execute(
        update(Lease)
        .where(Lease.response_id.in_(ids), Lease.state == LeaseState.HELD)
        .values(state=LeaseState.EXPIRED)
        .returning(Lease.response_id, Lease.examiner_id)
    ).all()
    uncount_leases(db, stale)  # places given up, as at any expiry
    # So do seeds and 回评 held in their place (each keeps the slot of the response it
    # displaced, ``leases.free_slots``): expired as those leases are, the slots reset below.
    stale_checks = db.execute(
        update(CheckMark)
        .where(CheckMark.displaced_id.in_(ids), CheckMark.state == CheckState.HELD)
        .values(state=CheckState.EXPIRED)
        .returning(CheckMark.examiner_id, CheckMark.group_id)
        .execution_options(synchronize_session=False)
    ).all()
    uncount(db, [(me, g) for me, g in stale_checks])
    required = {
        group_id: n
        for group_id, n in db.execute(
            select(MarkingGroup.id, MarkingGroup.marks_required).where(
                MarkingGroup.session_id == exam.id
            )
        )
    }
    for response in responses:
        db.add(
            RevisedResponse(
                revision_id=revision.id,
                response_id=response.id,
                prior_final=response.final,
                prior_rule=response.final_rule,
            )
        )
        assert response.group_id is not None
        response.revision = revision.number
        response.state = ResponseState.OPEN
        response.marks_done = 0
        response.held = 0
        response.marks_needed = required[response.group_id]
        response.final = None
        response.final_rule = None
    db.flush()
    withdrawn["arbitration"].sort()
    withdrawn["anomaly"].sort()
    return withdrawn


@dataclass
class RevisionProgress:
    """Where a revision stands, for the office: counts only, nothing naming an examiner's
    marks; ``short`` says which groups lack examiners who have not marked a response yet."""

    number: int
    reason: str
    candidates: dict[str, list[str]]
    opened_at: dt.datetime
    published_at: dt.datetime | None
    responses: int = 0
    states: dict[str, int] = field(default_factory=dict)
    short: dict[str, int] = field(default_factory=dict)  # group key -> responses starved
    # What still stands before approval, coded for a screen to word (``open_work`` in English).
    open_items: list[MarkingError] = field(default_factory=list)

    @property
    def open_work(self) -> list[str]:
        return [str(item) for item in self.open_items]

    @property
    def done(self) -> bool:
        return self.published_at is None and not self.open_items


def revision_progress(
    db: Session, exam: ExamSession, revision: Revision, *, now: dt.datetime | None = None
) -> RevisionProgress:
    """The revision's responses by state, the groups short of fresh examiners, and (while it
    is open) what still stands between it and its approval and publication."""
    progress = RevisionProgress(
        number=revision.number,
        reason=revision.reason,
        candidates=revision.candidates,
        opened_at=revision.opened_at,
        published_at=revision.published_at,
    )
    rows = db.execute(
        select(Response.state, func.count())
        .join(RevisedResponse, RevisedResponse.response_id == Response.id)
        .where(RevisedResponse.revision_id == revision.id)
        .group_by(Response.state)
    ).all()
    if revision.published_at is not None:
        progress.responses = sum(n for _s, n in rows)
        return progress
    progress.states = {state.value: n for state, n in rows}
    progress.responses = sum(progress.states.values())
    progress.short = short_of_examiners(db, exam)
    progress.open_items = open_items(db, exam, now=now)
    for group, count in sorted(progress.short.items()):
        progress.open_items.append(
            MarkingError.coded(
                "revision_short_of_examiners",
                "group %(group)s: %(count)s response(s) have not enough examiners left who did "
                "not mark them before: assign more examiners to the group (or the lead, as an "
                "examiner)",
                group=group,
                count=count,
            )
        )
    return progress


def short_of_examiners(
    db: Session, exam: ExamSession, *, whole_session: bool = False
) -> dict[str, int]:
    """{group key: responses} of the open revision that still need marks and have fewer
    examiners on their group (not suspended, not excluded, not having marked them) than
    marks still to give: without more examiners on the group they would wait for ever.
    ``whole_session``: every open response of the session, revision or not (the lead's
    suspensions leave responses in that state too)."""
    in_scope = true() if whole_session else Response.revision == exam.open_revision
    needing = db.execute(
        select(
            Response.id,
            Response.script_id,
            Response.group_id,
            Response.marks_needed - Response.marks_done - Response.held,
        )
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            Response.state == ResponseState.OPEN,
            Response.marks_done + Response.held < Response.marks_needed,
            in_scope,
        )
    ).all()
    if (exam.open_revision is None and not whole_session) or not needing:
        return {}
    team: dict[int, set[int]] = {}
    for group_id, examiner_id in db.execute(
        select(Assignment.group_id, Assignment.examiner_id).where(
            Assignment.session_id == exam.id, Assignment.suspended_at.is_(None)
        )
    ):
        team.setdefault(group_id, set()).add(examiner_id)
    ids = [r[0] for r in needing]
    # ... or holding it now (their slot is counted held), or shown it as a check, which
    # holds it out of their claims (``takeable_by``)
    marked: dict[int, set[int]] = {}
    for response_id, examiner_id in db.execute(
        select(Mark.response_id, Mark.examiner_id)
        .where(Mark.response_id.in_(ids))
        .union(
            select(Lease.response_id, Lease.examiner_id).where(
                Lease.response_id.in_(ids), Lease.state == LeaseState.HELD
            ),
            select(CheckMark.response_id, CheckMark.examiner_id).where(
                CheckMark.response_id.in_(ids), HOLDS_OUT
            ),
        )
    ):
        marked.setdefault(response_id, set()).add(examiner_id)
    excluded: dict[int, set[int]] = {}
    for script_id, examiner_id in db.execute(
        select(Exclusion.script_id, Exclusion.examiner_id).where(
            Exclusion.script_id.in_([r[1] for r in needing])
        )
    ):
        excluded.setdefault(script_id, set()).add(examiner_id)
    keys = {
        group_id: key
        for group_id, key in db.execute(
            select(MarkingGroup.id, MarkingGroup.key).where(MarkingGroup.session_id == exam.id)
        )
    }
    short: dict[str, int] = {}
    for response_id, script_id, group, still in needing:
        group_id = group or 0  # examiner-marked responses only: the group is set
        fresh = team.get(group_id, set()) - marked.get(response_id, set())
        fresh -= excluded.get(script_id, set())
        if len(fresh) < still:
            short[keys[group_id]] = short.get(keys[group_id], 0) + 1
    return short


def revisions_of(db: Session, exam: ExamSession) -> list[Revision]:
    """The session's revisions, in order."""
    return list(
        db.scalars(select(Revision).where(Revision.session_id == exam.id).order_by(Revision.number))
    )


def component_names(db: Session, exam: ExamSession) -> dict[str, str]:
    """{component key: name} of the session, for messages and screens."""
    return {
        key: name
        for key, name in db.execute(
            select(Component.key, Component.name).where(Component.session_id == exam.id)
        )
    }
