"""The lead examiner's screens: scheme approval, live progress, anomalies, arbitration."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from marking.errors import MarkingError
from marking.quality import decisions, suspension
from marking.queue.marks import InvalidMark
from marking.read import status, views
from marking.store.models import Role
from web import actions
from web.access import session_as_lead
from web.actions.lead import lead_home, next_arbitration, withdraw_approval
from web.db import fail, get_db
from web.errors import classify, detail, refusal
from web.security import Forbidden, me, require

bp = Blueprint("lead", __name__, url_prefix="/lead")
LEADS = (Role.LEAD, Role.EXAMINER)
# Refusals of a scheme withdrawal's reason: shown beside the reason field.
REASON_REFUSALS = ("scheme_withdrawal_reason", "scheme_withdrawal_reason_long")


@bp.get("/")
@require(*LEADS)
def home() -> str:
    return render_template("lead/home.html", sessions=lead_home(get_db(), me()))


@bp.get("/sessions/<code>")
@require(*LEADS)
def session(code: str) -> str:
    return _session_page(code)


def _session_page(code: str, refused: dict[str, Any] | None = None) -> str:
    exam, account = session_as_lead(code)
    db = get_db()
    return render_template(
        "lead/session.html",
        exam=exam,
        progress=actions.progress(db, exam),
        groups=actions.scheme(db, exam),
        is_lead=account.id == exam.lead_id,
        team=actions.team_state(db, exam),
        examiners=actions.examiners(db),
        alarms=len(decisions.alarms(db, exam)),
        short=suspension.short_groups(db, exam),
        refused=refused or {},
    )


@bp.post("/sessions/<code>/groups/<group>/assign")
@require(*LEADS)
def assign(code: str, group: str) -> Response | tuple[str, int]:
    """The lead divides the work (第七条(六)): examiners onto a group of the session, by
    the office's service and checks. The deputy does not."""
    exam, account = session_as_lead(code)
    if account.id != exam.lead_id:
        raise Forbidden(f"only the lead of session {code} assigns examiners")
    names = request.form.get("examiner_list", "").replace("，", ",").split(",")
    try:
        result = actions.lead_assign(get_db(), exam, account, group, names)
    except MarkingError as exc:
        return _session_page(code, refusal(exc, form="assign", group=group)), 422
    named = actions.group_name(exam, group)
    flash(_("Assigned to %(g)s: %(n)d new.", g=named, n=len(result["added"])), "ok")
    return redirect(url_for("lead.session", code=code) + "#assignment")


@bp.post("/sessions/<code>/groups/<group>/approve")
@require(*LEADS)
def approve(code: str, group: str) -> Response | tuple[str, int]:
    exam, account = session_as_lead(code)
    try:
        actions.approve(get_db(), exam, account, group)
    except MarkingError as exc:
        return _session_page(code, refusal(exc, form="scheme", group=group)), 422
    flash(
        _(
            "Marking scheme of group %(g)s approved: the group is open for marking.",
            g=actions.group_name(exam, group),
        ),
        "ok",
    )
    return redirect(url_for("lead.session", code=code))


@bp.post("/sessions/<code>/groups/<group>/withdraw")
@require(*LEADS)
def withdraw(code: str, group: str) -> Response | tuple[str, int]:
    """The lead takes a scheme approval back while nothing of the group is marked,
    confirmed, with the reason; what examiners hold of the group goes back unmarked."""
    exam, account = session_as_lead(code)
    form = request.form
    try:
        if form.get("confirm") != "yes":
            raise MarkingError(
                _("Tick the box to confirm: the group closes for marking until you approve again.")
            )
        withdraw_approval(get_db(), exam, account, group, form.get("reason", ""))
    except MarkingError as exc:
        field = "reason" if exc.code in REASON_REFUSALS else None
        return _session_page(code, refusal(exc, form="withdraw", group=group, field=field)), 422
    flash(
        _(
            "Approval of the scheme of group %(g)s withdrawn: the group is closed for marking.",
            g=actions.group_name(exam, group),
        ),
        "ok",
    )
    return redirect(url_for("lead.session", code=code) + "#scheme-" + group)


@bp.get("/sessions/<code>/anomalies")
@require(*LEADS)
def anomalies(code: str) -> str:
    return _anomalies_page(code)


def _anomalies_page(code: str, refused: dict[str, Any] | None = None) -> str:
    """The inbox; a refused form shown again in its place, the reason beside it and what
    was typed kept (``web.errors.refusal``)."""
    exam, account = session_as_lead(code)
    db = get_db()
    return render_template(
        "lead/anomalies.html",
        exam=exam,
        anomalies=actions.anomalies(db, exam, account),
        check_reports=sum(status.open_check_reports(db, exam).values()),
        objective=views.objective_questions(db, exam),
        refused=refused or {},
    )


