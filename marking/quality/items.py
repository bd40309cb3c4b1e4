"""The lead's qualification sets and seeds (DESIGN §13): responses of a group given a
definitive mark, added and retired with a ledger entry each, and a blind random sample of
the group's responses to choose them from.

A seed may be chosen from any response of the group, but it is handed out only once its
response is complete (no longer open: all its marks are in), so an examiner never meets
the same text live and no seed holds a live response back; the lead sees which ones are
complete. Should a seed's source be reopened (a correction, an appeal, a withdrawal), the
examiners shown it as a seed are held out of it live (``takeable_by``).

A qualification item's response stays live and is marked like any other, except by an
examiner who was shown its definitive mark (the review after a failed attempt): they are
held out of it live, as seeds hold out the examiners who met them. Drawing the set from
complete responses instead is no option: the set must be whole before the group's scheme
is approved (R5), so before any of its responses can be complete. A response held out
from too many examiners to finish shows on the lead's page as a group short of examiners
(``suspension.short_groups``). The set may hold more items than ``qualification_size``:
a retry draws the ones the examiner has not been shown (``qualification``).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.quality.common import require_group, require_lead, require_state
from marking.queue import handles
from marking.queue.leases import in_session
from marking.queue.marks import validate_mark
from marking.store.models import (
    Account,
    CheckItem,
    CheckMark,
    CheckPurpose,
    CheckState,
    Component,
    ExamSession,
    Exclusion,
    MarkingGroup,
    Question,
    Response,
    ResponseState,
    Script,
    utcnow,
)

#: Responses shown at once to choose from.
SAMPLE_SIZE = 8


@dataclass(frozen=True)
class Candidate:
    """A response as the lead sees it to choose from or in a set: handle, question, text or
    image, reference and scheme; never the candidate or the script."""

    handle: str
    component: str
    question: str
    text: str
    image_sha256: str | None
    max: Decimal
    step: Decimal
    tolerance: Decimal
    reference: str
    scheme: str
    complete: bool  # all its marks are in: a seed of it can be handed out now


@dataclass(frozen=True)
class Item:
    """A qualification item or seed, with its response."""

    response: Candidate
    purpose: CheckPurpose
    value: Decimal
    note: str
    position: int
    retired: bool
    checks: int  # check marks submitted on it


def _not_excluded(lead: Account) -> ColumnElement[bool]:
    """Responses of scripts the lead declared no conflict with: a candidate the lead is
    excluded from is not shown to them here either (R10)."""
    return ~(
        select(Exclusion.script_id)
        .where(Exclusion.script_id == Response.script_id, Exclusion.examiner_id == lead.id)
        .exists()
    )


_SHOWN = (
    Response.id,
    Component.name,
    Question.number,
    Response.text,
    Response.image_sha256,
    Question.max,
    Question.step,
    Question.tolerance,
    Question.reference,
    Question.scheme,
    Response.state,
)


def _shown(exam: ExamSession, row: tuple[object, ...]) -> Candidate:
    rid, component, number, text, image, top, step, tol, ref, scheme, state = row
    assert isinstance(rid, int) and isinstance(state, ResponseState)
    return Candidate(
        handle=handles.response_handle(exam, rid),
        component=str(component),
        question=str(number),
        text=str(text),
        image_sha256=image if isinstance(image, str) else None,
        max=Decimal(str(top)),
        step=Decimal(str(step)),
        tolerance=Decimal(str(tol)),
        reference=str(ref),
        scheme=str(scheme),
        complete=state is not ResponseState.OPEN,
    )


def _describe(db: Session, exam: ExamSession, ids: list[int]) -> dict[int, Candidate]:
    rows = db.execute(
        select(*_SHOWN)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(Response.id.in_(ids))
    ).all()
    return {int(r[0]): _shown(exam, tuple(r)) for r in rows}


def chosen(db: Session, exam: ExamSession, lead: Account, response_id: int) -> Candidate:
    """One response as the sample shows it (a refused choice is shown again beside its
    form); NotFound as for ``add_item``."""
    _choosable(db, exam, lead, response_id)
    return _describe(db, exam, [response_id])[response_id]


def sample(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    group: MarkingGroup,
    size: int = SAMPLE_SIZE,
    complete_only: bool = False,
    rng: random.Random | None = None,
) -> list[Candidate]:
    """A blind random sample of the group's responses to choose items from: not items of
    the group already, not of a candidate the lead is excluded from; ``complete_only``:
    only those whose marks are all in (seeds of them go out at once). In random order, so
    the order says nothing of scripts or ids."""
    require_group(exam, group)
    query = (
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            Response.group_id == group.id,
            ~select(CheckItem.id)
            .where(CheckItem.response_id == Response.id, CheckItem.retired_at.is_(None))
            .exists(),
            _not_excluded(lead),
        )
    )
    if complete_only:
        query = query.where(Response.state != ResponseState.OPEN)
    ids = list(db.scalars(query))
    picked = (rng or random.SystemRandom()).sample(ids, min(size, len(ids)))
    shown = _describe(db, exam, picked)
    return [shown[i] for i in picked]


def items(
    db: Session, exam: ExamSession, *, group: MarkingGroup, retired: bool = False
) -> list[Item]:
    """The group's qualification set (in its order) and seeds (newest first); ``retired``:
    retired ones too."""
    require_group(exam, group)
    query = select(CheckItem).where(CheckItem.group_id == group.id)
    if not retired:
        query = query.where(CheckItem.retired_at.is_(None))
    found = list(db.scalars(query))
    shown = _describe(db, exam, [i.response_id for i in found])
    used = dict(
        (k, v)
        for k, v in db.execute(
            select(CheckMark.item_id, func.count())
            .where(
                CheckMark.item_id.in_([i.id for i in found]),
                CheckMark.state == CheckState.SUBMITTED,
            )
            .group_by(CheckMark.item_id)
        )
    )
    out = [
        Item(
            response=shown[i.response_id],
            purpose=i.purpose,
            value=i.value,
            note=i.note,
            position=i.position,
            retired=i.retired_at is not None,
            checks=int(used.get(i.id, 0)),
        )
        for i in found
    ]
    qualification = sorted(
        (i for i in out if i.purpose is CheckPurpose.QUALIFICATION), key=lambda i: i.position
    )
    seeds = [i for i in out if i.purpose is CheckPurpose.SEED]
    return qualification + seeds[::-1]


def active_count(db: Session, group: MarkingGroup, purpose: CheckPurpose) -> int:
    return (
        db.scalar(
            select(func.count()).where(
                CheckItem.group_id == group.id,
                CheckItem.purpose == purpose,
                CheckItem.retired_at.is_(None),
            )
        )
        or 0
    )


def _choosable(
    db: Session, exam: ExamSession, lead: Account, response_id: int
) -> tuple[MarkingGroup, Question]:
    """The group and question of a response of the session the lead may choose: marked by
    examiners, of no candidate the lead is excluded from; NotFound otherwise."""
    in_session(db, exam, response_id)
    response = db.get(Response, response_id)
    assert response is not None
    excluded = db.get(Exclusion, (response.script_id, lead.id)) is not None
    if response.group_id is None or excluded:
        raise NotFound.coded(
            "check_item_no_response",
            "no response to choose there in session %(session)s",
            session=exam.code,
        )
    group = db.get(MarkingGroup, response.group_id)
    question = db.get(Question, response.question_id)
    assert group is not None and question is not None
    return group, question


def _room_for(db: Session, group: MarkingGroup, purpose: CheckPurpose, response_id: int) -> None:
    """StateError unless the group takes one more item of this purpose on this response."""
    if purpose is CheckPurpose.QUALIFICATION and group.qualification_size is None:
        raise StateError.coded(
            "qualification_none",
            "group %(group)s asks for no qualification set (session.toml)",
            group=group.name,
        )
    existing = db.scalar(
        select(CheckItem).where(CheckItem.response_id == response_id, CheckItem.purpose == purpose)
    )
    if existing is not None:
        raise StateError.coded(
            "check_item_exists",
            "that response is already an item of this kind (retired ones stay on record)",
        )


def add_item(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    response_id: int,
    purpose: CheckPurpose,
    value: object,
    note: str = "",
    now: dt.datetime | None = None,
) -> CheckItem:
    """The lead makes a response of the session a qualification item or a seed with a
    definitive mark (validated as a mark on its question), recorded in the ledger.

    Raises MarkingError (coded) for anyone but the lead, for 回评 (not the lead's to add),
    a qualification item in a group without a set, a response already an item of that
    purpose; NotFound for another session's response, an objective one or one of a
    candidate the lead is excluded from; InvalidMark for a mark off the question's range
    or step; StateError once the session is reconciled."""
    require_lead(exam, lead)
    require_state(exam)
    if purpose is CheckPurpose.REMARK:
        raise MarkingError.coded(
            "check_item_purpose", "the lead adds qualification items and seeds only"
        )
    group, question = _choosable(db, exam, lead, response_id)
    mark = validate_mark(value, maximum=question.max, step=question.step)
    _room_for(db, group, purpose, response_id)
    position = 0
    if purpose is CheckPurpose.QUALIFICATION:
        last = db.scalar(
            select(func.max(CheckItem.position)).where(
                CheckItem.group_id == group.id, CheckItem.purpose == purpose
            )
        )
        position = (last or 0) + 1
    now = now or utcnow()
    item = CheckItem(
        session_id=exam.id,
        group_id=group.id,
        response_id=response_id,
        purpose=purpose,
        value=mark,
        note=note.strip()[:2000],
        position=position,
        created_by=lead.id,
        created_at=now,
    )
    db.add(item)
    # From now on the queue asks, for this response only, who was shown it as a check.
    db.execute(update(Response).where(Response.id == response_id).values(check_source=True))
    db.flush()
    ledger.append(
        db,
        exam,
        kind="check_item",
        actor=lead.username,
        payload={
            "item": item.id,
            "response": response_id,
            "group": group.key,
            "purpose": purpose.value,
            "value": f"{mark:f}",
        },
        now=now,
    )
    return item


def item_of(db: Session, exam: ExamSession, *, handle: str, purpose: CheckPurpose) -> CheckItem:
    """The item of this purpose on the response a handle names (the lead's screens address
    items so, never by row id); NotFound otherwise."""
    response_id = handles.response_id(exam, handle)
    found = db.scalar(
        select(CheckItem).where(
            CheckItem.session_id == exam.id,
            CheckItem.response_id == response_id,
            CheckItem.purpose == purpose,
        )
    )
    if found is None:
        raise NotFound.coded(
            "check_item_unknown", "no such item in session %(session)s", session=exam.code
        )
    return found


def retire_item(
    db: Session, exam: ExamSession, lead: Account, *, item_id: int, now: dt.datetime | None = None
) -> CheckItem:
    """Take an item out of use: no longer handed out; the check marks made on it stay.

    A qualification item is not retired when that would leave fewer than
    ``qualification_size`` in force once the set is in use (the group's scheme approved:
    examiners take it from then on, and an attempt would be shorter than the pass mark
    says); the lead adds another first. Before approval the set may shrink: approval asks
    for it whole again (``qualification.set_problem``).

    Raises NotFound for another session's item, StateError for one retired already or for
    a qualification set it would leave short."""
    require_lead(exam, lead)
    require_state(exam)
    item = db.get(CheckItem, item_id, with_for_update=True)
    if item is None or item.session_id != exam.id:
        raise NotFound.coded(
            "check_item_unknown", "no such item in session %(session)s", session=exam.code
        )
    if item.retired_at is not None:
        raise StateError.coded("check_item_retired", "that item is retired already")
    if item.purpose is CheckPurpose.QUALIFICATION:
        # Locked: two retirements at once would each count the other's item in force.
        group = db.execute(
            select(MarkingGroup)
            .where(MarkingGroup.id == item.group_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        size = group.qualification_size
        in_force = active_count(db, group, CheckPurpose.QUALIFICATION)
        if group.approved_at is not None and size is not None and in_force - 1 < size:
            raise StateError.coded(
                "qualification_retire_short",
                "the qualification set of group %(group)s is in use and needs %(size)s items: "
                "add another before retiring this one",
                group=group.name,
                size=size,
            )
    now = now or utcnow()
    item.retired_at = now
    item.retired_by = lead.id
    db.flush()
    ledger.append(
        db,
        exam,
        kind="check_item_retired",
        actor=lead.username,
        payload={"item": item.id, "purpose": item.purpose.value},
        now=now,
    )
    from marking.quality.reports import close_reports

    # The lead dealt with what examiners reported on it.
    close_reports(db, exam, lead, response_id=item.response_id, purpose=item.purpose, now=now)
    return item
