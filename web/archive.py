"""A published session's archive (档案管理) for the office and the director: made in the
background with its progress shown, then downloaded; and an archive uploaded to be checked
in the browser as `blindmark verify --archive` checks it, with no database."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from marking import jobs
from marking.audit.bundle import check_archive
from marking.errors import InputError, NotFound
from marking.jobs.archive import KIND
from marking.store.models import Role
from web.access import session_as_staff
from web.db import get_db
from web.jobs import get_jobs
from web.security import me, require

bp = Blueprint("archive", __name__)

STAFF = (Role.OFFICE, Role.DIRECTOR)


@bp.post("/sessions/<code>/archive")
@require(*STAFF)
def start(code: str) -> WerkzeugResponse:
    """Queue the session's archive for `blindmark worker`; the page that follows shows its
    progress and, when done, the download. Refused before publication."""
    exam, account = session_as_staff(code, *STAFF)
    lang = "en" if request.form.get("lang") == "en" else "zh"
    run = jobs.submit_archive(get_jobs(), get_db(), exam, requested_by=account.username, lang=lang)
    return redirect(url_for("archive.run", code=code, run_id=run.id))


@bp.get("/sessions/<code>/archive/<int:run_id>")
@require(*STAFF)
def run(code: str, run_id: int) -> str:
    exam, _account = session_as_staff(code, *STAFF)
    found = jobs.get_run(get_db(), exam, run_id, kind=KIND)
    return render_template("archive/run.html", exam=exam, run=found, results=_results(exam.code))


@bp.get("/sessions/<code>/archive/<int:run_id>/zip")
@require(*STAFF)
def download(code: str, run_id: int) -> Response:
    exam, _account = session_as_staff(code, *STAFF)
    found = jobs.get_run(get_db(), exam, run_id, kind=KIND)
    if found.content is None:
        raise NotFound(f"archive run {run_id} has no archive yet (it is {found.state.value})")
    return Response(
        found.content,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{exam.code}-archive.zip"'},
    )


@bp.route("/archives/verify", methods=["GET", "POST"])
@require(*STAFF)
def verify() -> str:
    """Check an uploaded archive: manifest, ledger, results digests, finals and scores."""
    if request.method == "GET":
        return render_template("archive/verify.html", report=None, error=None)
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        error = _("Choose an archive (.zip) to check.")
        return render_template("archive/verify.html", report=None, error=error)
    try:
        report = check_archive(upload.stream, name=upload.filename)
    except InputError as exc:
        return render_template("archive/verify.html", report=None, error=str(exc))
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
    return render_template("archive/verify.html", report=report, error=None, name=upload.filename)


def _results(code: str) -> str:
    endpoint = "director.results" if me().role is Role.DIRECTOR else "office.results"
    return url_for(endpoint, code=code)
