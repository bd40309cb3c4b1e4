"""Duties in the browser (issue 12, item 9), on the blueprints of those who do them: an
examiner's or lead's own recusal declarations (their account page), the ledger check of a
session (office, director), and the examiners' passwords and one-time invitations (office;
the invitation link itself is public and good once).

Refused forms come back on their own page, the reason beside the field and the input kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from marking.errors import MarkingError
from marking.people import invitations
from marking.people.invitations import InvitationRefused
from marking.store.models import Account, Role
from web import duty_text
from web.access import session_as_staff
from web.actions import duties
from web.auth import account_page
from web.auth import bp as auth_bp
from web.db import fail, get_db
from web.director import bp as director_bp
from web.errors import classify, detail
from web.office import bp as office_bp
from web.security import me, require

_: Callable[..., str] = gettext


def refusal(exc: MarkingError) -> str:
    """A refusal's words for the page, in the reader's language (422 and 409 only: a
    page not found or not allowed keeps its own answer)."""
    if classify(exc)[0] not in (409, 422):
        raise exc
    fail()
    return detail(exc)


# --- an examiner's (or lead's) own declarations -------------------------------------------


@auth_bp.post("/account/conflicts")
@require(Role.EXAMINER, Role.LEAD)
def conflict_declare() -> Any:
    """A declaration of one's own conflict with a candidate (R10; 第七条(四) 回避), sealed the
    moment it enters; the page afterwards shows where and when, never whom."""
    form = request.form
    try:
        done = duties.declare(
            get_db(),
            me(),
            id_number=form.get("id_number", ""),
            relation=form.get("relation", ""),
            session=form.get("session", "").strip(),
            other_document=form.get("other_document") == "yes",
        )
    except MarkingError as exc:
        g.declare_refused = {"message": refusal(exc), "field": duty_text.field_of(exc)}
        return account_page(declare_form=form), 422
    flash(
        _(
            "Declaration recorded and sealed in %(n)d session(s): %(s)s.",
            n=len(done["sessions"]),
            s=", ".join(done["sessions"]),
        ),
        "ok",
    )
    return redirect(url_for("auth.account") + "#declarations")


# --- the ledger check -------------------------------------------------------------------------


def _verify_page(code: str, role: Role, back: str) -> str:
    exam, _account = session_as_staff(code, role)
    result = duties.verify_session(get_db(), exam)
    return render_template(
        "verify.html",
        exam=exam,
        result=result,
        problems=[duty_text.problem(p) for p in result["problems"]],
        back=url_for(back, code=code),
    )


@office_bp.post("/sessions/<code>/verify")
@require(Role.OFFICE)
def verify(code: str) -> str:
    """The session's ledger recomputed and the tables checked against it (DESIGN §7)."""
    return _verify_page(code, Role.OFFICE, "office.session")


@director_bp.post("/sessions/<code>/verify")
@require(Role.DIRECTOR)
def verify_director(code: str) -> str:
    return _verify_page(code, Role.DIRECTOR, "director.session")


# --- examiners' passwords and invitations, set by the office ---------------------------------


def _access_page(username: str, **extra: Any) -> str:
    return render_template(
        "office/examiner_access.html", access=duties.examiner_access(get_db(), username), **extra
    )


@office_bp.get("/examiners/<username>/access")
@require(Role.OFFICE)
def examiner_access(username: str) -> str:
    return _access_page(username)


@office_bp.post("/examiners/<username>/password")
@require(Role.OFFICE)
def examiner_password(username: str) -> Any:
    """The office sets an examiner's password (examiner accounts only), confirmed."""
    form = request.form
    duties.examiner_access(get_db(), username)  # NotFound / not an examiner: its own page
    try:
        if form.get("password", "") != form.get("password2", ""):
            raise MarkingError(_("The two passwords differ."))
        if form.get("understood") != "yes":
            raise MarkingError(
                _("Tick the box to confirm: the examiner's current password and every login end.")
            )
        duties.set_examiner_password(get_db(), me(), username, form.get("password", ""))
    except MarkingError as exc:
        message = refusal(exc)
        return _access_page(username, password_refused=message), 422
    flash(_("Password of %(u)s set: their logins ended; tell them in person.", u=username), "ok")
    return redirect(url_for("office.examiner_access", username=username))


@office_bp.post("/examiners/<username>/invitation")
@require(Role.OFFICE)
def examiner_invite(username: str) -> Any:
    """A one-time invitation link for the examiner, shown once; earlier ones are void."""
    try:
        made, token = duties.invite(get_db(), me(), username)
    except MarkingError as exc:
        if classify(exc)[0] == 404:
            raise
        return _access_page(username, invite_refused=refusal(exc)), 422
    link = url_for("auth.invitation", token=token, _external=True)
    return _access_page(username, new_link=link, new_expires=made["expires_at"])


# --- the invitation link (public: the token is the proof) -------------------------------------


@auth_bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str) -> Any:
    """The examiner sets their own password, once; a used, replaced or expired link sends
    them to the login page, which says why and what to do."""
    db = get_db()
    try:
        found = invitations.open_invitation(db, token)
    except InvitationRefused as exc:
        return _invitation_refused(exc)
    account = db.get_one(Account, found.account_id)
    if request.method == "GET":
        return render_template("invitation.html", account=account)
    form = request.form
    try:
        if form.get("password", "") != form.get("password2", ""):
            raise MarkingError(_("The two passwords differ."))
        invitations.accept_invitation(db, token=token, password=form.get("password", ""))
    except InvitationRefused as exc:
        return _invitation_refused(exc)
    except MarkingError as exc:
        return render_template("invitation.html", account=account, refused=refusal(exc)), 422
    flash(_("Your password is set. Log in with it."), "ok")
    return redirect(url_for("auth.login", username=account.username))


def _invitation_refused(exc: InvitationRefused) -> Response:
    fail()
    why = (exc.code or "").removeprefix("invitation_")
    return redirect(url_for("auth.login", invitation=why))
