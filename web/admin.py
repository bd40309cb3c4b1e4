"""The administrator's screens: accounts (create, new password, enable or disable)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from marking.models import Role
from web import actions
from web.db import get_db
from web.security import require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@require(Role.ADMIN)
def home() -> str:
    return render_template("admin/home.html", accounts=actions.accounts(get_db()))


@bp.post("/accounts")
@require(Role.ADMIN)
def create() -> Response:
    form = request.form
    made = actions.add_account(
        get_db(),
        form.get("username", "").strip(),
        form.get("role", ""),
        form.get("name", "").strip(),
        form.get("password", ""),
    )
    flash(_("Account %(u)s created.", u=made["username"]), "ok")
    return redirect(url_for("admin.home"))


@bp.post("/accounts/<username>")
@require(Role.ADMIN)
def update(username: str) -> Response:
    form = request.form
    active = form.get("active")
    actions.update_account(
        get_db(),
        username,
        password=form.get("password") or None,
        active=None if active is None else active == "1",
    )
    flash(_("Account %(u)s updated.", u=username), "ok")
    return redirect(url_for("admin.home"))
