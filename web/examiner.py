"""The examiner's screens: their groups and progress, and the keyboard-first marking screen."""

from __future__ import annotations

from flask import Blueprint, render_template

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
    return render_template("examiner/mark.html", exam=exam, kinds=[k.value for k in AnomalyKind])
