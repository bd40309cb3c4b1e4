"""The examiner's qualification set (R5, DESIGN §13) in the JSON API: where they stand, the
set to mark, and after a failed attempt the definitive marks. Seeds and 回评 need no route:
they come in claims and are marked, handed back or flagged through the response routes.
"""

from __future__ import annotations

from flask import Response, jsonify

from marking.store.models import Role
from web import actions
from web.access import session_as_examiner
from web.api import bp
from web.db import get_db
from web.security import require


@bp.get("/sessions/<code>/groups/<group>/qualification")
@require(Role.EXAMINER)
def examiner_qualification(code: str, group: str) -> Response:
    exam, account = session_as_examiner(code)
    return jsonify(actions.qualification_state(get_db(), exam, account, group))


@bp.post("/sessions/<code>/groups/<group>/qualification")
@require(Role.EXAMINER)
def examiner_qualification_start(code: str, group: str) -> Response:
    exam, account = session_as_examiner(code)
    return jsonify(actions.qualification_start(get_db(), exam, account, group))


@bp.route("/sessions/<code>/groups/<group>/qualification/held", methods=["GET", "POST"])
@require(Role.EXAMINER)
def examiner_qualification_held(code: str, group: str) -> Response:
    """The open attempt's items still to mark; POST too, so that the marking screen's
    "claim" on the qualification screen resumes and never starts a new attempt."""
    exam, account = session_as_examiner(code)
    return jsonify(actions.qualification_held(get_db(), exam, account, group))
