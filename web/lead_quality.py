"""The lead's quality control while marking (DESIGN §13): qualification sets and seeds built
per group from a blind sample, the alarm inbox with its evidence, suspension (confirmed,
naming what will happen) and reinstatement, qualification overrides, and each group's
examiners with their status. Responses by handle, examiners and groups by name."""

from __future__ import annotations

import random
from contextlib import suppress
from decimal import InvalidOperation
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from marking.domain.rules import drift
from marking.errors import MarkingError, NotFound
from marking.quality import decisions, items, qualification, reports, suspension
from marking.quality.common import BUILDING
from marking.queue import handles
from marking.setup.assignment import get_group
from marking.store.models import (
    Account,
    AlarmKind,
    Assignment,
    CheckPurpose,
    ExamSession,
    MarkingGroup,
    Role,
)
from web.access import session_as_lead
from web.db import get_db
from web.errors import refusal
from web.formatting import number
from web.security import Forbidden, require

bp = Blueprint("lead_quality", __name__, url_prefix="/lead/sessions/<code>/quality")
LEADS = (Role.LEAD, Role.EXAMINER)

STATUS = {
    "qualifying": _l("Qualifying"),
    "active": _l("Marking now"),
    "suspended": _l("Suspended"),
}
ALARMS = {
    AlarmKind.SEEDS_OFF.value: _l("Too many seeds off the mark"),
    AlarmKind.SEED_BIAS.value: _l("Seeds marked off in one direction"),
}
PURPOSES = {
    CheckPurpose.QUALIFICATION.value: _l("Qualification"),
    CheckPurpose.SEED.value: _l("Seed"),
}
#: What a reported check was shown as (the examiner saw live work either way).
REPORTED = {
    CheckPurpose.SEED.value: _l("Seed"),
    CheckPurpose.REMARK.value: _l("回评"),
}
#: The drift rule each alarm kind applies, in the reader's words (the evidence stores the
#: rule's English text, for the ledger and the command line).
RULES = {
    AlarmKind.SEEDS_OFF.value: _l(
        "At least %(off)d of the last %(recent)d seeds beyond the question's tolerance.",
        off=drift.OFF_COUNT,
        recent=drift.RECENT,
    ),
    AlarmKind.SEED_BIAS.value: _l(
        "Over the last %(recent)d seeds (at least %(least)d), the mean signed deviation is "
        "beyond %(share)s of the tolerance, either way.",
        recent=drift.RECENT,
        least=drift.BIAS_MIN,
        share=str(drift.BIAS_SHARE),
    ),
}
#: Figures of an alarm's evidence, by the drift rule's names.
FIGURES = {
    "rule": _l("Rule"),
    "mean_in_tolerances": _l("Mean signed deviation (in tolerances)"),
    "beyond": _l("Seeds beyond tolerance"),
    "of": _l("Of the last seeds"),
    "window": _l("Seeds looked at"),
    "mean": _l("Mean signed deviation (in tolerances)"),
    "threshold": _l("Threshold"),
    "tolerance": _l("Tolerance"),
}


def _figure(value: object) -> str:
    """An evidence figure for the reader: a number in the locale's form, other text as stored."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return str(value)
    try:
        return number(value)
    except (InvalidOperation, ValueError):
        return str(value)


def _decides(exam: ExamSession, account: Account) -> bool:
    """The lead's forms are offered while quality control can be decided (intake, marking);
    after that the pages are a record, and say so, rather than forms that are all refused."""
    return account.id == exam.lead_id and exam.state in BUILDING


def _group(exam: ExamSession, key: str) -> MarkingGroup:
    try:
        return get_group(get_db(), exam, key)
    except NotFound:
        raise NotFound(_("There is no such marking group.")) from None


def _examiner(exam: ExamSession, mgroup: MarkingGroup, username: str) -> Account:
    """An examiner of the group, or 404 (another session's or nobody's alike)."""
    found = get_db().scalar(
        select(Account)
        .join(Assignment, Assignment.examiner_id == Account.id)
        .where(Assignment.group_id == mgroup.id, Account.username == username)
    )
    if found is None:
        raise NotFound(_("There is no such examiner on this group."))
    return found


def _only_lead(code: str) -> tuple[ExamSession, Account]:
    """The deputy sees these pages; decisions are the lead's (as scheme approval is)."""
    exam, account = session_as_lead(code)
    if account.id != exam.lead_id:
        raise Forbidden(_("Only the lead examiner of session %(code)s decides this.", code=code))
    return exam, account


