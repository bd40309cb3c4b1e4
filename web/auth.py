"""Logging in and out, the landing page of each role, and one's own account and API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from marking.models import Role, utcnow
from web import actions
from web.db import get_db
from web.inbound import local_path
from web.security import (
    authenticate,
    check_throttle,
    end_login,
    logged_in,
    me,
    new_api_token,
    principal,
    record_attempt,
    start_login,
)

bp = Blueprint("auth", __name__)

LANDING = {
    Role.EXAMINER: "examiner.home",
    Role.LEAD: "lead.home",
    Role.OFFICE: "office.home",
    Role.DIRECTOR: "director.home",
    Role.ADMIN: "admin.home",
}


@bp.get("/")
def home() -> Response:
    from flask_login import current_user

    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return redirect(url_for(LANDING[principal().role]))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    now = utcnow()
    check_throttle(username, now)  # raises Throttled (429) before any password is tried
    account = authenticate(username, password)
    record_attempt(username, account is not None, now)
    if account is None:
        # The failed attempt must count even though this answer is an error: commit it.
        get_db().commit()
        return render_template("login.html", failed=True, username=username), 401
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing from before it carries over
    if lang:
        session["lang"] = lang
    session.permanent = True
    login_user(start_login(account, now))
    return redirect(local_path(request.args.get("next", "")) or url_for("auth.home"))


@bp.post("/logout")
@logged_in
def logout() -> Response:
    end_login()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.get("/account")
@logged_in
def account() -> str:
    return render_template("account.html", tokens=actions.tokens(get_db(), me()))


@bp.post("/account/tokens")
@logged_in
def token_create() -> str:
    name = request.form.get("name", "").strip() or _("script")
    _token, value = new_api_token(me(), name)
    return render_template("account.html", tokens=actions.tokens(get_db(), me()), new_token=value)


@bp.post("/account/tokens/<int:token_id>/revoke")
@logged_in
def token_revoke(token_id: int) -> Response:
    actions.revoke_token(get_db(), me(), token_id)
    flash(_("Token revoked."), "ok")
    return redirect(url_for("auth.account"))
