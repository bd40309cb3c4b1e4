"""The JSON API under /api/v1: every action of the screens, for scripts and for the
marking screen's fetch calls. Described by /api/v1/openapi.json (web/openapi.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.wrappers import Response as WerkzeugResponse

from marking.errors import MarkingError
from marking.read import views
from marking.setup.custody import CUSTODIAN_ROLES
from marking.store.models import Role
from web import actions
from web.access import session_as_examiner, session_as_lead, session_as_staff
from web.api_input import body, integer, text
from web.db import get_db
from web.formatting import report_language
from web.security import Forbidden, logged_in, me, new_api_token, principal, require

bp = Blueprint("api", __name__, url_prefix="/api/v1")
STAFF = (Role.OFFICE, Role.DIRECTOR)


def upload(name: str) -> tuple[bytes, str] | None:
    file = request.files.get(name)
    if file is None or not file.filename:
        return None
    return file.read(), file.filename


@bp.get("/openapi.json")
def openapi() -> Response:
    from web.openapi import document

    return jsonify(document())


@bp.get("/me")
@logged_in
def whoami() -> Response:
    user = principal()
    return jsonify({**actions.account_dict(user.account), "via": user.via})


# --- tokens -----------------------------------------------------------------------------------


@bp.get("/tokens")
@logged_in
def token_list() -> Response:
    return jsonify(actions.tokens(get_db(), me()))


@bp.post("/tokens")
@logged_in
def token_create() -> tuple[Response, int]:
    name = text(body(), "name").strip()
    if not name:
        raise MarkingError("a token needs a name saying what it is for")
    token, value = new_api_token(me(), name)
    return jsonify({"id": token.id, "name": token.name, "token": value}), 201


@bp.post("/tokens/<int:token_id>/revoke")
@logged_in
def token_revoke(token_id: int) -> Response:
    return jsonify(actions.revoke_token(get_db(), me(), token_id))


# --- sessions ---------------------------------------------------------------------------------


@bp.get("/sessions")
@logged_in
def sessions() -> Response:
    """The sessions this account may see: all for staff, assigned or led ones otherwise."""
    db, account = get_db(), me()
    if account.role in STAFF:
        found = views.all_sessions(db)
    elif account.role is Role.EXAMINER:
        found = list(
            {
                e.id: e
                for e in views.sessions_of_examiner(db, account)
                + views.sessions_led_by(db, account)
            }.values()
        )
    elif account.role is Role.LEAD:
        found = views.sessions_led_by(db, account)
    else:
        found = []
    return jsonify([actions.session_summary(e) for e in found])


@bp.post("/sessions")
@require(Role.OFFICE)
def session_create() -> tuple[Response, int]:
    uploaded = upload("definition")
    if uploaded is not None:
        raw, filename = uploaded
        try:
            source = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MarkingError(f"{filename}: a session definition is UTF-8 text") from None
    else:
        source, filename = text(body(), "toml"), "session.toml"
    if not source.strip():
        raise MarkingError("give the session definition (session.toml)")
    return jsonify(actions.new_session(get_db(), me(), source, filename)), 201


def _progress_session(code: str) -> Any:
    account = me()
    if account.role in STAFF:
        return session_as_staff(code, *STAFF)[0]
    return session_as_lead(code)[0]


@bp.get("/sessions/<code>/progress")
@require(Role.OFFICE, Role.DIRECTOR, Role.LEAD, Role.EXAMINER)
def session_progress(code: str) -> Response:
    return jsonify(actions.progress(get_db(), _progress_session(code)))


@bp.post("/sessions/<code>/keys")
@require(Role.OFFICE)
def session_keys(code: str) -> Response:
    """A key file (one custodian) is the answer itself; shares (several custodians) wait
    on the server, each for its own custodian to download (``/shares``)."""
    exam, account = session_as_staff(code, Role.OFFICE)
    data = body()
    if text(data, "custody") == "shares":
        names = data.get("custodians")
        if isinstance(names, str):
            names = [n for n in names.replace("，", ",").split(",")]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise MarkingError("custodians: the custodians' usernames, a list (one share each)")
        threshold = integer(data, "threshold")
        if threshold is None:
            raise MarkingError("threshold: how many shares rebuild the key (k)")
        made = actions.keys_shares(get_db(), exam, account, custodians=names, threshold=threshold)
        return jsonify(made)
    if text(data, "custody") not in ("", "key_file"):
        raise MarkingError("custody is 'key_file' or 'shares'")
    name, content, mimetype = actions.keys_init(
        get_db(), exam, account, passphrase=text(data, "passphrase")
    )
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.get("/sessions/<code>/custodians")
@require(Role.OFFICE, Role.DIRECTOR)
def session_custodians(code: str) -> Response:
    exam, _account = session_as_staff(code, *STAFF)
    return jsonify(actions.custodian_list(get_db(), exam))


@bp.get("/shares")
@require(*CUSTODIAN_ROLES)
def share_list() -> Response:
    """The key shares waiting for the caller to download."""
    return jsonify(actions.waiting_shares(get_db(), me()))


@bp.post("/shares/<code>")
@require(*CUSTODIAN_ROLES)
def share_take(code: str) -> WerkzeugResponse:
    """The caller's own share of session ``code``, once: the server then erases its copy."""
    from web.auth import share_file

    return share_file(code)


