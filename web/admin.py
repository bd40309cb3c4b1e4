"""The administrator's screens: accounts (create, role, new password, enable or disable), and
the requests a second admin approves: a director, office or admin account, or a password
for one (four eyes, marking/people/account_requests.py)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from marking.store.models import Role
from web import actions
from web.db import get_db
from web.security import me, require

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@require(Role.ADMIN)
def home() -> str:
    db = get_db()
    return render_template(
        "admin/home.html",
        accounts=actions.accounts(db),
        requests=actions.account_requests_open(db),
        me=me().username,
    )


@bp.post("/accounts")
@require(Role.ADMIN)
def create() -> Response:
    form = request.form
    made = actions.add_account(
        get_db(),
        me(),
        form.get("username", "").strip(),
        form.get("role", ""),
        form.get("name", "").strip(),
        form.get("password", ""),
    )
    if made["pending"]:
        flash(
            _("Account %(u)s requested: a second admin must approve it.", u=made["username"]),
            "ok",
        )
    else:
        flash(_("Account %(u)s created.", u=made["username"]), "ok")
    return redirect(url_for("admin.home"))


@bp.post("/accounts/<username>")
@require(Role.ADMIN)
def update(username: str) -> Response | str:
    form = request.form
    active = form.get("active")
    if active == "0" and form.get("confirm") != "yes" and _is_active(username):
        # Disabling ends the account's logins at once: a page of its own says so first.
        return render_template(
            "admin/confirm_disable.html", username=username, role=form.get("role") or ""
        )
    done = actions.update_account(
        get_db(),
        me(),
        username,
        password=form.get("password") or None,
        active=None if active is None else active == "1",
        role=form.get("role") or None,
    )
    if done["pending"]:
        flash(_("Account %(u)s: waiting for a second admin's approval.", u=username), "ok")
    else:
        flash(_("Account %(u)s updated.", u=username), "ok")
    return redirect(url_for("admin.home"))


def _is_active(username: str) -> bool:
    return any(a["username"] == username and a["active"] for a in actions.accounts(get_db()))


@bp.post("/requests/<int:request_id>/approve")
@require(Role.ADMIN)
def approve(request_id: int) -> Response:
    done = actions.decide_account_request(get_db(), me(), request_id, approve=True)
    flash(_("Request approved: account %(u)s changed.", u=done["username"]), "ok")
    return redirect(url_for("admin.home"))


@bp.post("/requests/<int:request_id>/reject")
@require(Role.ADMIN)
def reject(request_id: int) -> Response:
    done = actions.decide_account_request(get_db(), me(), request_id, approve=False)
    flash(_("Request rejected: account %(u)s unchanged.", u=done["username"]), "ok")
    return redirect(url_for("admin.home"))
