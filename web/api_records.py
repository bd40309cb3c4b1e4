"""The JSON API of the records that name a candidate after intake (on the api blueprint):
violations, interview scores (the office transcribing, or a panel member's own), absences
from the interview, withdrawing a record entered wrongly, and the guidance centre's
approval of collective violation decisions. The same actions as the screens."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from marking.setup.sessions import get_session
from marking.store.models import Role
from web.access import session_as_staff
from web.actions import records as acts
from web.api import bp
from web.api_input import body, text
from web.db import get_db
from web.security import me, require

FIELDS = ("exam_no", "component", "action", "reason", "decided_by", "collective", "member", "score")


def _form() -> dict[str, str]:
    data: dict[str, Any] = body()
    return {name: text(data, name) for name in FIELDS if name in data}


@bp.get("/sessions/<code>/records")
@require(Role.OFFICE)
def session_records(code: str) -> Response:
    exam, _account = session_as_staff(code, Role.OFFICE)
    return jsonify(acts.records_page(get_db(), exam))


@bp.post("/sessions/<code>/violations")
@require(Role.OFFICE)
def violation_enter(code: str) -> tuple[Response, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    return jsonify(acts.enter_violation(get_db(), exam, account, _form())), 201


@bp.post("/sessions/<code>/interview-scores")
@require(Role.OFFICE)
def interview_transcribe(code: str) -> tuple[Response, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    return jsonify(acts.transcribe_score(get_db(), exam, account, _form())), 201


@bp.post("/sessions/<code>/interview-absences")
@require(Role.OFFICE)
def interview_absent(code: str) -> tuple[Response, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    return jsonify(acts.record_absent(get_db(), exam, account, _form())), 201


@bp.post("/sessions/<code>/records/<int:record_id>/withdraw")
@require(Role.OFFICE)
def record_withdraw(code: str, record_id: int) -> Response:
    exam, account = session_as_staff(code, Role.OFFICE)
    reason = text(body(), "reason")
    return jsonify(acts.withdraw_record(get_db(), exam, account, record_id, reason))


@bp.post("/sessions/<code>/interview/mine")
@require(Role.EXAMINER)
def interview_mine(code: str) -> tuple[Response, int]:
    exam = get_session(get_db(), code)
    return jsonify(acts.own_score(get_db(), exam, me(), _form())), 201


@bp.get("/collectives")
@require(Role.CENTRE)
def collectives_waiting() -> Response:
    return jsonify(acts.centre_waiting(get_db()))


@bp.post("/sessions/<code>/collectives/<int:collective_id>/approve")
@require(Role.CENTRE)
def collective_approve(code: str, collective_id: int) -> Response:
    note = text(body(), "note")
    return jsonify(acts.centre_approve(get_db(), me(), code, collective_id, note))
