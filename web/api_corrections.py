"""The JSON API's routes for mark corrections (R6, 第七条(八)): the examiner's own, the lead's.

They sit on the API's blueprint (``web.api.bp``), which imports this module once it is built.
"""

from __future__ import annotations

from flask import Response, jsonify, request

from marking.store.models import Role
from web import actions
from web.access import session_as_examiner, session_as_lead
from web.api import LEADS, bp
from web.api_input import body, text
from web.db import get_db
from web.security import require


@bp.get("/sessions/<code>/my-last-mark")
@require(Role.EXAMINER)
def examiner_last_mark(code: str) -> Response:
    """The examiner's most recent mark they may still correct (null when none)."""
    exam, account = session_as_examiner(code)
    return jsonify(actions.last_mark(get_db(), exam, account))


@bp.post("/sessions/<code>/responses/<handle>/correct")
@require(Role.EXAMINER)
def examiner_correct(code: str, handle: str) -> Response:
    exam, account = session_as_examiner(code)
    data = body()
    return jsonify(
        actions.correct_own(
            get_db(), exam, account, handle, data.get("value"), text(data, "reason")
        )
    )


@bp.get("/sessions/<code>/response-marks")
@require(*LEADS)
def lead_response_marks(code: str) -> Response:
    """A response's marks for the lead to correct, by ``handle`` or ``script`` + ``question``."""
    exam, account = session_as_lead(code)
    db = get_db()
    handle = actions.find_response(
        db,
        exam,
        handle=request.args.get("handle", ""),
        script=request.args.get("script", ""),
        question=request.args.get("question", ""),
    )
    return jsonify(actions.record(db, exam, account, handle))


@bp.post("/sessions/<code>/responses/<handle>/corrections")
@require(*LEADS)
def lead_correct(code: str, handle: str) -> Response:
    exam, account = session_as_lead(code)
    data = body()
    return jsonify(
        actions.lead_correct(
            get_db(),
            exam,
            account,
            handle,
            examiner=text(data, "examiner"),
            value=data.get("value"),
            reason=text(data, "reason"),
        )
    )