@bp.post("/sessions/<code>/intake")
@require(Role.OFFICE)
def session_intake(code: str) -> tuple[Response, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    file = request.files.get("batch")
    if file is None or not file.filename:
        raise MarkingError("upload the batch as a zip file (field 'batch')")
    name = text(body(), "name") or file.filename.rsplit(".", 1)[0]
    return jsonify(actions.intake(get_db(), exam, account, file.stream, name)), 201


@bp.get("/examiners")
@require(Role.OFFICE)
def examiner_list() -> Response:
    return jsonify(actions.examiners(get_db()))


@bp.post("/examiners/import")
@require(Role.OFFICE)
def examiner_import() -> Response:
    uploaded = upload("file")
    if uploaded is None:
        raise MarkingError("upload examiners.csv or .xlsx (field 'file')")
    return jsonify(actions.examiners_import(get_db(), *uploaded, actor=me().username))


@bp.post("/sessions/<code>/groups/<group>/assign")
@require(Role.OFFICE)
def group_assign(code: str, group: str) -> Response:
    exam, account = session_as_staff(code, Role.OFFICE)
    data = body()
    names = data.get("examiners", "")
    usernames = names if isinstance(names, list) else str(names).replace("，", ",").split(",")
    return jsonify(
        actions.assign_group(
            get_db(), exam, account, group, [str(u) for u in usernames], text(data, "lead") or None
        )
    )


@bp.get("/sessions/<code>/batches")
@require(Role.OFFICE)
def session_batches(code: str) -> Response:
    exam, _account = session_as_staff(code, Role.OFFICE)
    return jsonify(actions.batches(get_db(), exam))


@bp.post("/sessions/<code>/batches/<int:batch_id>/withdraw")
@require(Role.OFFICE)
def batch_withdraw(code: str, batch_id: int) -> Response:
    exam, account = session_as_staff(code, Role.OFFICE)
    return jsonify(actions.withdraw(get_db(), exam, account, batch_id, text(body(), "reason")))


@bp.post("/sessions/<code>/deputy")
@require(Role.OFFICE)
def session_deputy(code: str) -> Response:
    exam, account = session_as_staff(code, Role.OFFICE)
    return jsonify(actions.deputy(get_db(), exam, account, text(body(), "deputy")))


@bp.post("/sessions/<code>/conflicts")
@require(Role.OFFICE)
def session_conflicts(code: str) -> Response:
    exam, account = session_as_staff(code, Role.OFFICE)
    uploaded = upload("file")
    if uploaded is None:
        raise MarkingError("upload conflicts.csv or .xlsx (field 'file')")
    return jsonify(actions.conflicts_import(get_db(), exam, account, *uploaded))


# --- examiner ---------------------------------------------------------------------------------


@bp.get("/sessions/<code>/mine")
@require(Role.EXAMINER)
def examiner_session(code: str) -> Response:
    exam, account = session_as_examiner(code)
    db = get_db()
    return jsonify(
        {
            **actions.session_summary(exam),
            "groups": [g.__dict__ for g in views.examiner_groups(db, exam, account)],
            "held": actions.held(db, exam, account),
        }
    )


@bp.post("/sessions/<code>/claim")
@require(Role.EXAMINER)
def examiner_claim(code: str) -> Response:
    exam, account = session_as_examiner(code)
    data = body()
    size = integer(data, "size", 10)
    assert size is not None
    group = text(data, "group") or None  # the group chosen to mark, or any of theirs
    return jsonify(actions.claim(get_db(), exam, account, size, group=group))


@bp.get("/sessions/<code>/held")
@require(Role.EXAMINER)
def examiner_held(code: str) -> Response:
    exam, account = session_as_examiner(code)
    group = request.args.get("group") or None  # the group chosen to mark, or all of theirs
    return jsonify(actions.held(get_db(), exam, account, group=group))


@bp.post("/sessions/<code>/responses/<handle>/mark")
@require(Role.EXAMINER)
def examiner_mark(code: str, handle: str) -> Response:
    exam, account = session_as_examiner(code)
    return jsonify(actions.submit(get_db(), exam, account, handle, body().get("value")))


@bp.post("/sessions/<code>/responses/<handle>/release")
@require(Role.EXAMINER)
def examiner_release(code: str, handle: str) -> Response:
    exam, account = session_as_examiner(code)
    return jsonify(actions.release(get_db(), exam, account, handle))


@bp.post("/sessions/<code>/responses/<handle>/flag")
@require(Role.EXAMINER)
def examiner_flag(code: str, handle: str) -> Response:
    exam, account = session_as_examiner(code)
    data = body()
    return jsonify(
        actions.flag(get_db(), exam, account, handle, text(data, "kind"), text(data, "note"))
    )


@bp.get("/sessions/<code>/responses/<handle>/image")
@require(Role.EXAMINER, Role.LEAD)
def response_image(code: str, handle: str) -> Response:
    """A response's image: for the examiner holding it, or the session's lead."""
    try:
        exam, account = session_as_lead(code)
        lead = True
    except Forbidden:
        exam, account = session_as_examiner(code)
        lead = False
    image = actions.response_image(get_db(), exam, account, handle, lead=lead)
    return Response(image.content, mimetype=image.media_type)


# --- lead -------------------------------------------------------------------------------------

LEADS = (Role.LEAD, Role.EXAMINER)


@bp.get("/sessions/<code>/scheme")
@require(*LEADS)
def lead_scheme(code: str) -> Response:
    exam, _account = session_as_lead(code)
    return jsonify(actions.scheme(get_db(), exam))


@bp.post("/sessions/<code>/groups/<group>/approve")
@require(*LEADS)
def lead_approve(code: str, group: str) -> Response:
    exam, account = session_as_lead(code)
    return jsonify(actions.approve(get_db(), exam, account, group))


@bp.get("/sessions/<code>/anomalies")
@require(*LEADS)
def lead_anomalies(code: str) -> Response:
    exam, account = session_as_lead(code)
    return jsonify(actions.anomalies(get_db(), exam, account))


@bp.post("/sessions/<code>/anomalies/<handle>/resolve")
@require(*LEADS)
def lead_resolve(code: str, handle: str) -> Response:
    exam, account = session_as_lead(code)
    data = body()
    return jsonify(
        actions.resolve(
            get_db(),
            exam,
            account,
            handle,
            text(data, "resolution"),
            text(data, "note"),
            data.get("value"),
        )
    )


@bp.post("/sessions/<code>/key-corrections")
@require(*LEADS)
def lead_correct_key(code: str) -> Response:
    exam, account = session_as_lead(code)
    data = body()
    return jsonify(
        actions.correct_key(
            get_db(),
            exam,
            account,
            text(data, "component"),
            text(data, "question"),
            text(data, "answer"),
            text(data, "reason"),
        )
    )


@bp.get("/sessions/<code>/arbitrations")
@require(*LEADS)
def lead_arbitrations(code: str) -> Response:
    exam, account = session_as_lead(code)
    return jsonify(actions.arbitrations(get_db(), exam, account))


@bp.post("/sessions/<code>/responses/<handle>/arbitrate")
@require(*LEADS)
def lead_arbitrate(code: str, handle: str) -> Response:
    exam, account = session_as_lead(code)
    data = body()
    return jsonify(
        actions.arbitrate(get_db(), exam, account, handle, data.get("value"), text(data, "reason"))
    )


# --- publication ------------------------------------------------------------------------------


@bp.get("/sessions/<code>/publication")
@require(*STAFF)
def publication_state(code: str) -> Response:
    exam, _account = session_as_staff(code, *STAFF)
    return jsonify(actions.publication(get_db(), exam))


@bp.post("/sessions/<code>/publication/approval")
@require(Role.DIRECTOR)
def publication_approve(code: str) -> Response:
    exam, account = session_as_staff(code, Role.DIRECTOR)
    data = body()
    return jsonify(
        actions.approve_pub(
            get_db(), exam, account, text(data, "note"), expected=text(data, "digest") or None
        )
    )


@bp.post("/sessions/<code>/publication/approval/withdraw")
@require(Role.DIRECTOR)
def publication_withdraw(code: str) -> Response:
    exam, account = session_as_staff(code, Role.DIRECTOR)
    return jsonify(actions.withdraw_pub(get_db(), exam, account))


@bp.post("/sessions/<code>/publication")
@require(Role.OFFICE)
def publication_publish(code: str) -> Response:
    exam, account = session_as_staff(code, Role.OFFICE)
    key = upload("key_file")
    shares = [
        (actions.upload_name(f.filename, f"share {i}"), f.read())
        for i, f in enumerate(request.files.getlist("share"), start=1)
        if f.filename
    ]
    return jsonify(
        actions.publish(
            get_db(),
            exam,
            account,
            key_file=(actions.upload_name(key[1], "key file"), key[0]) if key else None,
            passphrase=text(body(), "passphrase"),
            shares=shares,
        )
    )


@bp.get("/sessions/<code>/results")
@require(*STAFF)
def session_results(code: str) -> Response:
    exam, _account = session_as_staff(code, *STAFF)
    revision = actions.revision_arg(request.args.get("revision"))
    return jsonify(actions.results(get_db(), exam, revision))


@bp.get("/sessions/<code>/exports/<what>")
@require(*STAFF)
def session_export(code: str, what: str) -> Response:
    exam, _account = session_as_staff(code, *STAFF)
    content = actions.export_csv(
        get_db(), exam, what, actions.revision_arg(request.args.get("revision"))
    )
    return Response(
        content,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{exam.code}-{what}.csv"'},
    )


@bp.get("/sessions/<code>/reports/<kind>")
@require(Role.OFFICE, Role.DIRECTOR, Role.LEAD, Role.EXAMINER)
def session_report(code: str, kind: str) -> Response:
    """A report to download. The lead (during marking too) gets the statistics only: they
    name examiners, never candidates; the office and the director get every report, and
    the ones naming candidates only after publication (the engine refuses them before)."""
    if me().role in (Role.OFFICE, Role.DIRECTOR):
        exam, _account = session_as_staff(code, *STAFF)
    else:
        exam, _account = session_as_lead(code)
        if kind != "stats":
            raise Forbidden("the lead examiner may download the statistics report only")
    content, mimetype, name = actions.report(
        get_db(),
        exam,
        kind=kind,
        fmt=request.args.get("format", "pdf"),
        lang=request.args.get("lang") or report_language(),
        revision=actions.revision_arg(request.args.get("revision")),
    )
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- accounts ---------------------------------------------------------------------------------


@bp.get("/accounts")
@require(Role.ADMIN)
def account_list() -> Response:
    return jsonify(actions.accounts(get_db()))


@bp.post("/accounts")
@require(Role.ADMIN)
def account_create() -> tuple[Response, int]:
    """201 with the account made; 202 with the request when a second admin must approve."""
    data = body()
    created = actions.add_account(
        get_db(),
        me(),
        text(data, "username"),
        text(data, "role"),
        text(data, "name"),
        text(data, "password"),
    )
    return jsonify(created), 202 if created["pending"] else 201


@bp.post("/accounts/<username>")
@require(Role.ADMIN)
def account_update(username: str) -> Response:
    data = body()
    active = data.get("active")
    flag = None if active in (None, "") else str(active).lower() in ("1", "true", "on", "yes")
    return jsonify(
        actions.update_account(
            get_db(),
            me(),
            username,
            password=text(data, "password") or None,
            active=flag,
            role=text(data, "role") or None,
        )
    )


@bp.get("/account-requests")
@require(Role.ADMIN)
def account_request_list() -> Response:
    return jsonify(actions.account_requests_open(get_db()))


@bp.post("/account-requests/<int:request_id>/approve")
@require(Role.ADMIN)
def account_request_approve(request_id: int) -> Response:
    return jsonify(actions.decide_account_request(get_db(), me(), request_id, approve=True))


@bp.post("/account-requests/<int:request_id>/reject")
@require(Role.ADMIN)
def account_request_reject(request_id: int) -> Response:
    return jsonify(actions.decide_account_request(get_db(), me(), request_id, approve=False))


# Mark corrections (R6), qualification sets (R5): routes on this blueprint, modules of their own.
from web import api_checks, api_corrections  # noqa: E402, F401