def _image_url(exam: ExamSession, c: items.Candidate) -> str | None:
    if c.image_sha256 is None:
        return None
    return url_for("api.response_image", code=exam.code, handle=c.handle)


def _overview(code: str, refused: dict[str, Any] | None = None) -> str:
    exam, account = session_as_lead(code)
    db = get_db()
    groups = []
    for mgroup in exam.groups:
        groups.append(
            {
                "group": mgroup,
                "members": suspension.members(db, exam, mgroup),
                "qualification": items.active_count(db, mgroup, CheckPurpose.QUALIFICATION),
                "seeds": items.active_count(db, mgroup, CheckPurpose.SEED),
                "reports": len(reports.open_reports(db, exam, mgroup)),
            }
        )
    return render_template(
        "lead/quality.html",
        exam=exam,
        groups=groups,
        short=suspension.short_groups(db, exam),
        alarms=len(decisions.alarms(db, exam)),
        is_lead=_decides(exam, account),
        after_marking=exam.state not in BUILDING,
        status_names=STATUS,
        alarm_names=ALARMS,
        refused=refused or {},
    )


@bp.get("/")
@require(*LEADS)
def overview(code: str) -> str:
    return _overview(code)


def _remarked(
    db: Session, exam: ExamSession, lead: Account, shown: list[reports.CheckReport]
) -> dict[str, items.Candidate]:
    """The responses of reported 回评 as the sample shows them: no item of the page shows
    them, and the lead reads what was reported (not those of a candidate the lead is
    excluded from)."""
    found = {}
    for report in shown:
        if report.purpose == CheckPurpose.REMARK.value and report.handle not in found:
            with suppress(NotFound):
                rid = handles.response_id(exam, report.handle)
                found[report.handle] = items.chosen(db, exam, lead, rid)
    return found


def _builder(code: str, group: str, refused: dict[str, Any] | None = None) -> str:
    exam, account = session_as_lead(code)
    db = get_db()
    mgroup = _group(exam, group)
    complete = request.args.get("complete") == "1"
    seed = request.args.get("draw")
    rng = random.Random(seed) if seed and seed.isdigit() else None
    sample = items.sample(db, exam, account, group=mgroup, complete_only=complete, rng=rng)
    shown_reports = reports.open_reports(db, exam, mgroup)
    if refused and refused.get("handle"):  # the refused choice stays on screen, beside its form
        again = items.chosen(db, exam, account, handles.response_id(exam, str(refused["handle"])))
        sample = [again, *(c for c in sample if c.handle != again.handle)]
    return render_template(
        "lead/quality_group.html",
        exam=exam,
        group=mgroup,
        items=items.items(db, exam, group=mgroup),
        reports=shown_reports,
        remarked=_remarked(db, exam, account, shown_reports),
        fresh_retry=qualification.fresh_retry(db, mgroup),
        short_for=qualification.short_for(db, mgroup),
        sample=sample,
        complete=complete,
        draw=random.SystemRandom().randrange(10**9),
        image_url=lambda c: _image_url(exam, c),
        purpose_names=PURPOSES,
        reported_names=REPORTED,
        is_lead=_decides(exam, account),
        after_marking=exam.state not in BUILDING,
        refused=refused or {},
    )


@bp.get("/groups/<group>")
@require(*LEADS)
def group_items(code: str, group: str) -> str:
    return _builder(code, group)


