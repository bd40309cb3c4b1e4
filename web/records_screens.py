"""The screens of the records that name a candidate after intake (DESIGN §14): the office's
records page (a violation form, a signed interview sheet transcribed, absences from the
interview, a file, withdrawing a record entered wrongly) and the panel member's own score
form, on the office and examiner blueprints. Everything is sealed on entry: the pages show
counts and record numbers, never an exam number or a score. A refused form comes back on
the same page, each reason beside its field and what was typed kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as WerkzeugResponse

from marking.errors import MarkingError
from marking.intake.entries import FormRefused
from marking.store.models import ExamSession, Role
from web import engine_text
from web.access import session_as_staff
from web.actions import records as acts
from web.db import fail, get_db
from web.examiner import bp as examiner_bp
from web.office import bp as office_bp
from web.security import me, require

_: Callable[..., str] = gettext

VIOLATION_FIELDS = ("exam_no", "component", "action", "reason", "decided_by", "collective")
#: Each form's fields, so a refusal is shown beside the form it came from.
FORMS = {
    "violation": VIOLATION_FIELDS,
    "transcribe": ("member", "exam_no", "score"),
    "absent": ("exam_no", "reason"),
    "withdraw": ("reason",),
}


def _worded(refused: FormRefused) -> dict[str, str]:
    return {k: engine_text.word(v) or str(v) for k, v in refused.fields.items()}


def _records_page(
    exam: ExamSession, *, form: str | None = None, errors: dict[str, str] | None = None
) -> str:
    return render_template(
        "office/records.html",
        exam=exam,
        page=acts.records_page(get_db(), exam),
        form_name=form,
        values=request.form if form else {},
        errors=errors or {},
    )


def _office_entry(
    code: str, form: str, action: Callable[..., dict[str, Any]], done: str
) -> WerkzeugResponse | tuple[str, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    try:
        action(get_db(), exam, account, request.form.to_dict())
    except FormRefused as refused:
        fail()
        return _records_page(exam, form=form, errors=_worded(refused)), 422
    flash(done, "ok")
    return redirect(url_for("office.records", code=code))


@office_bp.get("/sessions/<code>/records")
@require(Role.OFFICE)
def records(code: str) -> str:
    exam, _account = session_as_staff(code, Role.OFFICE)
    return _records_page(exam)


@office_bp.post("/sessions/<code>/records/violations")
@require(Role.OFFICE)
def violation_enter(code: str) -> WerkzeugResponse | tuple[str, int]:
    return _office_entry(
        code, "violation", acts.enter_violation, _("Violation recorded and sealed.")
    )


@office_bp.post("/sessions/<code>/records/interview")
@require(Role.OFFICE)
def interview_transcribe(code: str) -> WerkzeugResponse | tuple[str, int]:
    return _office_entry(
        code, "transcribe", acts.transcribe_score, _("Interview score recorded and sealed.")
    )


@office_bp.post("/sessions/<code>/records/absent")
@require(Role.OFFICE)
def interview_absent(code: str) -> WerkzeugResponse | tuple[str, int]:
    return _office_entry(
        code, "absent", acts.record_absent, _("Absence from the interview recorded and sealed.")
    )


@office_bp.post("/sessions/<code>/records/file")
@require(Role.OFFICE)
def records_upload(code: str) -> WerkzeugResponse:
    exam, account = session_as_staff(code, Role.OFFICE)
    file = request.files.get("file")
    if file is None or not file.filename:
        raise MarkingError(_("Choose the file (.csv or .xlsx)."))
    done = acts.records_file(
        get_db(), exam, account, request.form.get("kind", ""), file.read(), file.filename
    )
    flash(_("%(n)d row(s) recorded and sealed.", n=done["rows"]), "ok")
    return redirect(url_for("office.records", code=code))


@office_bp.post("/sessions/<code>/records/<int:record_id>/withdraw")
@require(Role.OFFICE)
def record_withdraw(code: str, record_id: int) -> WerkzeugResponse | tuple[str, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    if request.form.get("confirm") != "1":
        fail()
        errors = {"confirm": _("Tick the box to confirm the withdrawal.")}
        return _records_page(exam, form=f"withdraw-{record_id}", errors=errors), 422
    try:
        acts.withdraw_record(get_db(), exam, account, record_id, request.form.get("reason", ""))
    except FormRefused as refused:
        fail()
        return _records_page(exam, form=f"withdraw-{record_id}", errors=_worded(refused)), 422
    flash(_("Record %(n)d withdrawn: publication leaves it out.", n=record_id), "ok")
    return redirect(url_for("office.records", code=code))


# --- the panel member's own scores ----------------------------------------------------------


def _panel_exam(code: str) -> ExamSession:
    from marking.setup.sessions import get_session

    return get_session(get_db(), code)


def _interview_page(exam: ExamSession, errors: dict[str, str] | None = None) -> str:
    return render_template(
        "examiner/interview.html",
        exam=exam,
        page=acts.panel_page(get_db(), exam, me()),
        values=request.form if errors else {},
        errors=errors or {},
    )


@examiner_bp.get("/sessions/<code>/interview")
@require(Role.EXAMINER)
def interview(code: str) -> str:
    return _interview_page(_panel_exam(code))


@examiner_bp.post("/sessions/<code>/interview")
@require(Role.EXAMINER)
def interview_enter(code: str) -> WerkzeugResponse | tuple[str, int]:
    exam = _panel_exam(code)
    try:
        acts.own_score(get_db(), exam, me(), request.form.to_dict())
    except FormRefused as refused:
        fail()
        return _interview_page(exam, _worded(refused)), 422
    flash(_("Your score is recorded and sealed."), "ok")
    return redirect(url_for("examiner.interview", code=code))
