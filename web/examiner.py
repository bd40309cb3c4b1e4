"""The examiner's screens: their groups and progress, and the keyboard-first marking screen."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from marking.store.models import AnomalyKind, Role
from web import actions
from web.access import session_as_examiner
from web.actions import records
from web.db import get_db
from web.security import me, require

bp = Blueprint("examiner", __name__, url_prefix="/examiner")


@bp.get("/")
@require(Role.EXAMINER)
def home() -> str:
    db = get_db()
    return render_template(
        "examiner/home.html",
        sessions=actions.examiner_home(db, me()),
        panels=records.panel_home(db, me()),
    )


@bp.get("/sessions/<code>/mark")
@require(Role.EXAMINER)
def mark(code: str) -> str:
    exam, _account = session_as_examiner(code)
    # The group the examiner chose on their home page (its name in the heading), or all.
    key = request.args.get("group") or None
    group = next((g for g in exam.groups if g.key == key), None)
    if key is not None and group is None:
        abort(404)
    return render_template(
        "examiner/mark.html", exam=exam, kinds=[k.value for k in AnomalyKind], group=group
    )


@bp.get("/sessions/<code>/groups/<group>/qualification")
@require(Role.EXAMINER)
def qualification(code: str, group: str) -> str:
    """A group's qualification set (资格测试, R5): where the examiner stands, the way in, and
    after a failed attempt the definitive marks with the lead's notes and the scheme."""
    exam, account = session_as_examiner(code)
    state = actions.qualification_state(get_db(), exam, account, group)
    return render_template("examiner/qualification.html", exam=exam, key=group, state=state)


@bp.post("/sessions/<code>/groups/<group>/qualification")
@require(Role.EXAMINER)
def qualification_start(code: str, group: str) -> Response:
    exam, account = session_as_examiner(code)
    actions.qualification_start(get_db(), exam, account, group)
    return redirect(url_for("examiner.qualification_mark", code=code, group=group))


@bp.get("/sessions/<code>/groups/<group>/qualification/mark")
@require(Role.EXAMINER)
def qualification_mark(code: str, group: str) -> str:
    """The set is marked on the marking screen itself, announced as the qualification set:
    the same keys, the same checks on a mark; it resumes the open attempt, never starts one."""
    exam, account = session_as_examiner(code)
    state = actions.qualification_state(get_db(), exam, account, group)
    held = url_for("api.examiner_qualification_held", code=code, group=group)
    return render_template(
        "examiner/mark.html",
        exam=exam,
        kinds=[k.value for k in AnomalyKind],
        qualification={"group": state["group"], "key": group},
        held_url=held,
        claim_url=held,
    )