@bp.post("/groups/<group>/items")
@require(*LEADS)
def add_item(code: str, group: str) -> Response | tuple[str, int]:
    exam, account = _only_lead(code)
    mgroup = _group(exam, group)
    form = request.form
    handle = form.get("response", "")
    purpose = form.get("purpose", "")
    if purpose not in PURPOSES:
        raise NotFound(_("There is no such kind of item."))
    try:
        response_id = handles.response_id(exam, handle)
        item = items.add_item(
            get_db(),
            exam,
            account,
            response_id=response_id,
            purpose=CheckPurpose(purpose),
            value=form.get("value", ""),
            note=form.get("note", ""),
        )
        if item.group_id != mgroup.id:
            raise NotFound(_("There is no such response in this group."))
    except MarkingError as exc:
        return _builder(code, group, refusal(exc, form="add", handle=handle)), 422
    flash(
        _("%(kind)s added with the definitive mark %(v)s.", kind=PURPOSES[purpose], v=item.value),
        "ok",
    )
    # Back to the sample the lead chose from: complete ones only stays complete ones only.
    complete = "1" if form.get("complete") == "1" else None
    return redirect(url_for("lead_quality.group_items", code=code, group=group, complete=complete))


@bp.post("/groups/<group>/items/<handle>/<purpose>/retire")
@require(*LEADS)
def retire_item(code: str, group: str, handle: str, purpose: str) -> Response | tuple[str, int]:
    exam, account = _only_lead(code)
    mgroup = _group(exam, group)
    if purpose not in PURPOSES:
        raise NotFound(_("There is no such kind of item."))
    db = get_db()
    item = items.item_of(db, exam, handle=handle, purpose=CheckPurpose(purpose))
    if item.group_id != mgroup.id:
        raise NotFound(_("There is no such response in this group."))
    try:
        items.retire_item(db, exam, account, item_id=item.id)
    except MarkingError as exc:  # the refusal beside the item it was about
        where = refusal(exc, form="retire", handle=handle, purpose=purpose)
        return _builder(code, group, where), 422
    flash(_("Item retired: it is no longer handed out."), "ok")
    return redirect(url_for("lead_quality.group_items", code=code, group=group))


@bp.post("/groups/<group>/reports/<handle>/<purpose>/close")
@require(*LEADS)
def close_reports(code: str, group: str, handle: str, purpose: str) -> Response:
    """The lead keeps the seed (or the 回评's response) in use and closes the reports on it."""
    exam, account = _only_lead(code)
    mgroup = _group(exam, group)
    if purpose not in REPORTED:
        raise NotFound(_("There is no such kind of item."))
    db = get_db()
    try:
        response_id = handles.response_id(exam, handle)
    except NotFound:
        raise NotFound(_("There is no such report.")) from None
    shown = [
        r
        for r in reports.open_reports(db, exam, mgroup)
        if r.handle == handle and r.purpose == purpose
    ]
    if not shown or not reports.close_reports(
        db, exam, account, response_id=response_id, purpose=CheckPurpose(purpose)
    ):
        raise NotFound(_("There is no such report."))
    flash(_("Report closed: the item stays in use."), "ok")
    return redirect(url_for("lead_quality.group_items", code=code, group=group))


def _confirm_page(
    code: str, group: str, username: str, refused: dict[str, Any] | None = None
) -> str:
    exam, _account = _only_lead(code)
    mgroup = _group(exam, group)
    examiner = _examiner(exam, mgroup, username)
    return render_template(
        "lead/quality_suspend.html",
        exam=exam,
        group=mgroup,
        examiner=examiner,
        then=suspension.consequences(get_db(), exam, examiner=examiner, group=mgroup),
        refused=refused or {},
    )


@bp.get("/groups/<group>/examiners/<username>/suspend")
@require(*LEADS)
def confirm_suspend(code: str, group: str, username: str) -> str:
    return _confirm_page(code, group, username)


