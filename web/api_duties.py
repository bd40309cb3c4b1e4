"""The duties of issue 12 (item 9) in the JSON API, beside their screens (web/duties.py):
one's own recusal declarations, the ledger check, notices for chosen candidates, and the
office's examiner passwords and invitations. The same actions (web/actions/duties.py)."""

from __future__ import annotations

from flask import Response, jsonify, url_for

from marking.errors import MarkingError
from marking.store.models import Role
from web.access import session_as_staff
from web.actions import duties
from web.api import STAFF, bp
from web.api_input import body, text
from web.db import get_db
from web.jobs import get_jobs
from web.security import me, require


@bp.get("/me/conflicts")
@require(Role.EXAMINER, Role.LEAD)
def conflict_list() -> Response:
    """Where and when I declared conflicts: never whom."""
    return jsonify(
        [{**d, "first_at": d["first_at"].isoformat(), "last_at": d["last_at"].isoformat()}
         for d in duties.own_declarations(get_db(), me())]
    )  # fmt: skip


@bp.post("/me/conflicts")
@require(Role.EXAMINER, Role.LEAD)
def conflict_declare() -> tuple[Response, int]:
    data = body()
    done = duties.declare(
        get_db(),
        me(),
        id_number=text(data, "id_number"),
        relation=text(data, "relation"),
        session=text(data, "session").strip(),
        other_document=data.get("other_document") is True,
    )
    return jsonify(done), 201


@bp.get("/sessions/<code>/verify")
@require(*STAFF)
def session_verify(code: str) -> Response:
    exam, _account = session_as_staff(code, *STAFF)
    return jsonify(duties.verify_session(get_db(), exam))


@bp.post("/sessions/<code>/notices")
@require(Role.OFFICE)
def session_notices(code: str) -> tuple[Response, int]:
    """Queue the score notices (every candidate, or ``exam_nos``) for the worker."""
    exam, account = session_as_staff(code, Role.OFFICE)
    data = body()
    chosen = data.get("exam_nos")
    if chosen is not None and not (
        isinstance(chosen, list) and all(isinstance(n, str) for n in chosen)
    ):
        raise MarkingError("exam_nos must be a list of exam numbers")
    lang = text(data, "lang", "zh")
    run = duties.notices_for(get_jobs(), get_db(), exam, account, lang=lang, exam_nos=chosen)
    return jsonify({"run": run.id, "state": run.state.value, "exam_nos": run.exam_nos}), 202


@bp.post("/examiners/<username>/password")
@require(Role.OFFICE)
def examiner_password(username: str) -> Response:
    """An examiner's password set by the office (examiner accounts only)."""
    return jsonify(duties.set_examiner_password(get_db(), me(), username, text(body(), "password")))


@bp.post("/examiners/<username>/invitation")
@require(Role.OFFICE)
def examiner_invite(username: str) -> tuple[Response, int]:
    """A one-time invitation link for an examiner (shown once); earlier ones are void."""
    made, token = duties.invite(get_db(), me(), username)
    return jsonify({**made, "url": url_for("auth.invitation", token=token, _external=True)}), 201