@bp.post("/sessions/<code>/anomalies/<handle>/resolve")
@require(*LEADS)
def resolve(code: str, handle: str) -> Response | tuple[str, int]:
    exam, account = session_as_lead(code)
    form = request.form
    try:
        actions.resolve(
            get_db(),
            exam,
            account,
            handle,
            form.get("resolution", ""),
            form.get("note", ""),
            form.get("value"),
        )
    except MarkingError as exc:
        refused = refusal(exc, form="resolve", anomaly=handle)
        return _anomalies_page(code, refused), classify(exc)[0]
    flash(_("Anomaly report resolved."), "ok")
    return redirect(url_for("lead.anomalies", code=code))


@bp.post("/sessions/<code>/key-corrections")
@require(*LEADS)
def correct_key(code: str) -> Response | tuple[str, int]:
    exam, account = session_as_lead(code)
    form = request.form
    component, _sep, question = form.get("question", "").partition("/")
    try:
        done = actions.correct_key(
            get_db(),
            exam,
            account,
            component,
            question,
            form.get("answer", ""),
            form.get("reason", ""),
        )
    except MarkingError as exc:
        return _anomalies_page(code, refusal(exc, form="key")), classify(exc)[0]
    flash(_("Key corrected; %(n)d response(s) re-scored.", n=done["rescored"]), "ok")
    return redirect(url_for("lead.anomalies", code=code))


@bp.get("/sessions/<code>/arbitration")
@require(*LEADS)
def arbitration(code: str) -> str:
    return _arbitration_page(code)


def _arbitration_page(code: str, refused: dict[str, Any] | None = None) -> str:
    """One response at a time, the first waiting in queue order, with how many are left;
    a refused mark comes back on the same response, the input kept."""
    exam, account = session_as_lead(code)
    return render_template(
        "lead/arbitration.html",
        exam=exam,
        refused=refused or {},
        **next_arbitration(get_db(), exam, account),
    )


@bp.post("/sessions/<code>/responses/<handle>/arbitrate")
@require(*LEADS)
def arbitrate(code: str, handle: str) -> Response | tuple[str, int]:
    exam, account = session_as_lead(code)
    try:
        done = actions.arbitrate(
            get_db(),
            exam,
            account,
            handle,
            request.form.get("value", ""),
            request.form.get("reason", ""),
        )
    except MarkingError as exc:
        return _arbitration_page(code, refusal(exc, form="arbitrate", response=handle)), 422
    flash(_("Final mark %(v)s recorded.", v=done["final"]), "ok")
    return redirect(url_for("lead.arbitration", code=code))


def _corrections_page(
    code: str, *, handle: str = "", error: str = "", field: str = "", status: int = 200
) -> tuple[str, int]:
    """The correction page: find a response (handle, or script code and question), see its
    marks, correct one (R6). A refusal comes back here beside its field, input kept."""
    exam, account = session_as_lead(code)
    db = get_db()
    args = request.values
    found = None
    if handle or args.get("handle") or args.get("script"):
        try:
            handle = actions.find_response(
                db,
                exam,
                handle=handle or args.get("handle", ""),
                script=args.get("script", ""),
                question=args.get("question", ""),
            )
            found = actions.record(db, exam, account, handle)
        except MarkingError as exc:
            error, field, status = detail(exc), field or "find", classify(exc)[0]
    questions = [
        (f"{c.key}/{q.number}", c.name, q.number)
        for c in exam.components
        for q in c.questions
        if q.group_id is not None
    ]
    page = render_template(
        "lead/corrections.html",
        exam=exam,
        found=found,
        questions=questions,
        form=args,
        error=error,
        field=field,
    )
    return page, status


@bp.get("/sessions/<code>/corrections")
@require(*LEADS)
def corrections(code: str) -> tuple[str, int]:
    return _corrections_page(code)


@bp.post("/sessions/<code>/corrections")
@require(*LEADS)
def correct(code: str) -> Response | tuple[str, int]:
    exam, account = session_as_lead(code)
    form = request.form
    handle = form.get("handle", "")
    if not form.get("confirm"):
        return _corrections_page(
            code,
            handle=handle,
            error=_("Tick the box to confirm: a correction is recorded for good."),
            field="confirm",
            status=422,
        )
    try:
        done = actions.lead_correct(
            get_db(),
            exam,
            account,
            handle,
            examiner=form.get("examiner", ""),
            value=form.get("value", ""),
            reason=form.get("reason", ""),
        )
    except MarkingError as exc:
        fail()  # nothing of the refused correction is kept
        field = "value" if isinstance(exc, InvalidMark) else "find"
        if exc.code in ("correction_not_yours", "correction_which_mark", "correction_no_mark"):
            field = "examiner"
        elif exc.code == "correction_reason":
            field = "reason"
        return _corrections_page(
            code, handle=handle, error=detail(exc), field=field, status=classify(exc)[0]
        )
    flash(_("Correction recorded."), "ok")
    return redirect(url_for("lead.corrections", code=code, handle=done["response"]))