@bp.post("/groups/<group>/examiners/<username>/suspend")
@require(*LEADS)
def suspend(code: str, group: str, username: str) -> Response | tuple[str, int]:
    exam, account = _only_lead(code)
    mgroup = _group(exam, group)
    examiner = _examiner(exam, mgroup, username)
    form = request.form
    choice = form.get("marks", "")
    problem = None
    if choice not in ("keep", "withdraw"):
        problem = _("Say what happens to their marks: kept, or withdrawn and marked again.")
    elif not form.get("confirm"):
        problem = _("Tick the box to confirm: a suspension is recorded for good.")
    if problem:
        refused = {"message": problem, "values": form.to_dict(flat=True)}
        return _confirm_page(code, group, username, refused), 422
    try:
        row = suspension.suspend(
            get_db(),
            exam,
            account,
            examiner=examiner,
            group=mgroup,
            reason=form.get("reason", ""),
            keep_marks=choice == "keep",
        )
    except MarkingError as exc:
        return _confirm_page(code, group, username, refusal(exc)), 422
    name = examiner.name or examiner.username
    if row.keep_marks:
        flash(
            _("%(user)s suspended on %(g)s; their marks are kept.", user=name, g=mgroup.name), "ok"
        )
    else:
        flash(
            _(
                "%(user)s suspended on %(g)s; %(n)d mark(s) withdrawn, to be marked again by "
                "others.",
                user=name,
                g=mgroup.name,
                n=row.withdrawn,
            ),
            "ok",
        )
    return redirect(url_for("lead_quality.overview", code=code) + f"#group-{group}")


def _on_examiner(
    code: str, group: str, username: str, form: str, act: Any, done: Any
) -> Response | tuple[str, int]:
    """One of the lead's decisions on an examiner in a group, with a reason (``act``: the
    engine's function), back on the overview: the refusal beside its form, or ``done``
    (the flash, given the examiner's name and the group's) once it is recorded."""
    exam, account = _only_lead(code)
    mgroup = _group(exam, group)
    examiner = _examiner(exam, mgroup, username)
    try:
        act(
            get_db(),
            exam,
            account,
            examiner=examiner,
            group=mgroup,
            reason=request.form.get("reason", ""),
        )
    except MarkingError as exc:
        return _overview(code, refusal(exc, form=form, group=group, user=username)), 422
    flash(done(examiner.name or examiner.username, mgroup.name), "ok")
    return redirect(url_for("lead_quality.overview", code=code) + f"#group-{group}")


@bp.post("/groups/<group>/examiners/<username>/reinstate")
@require(*LEADS)
def reinstate(code: str, group: str, username: str) -> Response | tuple[str, int]:
    return _on_examiner(
        code,
        group,
        username,
        "reinstate",
        suspension.reinstate,
        lambda user, g: _("%(user)s reinstated on %(g)s.", user=user, g=g),
    )


@bp.post("/groups/<group>/examiners/<username>/qualify")
@require(*LEADS)
def qualify(code: str, group: str, username: str) -> Response | tuple[str, int]:
    return _on_examiner(
        code,
        group,
        username,
        "qualify",
        decisions.override_qualification,
        lambda user, g: _("%(user)s qualified on %(g)s by your decision.", user=user, g=g),
    )


def _inbox(code: str, refused: dict[str, Any] | None = None) -> str:
    exam, account = session_as_lead(code)
    shown = decisions.alarms(get_db(), exam, closed=request.args.get("closed") == "1")
    return render_template(
        "lead/quality_alarms.html",
        exam=exam,
        alarms=shown,
        alarm_names=ALARMS,
        rules=RULES,
        figures=FIGURES,
        figure=_figure,
        is_lead=_decides(exam, account),
        after_marking=exam.state not in BUILDING,
        refused=refused or {},
    )


@bp.get("/alarms")
@require(*LEADS)
def alarms(code: str) -> str:
    return _inbox(code)


@bp.post("/alarms/<group>/<username>/<kind>/close")
@require(*LEADS)
def close_alarm(code: str, group: str, username: str, kind: str) -> Response | tuple[str, int]:
    exam, account = _only_lead(code)
    mgroup = _group(exam, group)
    examiner = _examiner(exam, mgroup, username)
    if kind not in ALARMS:
        raise NotFound(_("There is no such alarm."))
    db = get_db()
    alarm = decisions.open_alarm(db, exam, examiner=examiner, group=mgroup, kind=AlarmKind(kind))
    try:
        decisions.close_alarm(
            db, exam, account, alarm_id=alarm.id, note=request.form.get("note", "")
        )
    except MarkingError as exc:
        return _inbox(code, refusal(exc, form="close", group=group, user=username, kind=kind)), 422
    flash(_("Alarm closed."), "ok")
    return redirect(url_for("lead_quality.alarms", code=code))
