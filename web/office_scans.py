"""The office's scan screens (DESIGN §12), on the office blueprint: start a scan batch with
its room's roster and files, add files, watch the tally, settle the quarantine, close.

Office only, and every batch and item through the session in the URL: another session's
ids are not found. The crop route is the only way to an item's image (a header crop is
identity) and answers ``Cache-Control: no-store`` so no browser or proxy keeps it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Response, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as WerkzeugResponse

from marking.errors import InputError, InputErrors, MarkingError
from marking.paper.quarantine import ResolutionRefused
from marking.paper.scanning import get_scan_batch
from marking.store.models import Role
from web import scan_text
from web.access import session_as_staff
from web.actions import scans
from web.db import fail, get_db
from web.errors import classify
from web.office import bp
from web.office import session as session_page
from web.security import require

_: Callable[..., str] = gettext

SCAN_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff")
NUMBER_KINDS = ("exam_number", "off_roster", "claimed_twice")
VALUE_KINDS = ("fill_in", "absent", "violation")


def _scan_files() -> list[tuple[str, bytes]]:
    """The uploaded scan files, refused (nothing stored) unless each is a scan file."""
    files = [(f.filename or "", f.read()) for f in request.files.getlist("scans") if f.filename]
    if not files:
        raise MarkingError(_("Choose one or more scan files (PDF, PNG, JPEG or TIFF)."))
    for name, content in files:
        if Path(name).suffix.lower() not in SCAN_SUFFIXES:
            raise MarkingError(
                _("%(f)s: a scan file is a PDF, PNG, JPEG or TIFF file.", f=Path(name).name)
            )
        if not content:
            raise MarkingError(_("%(f)s: the file is empty.", f=Path(name).name))
    return files


def _refused_upload(code: str, exc: MarkingError, batch_id: int | None = None) -> Any:
    """A refused upload comes back on the session page, beside the form that sent it: the
    reason (a roster's bad rows in a table) and the form's other fields kept, rather than
    on an error page with no way back. Nothing of it is stored. Not found and wrong-state
    answers keep their own pages."""
    if classify(exc)[0] != 422:
        raise exc
    fail()
    rows = (
        exc.errors if isinstance(exc, InputErrors) else [exc] if isinstance(exc, InputError) else []
    )
    g.scan_refused = {
        "batch": batch_id,
        "message": (
            _("The upload was refused; nothing was stored. Problems found: %(n)d", n=len(rows))
            if rows
            else scan_text.words(str(exc))
        ),
        "problems": [
            {
                "file": Path(e.file).name,
                "row": e.row,
                "column": scan_text.column_name(e.column),
                "reason": scan_text.words(e.reason),
            }
            for e in rows
        ],
        "form": request.form,
    }
    return session_page(code), 422


@bp.get("/sessions/<code>/scans")
@require(Role.OFFICE)
def scans_progress(code: str) -> Response:
    """The scan batches' tally and files' progress, for progress.js to refresh the table."""
    exam, _account = session_as_staff(code, Role.OFFICE)
    rows = scans.scan_batches(get_db(), exam)
    for row in rows:
        row["state_text"] = scan_text.state_name(row["state"])
        for f in row["files"]:
            f["state_text"] = scan_text.state_name(f["state"])
            f["error"] = scan_text.words(f["error"]) or None
    return jsonify({"batches": rows})


@bp.post("/sessions/<code>/scans")
@require(Role.OFFICE)
def scan_batch_new(code: str) -> Any:
    """Start a scan batch: a component, a name, the room's roster and its scan files."""
    exam, account = session_as_staff(code, Role.OFFICE)
    try:
        roster = request.files.get("roster")
        if roster is None or not roster.filename:
            raise MarkingError(_("Choose the room's roster (candidates.csv)."))
        files = _scan_files()
        made = scans.new_scan_batch(
            get_db(),
            exam,
            account,
            component=request.form.get("component", "").strip(),
            name=request.form.get("name", ""),
            roster=(roster.filename, roster.read()),
            files=files,
        )
    except MarkingError as exc:
        return _refused_upload(code, exc)
    flash(
        _(
            "Scan batch %(n)s started: %(f)d file(s) sent for reading.",
            n=made["name"],
            f=made["files"],
        ),
        "ok",
    )
    return redirect(url_for("office.session", code=code, _anchor="scans"))


@bp.post("/sessions/<code>/scans/<int:batch_id>/files")
@require(Role.OFFICE)
def scan_files_add(code: str, batch_id: int) -> Any:
    """More scan files for an open batch (a second bundle from the scanner)."""
    exam, _account = session_as_staff(code, Role.OFFICE)
    get_scan_batch(get_db(), exam, batch_id)  # another session's batch: not found, first
    try:
        made = scans.add_scan_files(get_db(), exam, batch_id, _scan_files())
    except MarkingError as exc:
        return _refused_upload(code, exc, batch_id)
    flash(
        _(
            "%(f)d file(s) added to scan batch %(n)s and sent for reading.",
            n=made["name"],
            f=made["files"],
        ),
        "ok",
    )
    return redirect(url_for("office.session", code=code, _anchor="scans"))


def _quarantine_page(
    code: str, batch_id: int, *, refused: dict[str, Any] | None = None, status: int = 200
) -> tuple[str, int]:
    exam, _account = session_as_staff(code, Role.OFFICE)
    return render_template(
        "office/quarantine.html",
        exam=exam,
        batch=scans.quarantine(get_db(), exam, batch_id),
        refused=refused or {},
        words=scan_text.words,
        kind_name=scan_text.kind_name,
        state_name=scan_text.state_name,
        who=scan_text.who,
        actions_named=scan_text.ACTIONS,
        number_kinds=NUMBER_KINDS,
        value_kinds=VALUE_KINDS,
    ), status


@bp.get("/sessions/<code>/scans/<int:batch_id>/quarantine")
@require(Role.OFFICE)
def quarantine(code: str, batch_id: int) -> tuple[str, int]:
    """The batch's quarantine: each open item with what is needed to decide it."""
    return _quarantine_page(code, batch_id)


def _resolution(kind: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """What an item's form says, as the engine takes it; ResolutionRefused (shown beside
    the field) when the form says nothing the engine could take."""
    if form.get("how") == "discard":
        return {"discard": True}
    if kind in NUMBER_KINDS:
        number = form.get("exam_no", "").strip()
        if not number:
            raise ResolutionRefused(_("Type the exam number as the header shows it."))
        return {"exam_no": number}
    if kind == "bubble_row":
        ticked = form.getlist("option")
        if not ticked or ("-" in ticked and len(ticked) > 1):
            raise ResolutionRefused(_("Tick the filled options, or “none filled” alone."))
        return {"value": "".join(ticked)}
    if kind in VALUE_KINDS:
        value = form.get("value", "").strip()
        if not value and kind != "fill_in":
            raise ResolutionRefused(_("Choose one."))
        return {"value": value or "-"}
    return {"discard": True}


@bp.post("/sessions/<code>/scans/<int:batch_id>/quarantine/<int:item_id>")
@require(Role.OFFICE)
def quarantine_resolve(code: str, batch_id: int, item_id: int) -> Any:
    """Settle one item. A refused resolution comes back on the same page, the input kept
    and the reason beside the field; nothing of it is recorded."""
    exam, account = session_as_staff(code, Role.OFFICE)
    kind = scans.item_kind(get_db(), exam, batch_id, item_id)
    try:
        done = scans.resolve(
            get_db(), exam, account, batch_id, item_id, **_resolution(kind, request.form)
        )
    except ResolutionRefused as exc:
        fail()
        refused = {"item": item_id, "message": scan_text.words(str(exc)), "form": request.form}
        return _quarantine_page(code, batch_id, refused=refused, status=422)
    flash(_("Item %(i)d settled.", i=item_id), "ok")
    closed = done["closed"]
    if closed is not None:
        flash(
            _(
                "Nothing was left to decide: the scan batch closed by itself (%(s)d script(s) "
                "made, %(a)d candidate(s) of the roster absent: absent box (缺考) marked, or no "
                "sheet; a sheet still to come can be scanned in a new batch for this room).",
                s=closed["scripts"],
                a=closed["absent"],
            ),
            "ok",
        )
    return redirect(url_for("office.quarantine", code=code, batch_id=batch_id))


@bp.get("/sessions/<code>/scans/<int:batch_id>/quarantine/<int:item_id>/crop")
@require(Role.OFFICE)
def quarantine_crop(code: str, batch_id: int, item_id: int) -> Response:
    """An item's image (a header crop is identity): office only, never cached."""
    exam, _account = session_as_staff(code, Role.OFFICE)
    png = scans.crop(get_db(), exam, batch_id, item_id)
    return Response(
        png,
        mimetype="image/png",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@bp.post("/sessions/<code>/scans/<int:batch_id>/close")
@require(Role.OFFICE)
def scan_batch_close(code: str, batch_id: int) -> WerkzeugResponse:
    """Close a batch by hand, once the office has confirmed what that does."""
    exam, account = session_as_staff(code, Role.OFFICE)
    get_scan_batch(get_db(), exam, batch_id)  # another session's batch: not found, first
    if request.form.get("confirm") != "yes":
        raise MarkingError(_("Tick the box to confirm closing the scan batch."))
    done = scans.close(get_db(), exam, account, batch_id)
    flash(
        _(
            "Scan batch closed: %(s)d script(s) made, %(a)d absent, %(d)d item(s) discarded.",
            s=done["scripts"],
            a=done["absent"],
            d=sum(done["discarded"].values()),
        ),
        "ok",
    )
    return redirect(url_for("office.quarantine", code=code, batch_id=batch_id))
