"""The guidance centre's screens (R13, 第七条(五)): the collective violation decisions waiting
for its approval, across sessions, each approved once confirmed. Nothing here names a
candidate: a decision shows its id, how many candidates, who decided and its record."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from marking.store.models import Role
from web.actions import records as acts
from web.db import fail, get_db
from web.security import me, require

_: Callable[..., str] = gettext

bp = Blueprint("centre", __name__, url_prefix="/centre")


def _home(errors: dict[int, str] | None = None, notes: dict[int, str] | None = None) -> str:
    return render_template(
        "centre/home.html",
        waiting=acts.centre_waiting(get_db()),
        errors=errors or {},
        notes=notes or {},
    )


@bp.get("/")
@require(Role.CENTRE)
def home() -> str:
    return _home()


@bp.post("/sessions/<code>/collectives/<int:collective_id>/approve")
@require(Role.CENTRE)
def approve(code: str, collective_id: int) -> Response | tuple[str, int]:
    if request.form.get("confirm") != "1":
        fail()
        # The note typed stays in its field beside the reason.
        note = {collective_id: request.form.get("note", "")}
        return _home({collective_id: _("Tick the box to confirm the approval.")}, note), 422
    done = acts.centre_approve(get_db(), me(), code, collective_id, request.form.get("note", ""))
    flash(
        _(
            "Collective decision %(c)s of session %(s)s approved.",
            c=done["collective"],
            s=done["session"],
        ),
        "ok",
    )
    return redirect(url_for("centre.home"))
