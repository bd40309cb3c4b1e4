"""Logging in and out, the landing page of each role, and one's own account and API tokens."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from werkzeug.wrappers import Response

from marking.queue import handback
from marking.setup.custody import CUSTODIAN_ROLES
from marking.store.models import Role, utcnow
from web import actions, duty_text
from web.access import session_as_custodian
from web.actions import duties
from web.db import get_db
from web.inbound import local_path
from web.security import (
    authenticate,
    end_login,
    logged_in,
    login_buckets,
    me,
    new_api_token,
    principal,
    record_attempt,
    refund_attempt,
    remember_device,
    require,
    reserve_attempt,
    start_login,
)

bp = Blueprint("auth", __name__)

LANDING = {
    Role.EXAMINER: "examiner.home",
    Role.LEAD: "lead.home",
    Role.OFFICE: "office.home",
    Role.DIRECTOR: "director.home",
    Role.ADMIN: "admin.home",
    Role.CENTRE: "centre.home",
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
        # An invitation link that cannot be used any more lands here, told why (web/duties.py).
        return render_template(
            "login.html",
            invitation=request.args.get("invitation"),
            username=request.args.get("username", "")[:64],
        )
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    now = utcnow()
    db = get_db()
    buckets = login_buckets(username)
    # Counted (and committed) before the password is tried; raises Throttled (429).
    reserve_attempt(db, buckets, now)
    account = authenticate(username, password)
    record_attempt(username, account is not None, now)
    if account is None:
        # The attempt's record must stay even though this answer is an error: commit it.
        db.commit()
        return render_template("login.html", failed=True, username=username), 401
    refund_attempt(db, buckets)
    remember_device(account)
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
    account = me()
    handed = 0
    if account.role in (Role.EXAMINER, Role.LEAD):
        # What they hold goes to others now, not when the leases run out (20 minutes).
        handed = handback.release_all(get_db(), account)
    end_login()
    logout_user()
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language  # the login page in the language they were using
    if handed:  # said without a number: the examiner knows what they held
        flash(
            _("You are logged out. What you held unmarked is handed back for others to mark."), "ok"
        )
    else:
        flash(_("You are logged out."), "ok")
    return redirect(url_for("auth.login"))


@bp.get("/account")
@logged_in
def account() -> str:
    return account_page()


def account_page(**extra: Any) -> str:
    """One's account page: tokens, key shares waiting, and for examiners and leads their
    own recusal declarations (where and when only) with the form to make one."""
    db = get_db()
    account = me()
    recused = account.role in (Role.EXAMINER, Role.LEAD)
    return render_template(
        "account.html",
        tokens=actions.tokens(db, account),
        shares=actions.waiting_shares(db, account),
        recused=recused,
        declarable=duties.declarable_sessions(db) if recused else [],
        declared=duties.own_declarations(db, account) if recused else [],
        relations=duty_text.RELATIONS,
        **extra,
    )


@bp.post("/account/shares/<code>")
@require(*CUSTODIAN_ROLES)
def share_take(code: str) -> Response:
    return share_file(code)


def share_file(code: str) -> Response:
    """The account's own share of a session's key as a file, once (then the server erases
    its copy); the account page's button and the API both answer with it."""
    exam, account = session_as_custodian(code)
    name, content = actions.take_share(get_db(), exam, account)
    return Response(
        content,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/account/tokens")
@logged_in
def token_create() -> str:
    name = request.form.get("name", "").strip() or _("script")
    _token, value = new_api_token(me(), name)
    return account_page(new_token=value)


@bp.post("/account/tokens/<int:token_id>/revoke")
@logged_in
def token_revoke(token_id: int) -> Response:
    actions.revoke_token(get_db(), me(), token_id)
    flash(_("Token revoked."), "ok")
    return redirect(url_for("auth.account"))
