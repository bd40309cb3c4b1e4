"""The office's screens: sessions, intake, examiners and assignment, key custody,
live progress, publication, results and exports, and the whole session's notices rendered
in the background."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from anonymizer.errors import AnonymizerError
from marking import jobs
from marking.errors import InputError, InputErrors, MarkingError, NotFound
from marking.paper.printing import MAX_COUNT
from marking.publication.records_check import PublicationRefusals
from marking.quality import suspension
from marking.read import views
from marking.store.models import Account, Role
from web import actions, duty_text, engine_text, scan_text
from web import office_workflow as workflow
from web.access import session_as_staff
from web.actions import duties, records, scans
from web.db import fail, get_db
from web.errors import classify, detail, refusal
from web.jobs import get_jobs
from web.security import me, require

bp = Blueprint("office", __name__, url_prefix="/office")


@bp.get("/")
@require(Role.OFFICE)
def home() -> str:
    return render_template("office/home.html", sessions=views.all_sessions(get_db()))


@bp.get("/sessions/<code>")
@require(Role.OFFICE)
def session(code: str) -> str:
    return _session_page(code)


def _session_page(code: str, refused: dict[str, Any] | None = None) -> str:
    """The office's session page; ``refused``: a form sent back with its refusal beside it
    (``form``, ``group``, ``message``, ``values``)."""
    exam, _account = session_as_staff(code, Role.OFFICE)
    db = get_db()
    progress = actions.progress(db, exam)
    scan_batches = scans.scan_batches(db, exam)
    return render_template(
        "office/session.html",
        exam=exam,
        progress=progress,
        workflow=workflow.steps(
            db,
            exam,
            progress=progress,
            scan_open=sum(1 for b in scan_batches if b["state"] == "open"),
            publication=actions.publication(db, exam),
        ),
        short_groups={g["key"] for g in workflow.short_groups(progress)},
        stranded=suspension.short_groups(db, exam),
        members=workflow.group_members(db, exam),
        examiners=actions.examiners(db),
        custodians=actions.custodian_list(db, exam),
        candidates=actions.custodian_candidates(db),
        deputy=db.get(Account, exam.deputy_id) if exam.deputy_id else None,
        batches=actions.batches(db, exam),
        max_sheets=MAX_COUNT,
        scan_batches=scan_batches,
        component_names={c.key: c.name for c in exam.components},
        records=records.records_page(db, exam),
        state_name=scan_text.state_name,
        words=scan_text.words,
        team=actions.team_state(db, exam),
        page_refused=refused or {},  # the template also reads g.office_refused
    )


@bp.post("/sessions/<code>/keys")
@require(Role.OFFICE)
def keys(code: str) -> Any:
    """Make the session's key, confirmed: a refusal (a weak passphrase, too few custodians,
    the box not ticked) comes back beside its form."""
    exam, account = session_as_staff(code, Role.OFFICE)
    form = request.form
    try:
        if form.get("confirm") != "yes":
            raise MarkingError(_("Tick the box to confirm: the key is made once, for good."))
        if form.get("custody") == "shares":
            threshold = form.get("threshold", "")
            if not threshold.isdigit():
                raise MarkingError(_("Say how many shares are needed to publish (k)."))
            actions.keys_shares(
                get_db(),
                exam,
                account,
                custodians=form.getlist("custodian"),
                threshold=int(threshold),
            )
        elif form.get("custody") != "key_file":
            raise MarkingError(_("Choose how the key is kept: a key file or shares."))
        elif form.get("passphrase", "") != form.get("passphrase2", form.get("passphrase", "")):
            raise MarkingError(_("The two passphrases differ."))
        else:
            name, content, mimetype = actions.keys_init(
                get_db(), exam, account, passphrase=form.get("passphrase", "")
            )
            return _download(content, mimetype, name)
    except (MarkingError, AnonymizerError) as exc:
        return _refused_here(code, exc, form=f"keys-{form.get('custody', '')}")
    flash(_("Key made. Each custodian downloads their own share from their account page."), "ok")
    return redirect(url_for("office.session", code=code))


@bp.post("/sessions/<code>/intake")
@require(Role.OFFICE)
def intake(code: str) -> WerkzeugResponse:
    exam, account = session_as_staff(code, Role.OFFICE)
    file = request.files.get("batch")
    if file is None or not file.filename:
        raise MarkingError(_("Choose the batch's zip file."))
    name = request.form.get("name", "").strip() or file.filename.rsplit(".", 1)[0]
    summary = actions.intake(get_db(), exam, account, file.stream, name)
    flash(
        _(
            "Batch taken in: %(c)d candidates, %(s)d scripts, %(r)d responses.",
            c=summary["candidates"],
            s=summary["scripts"],
            r=summary["responses"],
        ),
        "ok",
    )
    return redirect(url_for("office.session", code=code))


@bp.post("/sessions/<code>/batches/<int:batch_id>/withdraw")
@require(Role.OFFICE)
def withdraw(code: str, batch_id: int) -> Any:
    """Withdraw an intake batch, confirmed: its scripts and marks leave the session."""
    exam, account = session_as_staff(code, Role.OFFICE)
    try:
        if request.form.get("understood") != "yes":
            raise MarkingError(
                _("Tick the box to confirm: the batch's scripts and marks leave the session.")
            )
        done = actions.withdraw(get_db(), exam, account, batch_id, request.form.get("reason", ""))
    except MarkingError as exc:
        return _refused_here(code, exc, form="withdraw", batch=batch_id)
    flash(
        _(
            "Batch %(n)s withdrawn: publication leaves its candidates out.",
            n=scan_text.batch_name(done["name"]),
        ),
        "ok",
    )
    return redirect(url_for("office.session", code=code))


def _refused_here(
    code: str, exc: MarkingError | AnonymizerError, *, form: str, batch: int | None = None
) -> Any:
    """A refused form of the session page comes back on that page, the reason (a file's bad
    rows in a table) beside the form and its fields kept; nothing of it was stored. A page
    not found or not allowed keeps its own answer."""
    status = classify(exc)[0]
    if status not in (409, 422):
        raise exc
    fail()
    rows = (
        exc.errors if isinstance(exc, InputErrors) else [exc] if isinstance(exc, InputError) else []
    )
    g.office_refused = {
        "form": form,
        "batch": batch,
        "message": detail(exc),
        "problems": [
            {
                "file": e.file,
                "row": e.row,
                "column": duty_text.column(e.column),
                "reason": duty_text.reason(e.reason),
            }
            for e in rows
        ],
        "fields": request.form,
    }
    return session(code), status


@bp.post("/sessions/<code>/groups/<group>/assign")
@require(Role.OFFICE)
def assign(code: str, group: str) -> WerkzeugResponse | tuple[str, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    names = request.form.getlist("examiners")
    if not names:
        names = request.form.get("examiner_list", "").replace("，", ",").split(",")
    try:
        if not any(n.strip() for n in names):
            raise MarkingError(_("Tick at least one examiner to add."))
        result = actions.assign_group(
            get_db(), exam, account, group, names, request.form.get("lead", "").strip() or None
        )
    except MarkingError as exc:
        refused = refusal(exc, form="assign", group=group, picked=names)
        return _session_page(code, refused), 422
    named = actions.group_name(exam, group)
    flash(_("Assigned to %(g)s: %(n)d new.", g=named, n=len(result["added"])), "ok")
    return redirect(url_for("office.session", code=code))


@bp.post("/sessions/<code>/groups/<group>/unassign")
@require(Role.OFFICE)
def unassign(code: str, group: str) -> WerkzeugResponse | tuple[str, int]:
    """Take an examiner off a group, before marking starts (recorded)."""
    exam, account = session_as_staff(code, Role.OFFICE)
    username = request.form.get("username", "")
    try:
        done = actions.unassign_group(get_db(), exam, account, group, username)
    except MarkingError as exc:
        return _session_page(code, refusal(exc, form="assign", group=group)), 422
    named = actions.group_name(exam, group)
    flash(_("%(n)s (%(u)s) taken off %(g)s.", n=done["name"], u=username, g=named), "ok")
    return redirect(url_for("office.session", code=code) + f"#assign-{group}")


@bp.post("/sessions/<code>/deputy")
@require(Role.OFFICE)
def deputy(code: str) -> WerkzeugResponse:
    exam, account = session_as_staff(code, Role.OFFICE)
    done = actions.deputy(get_db(), exam, account, request.form.get("deputy", ""))
    flash(_("Deputy lead %(u)s named: rules where the lead is excluded.", u=done["deputy"]), "ok")
    return redirect(url_for("office.session", code=code))


@bp.post("/sessions/<code>/conflicts")
@require(Role.OFFICE)
def conflicts(code: str) -> Any:
    exam, account = session_as_staff(code, Role.OFFICE)
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise MarkingError(_("Choose conflicts.csv or .xlsx."))
        name = actions.upload_name(file.filename, "conflicts.csv")
        done = actions.conflicts_import(get_db(), exam, account, file.read(), name)
    except MarkingError as exc:
        return _refused_here(code, exc, form="conflicts")
    flash(_("%(n)d recusal declaration(s) sealed.", n=done["declarations"]), "ok")
    return redirect(url_for("office.session", code=code))


def _download(content: bytes, mimetype: str, name: str) -> Response:
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _component_of(exam_components: list[str], key: str, code: str) -> str:
    """``key`` if it is one of this session's components: a component is addressed through
    its own session only (another session's key is not found here)."""
    if key not in exam_components:
        raise NotFound(_("Session %(c)s has no component %(k)s.", c=code, k=key or "-"))
    return key


@bp.post("/sessions/<code>/sheets")
@require(Role.OFFICE)
def sheets(code: str) -> Response:
    """Blank answer sheets to print (DESIGN §12), their serials recorded as issued."""
    exam, account = session_as_staff(code, Role.OFFICE)
    keys = [c.key for c in exam.components]
    component = _component_of(keys, request.form.get("component", "").strip(), code)
    count = request.form.get("count", "").strip()
    if not count.isdigit() or not 1 <= int(count) <= MAX_COUNT:
        raise MarkingError(_("Print 1 to %(n)d sheet sets at a time.", n=MAX_COUNT))
    content, name = actions.sheets(get_db(), exam, account, component, int(count))
    return _download(content, "application/pdf", name)


@bp.get("/sessions/<code>/sheets/<component>/layout")
@require(Role.OFFICE)
def sheet_layout(code: str, component: str) -> Response:
    """The layout file of a component's sheets, for printers and auditors (DESIGN §12)."""
    exam, _account = session_as_staff(code, Role.OFFICE)
    keys = [c.key for c in exam.components]
    content, name = actions.sheet_layout(exam, _component_of(keys, component, code))
    return _download(content, "application/json", name)


@bp.get("/examiners")
@require(Role.OFFICE)
def examiners() -> str:
    return _register_page()


def _register_page(refused: dict[str, Any] | None = None) -> str:
    """The examiner register (DESIGN §14) with its forms; ``refused`` a form sent back."""
    db = get_db()
    return render_template(
        "office/examiners.html",
        examiners=actions.examiner_register(db),
        sessions=views.all_sessions(db),
        records=actions.RECORDS,
        refused=refused or {},
    )


@bp.post("/examiners")
@require(Role.OFFICE)
def examiners_import() -> WerkzeugResponse:
    file = request.files.get("file")
    if file is None or not file.filename:
        raise MarkingError(_("Choose examiners.csv or .xlsx."))
    done = actions.examiners_import(get_db(), file.read(), file.filename, actor=me().username)
    flash(
        _("Examiners imported: %(c)d new, %(u)d updated.", c=done["created"], u=done["updated"]),
        "ok",
    )
    waiting = actions.examiners_without_password(get_db())
    if waiting:
        flash(
            _(
                "%(n)d examiner(s) cannot log in yet: no password. Make each an invitation "
                "link (or set a password) from “Invite or set a password” in their row.",
                n=waiting,
            ),
            "warning",
        )
    return redirect(url_for("office.examiners"))


@bp.post("/examiners/<username>/absence")
@require(Role.OFFICE)
def examiner_absence(username: str) -> WerkzeugResponse | tuple[str, int]:
    """An absence from an assigned session (第八条(一): the third unexcused in a row
    brings a warning, recorded with it)."""
    form = request.form
    try:
        done = actions.examiner_absence(
            get_db(),
            me(),
            username,
            form.get("session", ""),
            excused=form.get("excused") == "yes",
            note=form.get("note", ""),
        )
    except MarkingError as exc:
        return _register_page(refusal(exc, form="absence", username=username)), 422
    flash(_("Absence of %(u)s recorded.", u=username), "ok")
    if done["warning"]:
        flash(
            _(
                "Third unexcused absence in a row: a warning is on %(u)s's record (第八条).",
                u=username,
            ),
            "warning",
        )
    return redirect(url_for("office.examiners") + f"#examiner-{username}")


@bp.post("/examiners/<username>/record")
@require(Role.OFFICE)
def examiner_record(username: str) -> WerkzeugResponse | tuple[str, int]:
    """A warning, note, suspension, revocation or reinstatement, with its reason; those
    that change the status are confirmed."""
    form = request.form
    try:
        actions.examiner_record(
            get_db(),
            me(),
            username,
            form.get("kind", ""),
            reason=form.get("reason", ""),
            confirmed=form.get("confirm") == "yes",
        )
    except MarkingError as exc:
        return _register_page(refusal(exc, form="record", username=username)), 422
    flash(_("Recorded on the register of %(u)s.", u=username), "ok")
    if form.get("kind") == "reinstatement":
        for code, group in actions.held_by_leads(get_db(), username):
            flash(
                _(
                    "%(u)s stays suspended on group %(g)s of session %(s)s by the lead's "
                    "decision: the lead reinstates them there.",
                    u=username,
                    g=group,
                    s=code,
                ),
                "warning",
            )
    return redirect(url_for("office.examiners") + f"#examiner-{username}")


@bp.get("/sessions/<code>/publication")
@require(Role.OFFICE)
def publication(code: str) -> str:
    exam, _account = session_as_staff(code, Role.OFFICE)
    return render_template(
        "office/publication.html", exam=exam, pub=actions.publication(get_db(), exam)
    )


@bp.post("/sessions/<code>/publication")
@require(Role.OFFICE)
def publish(code: str) -> WerkzeugResponse | tuple[str, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    if request.form.get("confirm") != "yes":
        return _publication_refused(exam, MarkingError(_("Tick the box to confirm publication.")))
    key = request.files.get("key_file")
    shares = [
        (actions.upload_name(f.filename, f"share {i}"), f.read())
        for i, f in enumerate(request.files.getlist("share"), start=1)
        if f.filename
    ]
    try:
        report = actions.publish(
            get_db(),
            exam,
            account,
            key_file=(actions.upload_name(key.filename, "key file"), key.read())
            if key is not None and key.filename
            else None,
            passphrase=request.form.get("passphrase", ""),
            shares=shares,
        )
    except PublicationRefusals as refused:
        # The records named what to withdraw or enter: shown on the checklist, not stored.
        fail()
        lines = [engine_text.word(r) or str(r) for r in refused.refusals]
        page = render_template(
            "office/publication.html",
            exam=exam,
            pub=actions.publication(get_db(), exam),
            refusal={"head": _("Publication refused; nothing was published."), "lines": lines},
        )
        return page, 409
    except (MarkingError, AnonymizerError) as exc:
        return _publication_refused(exam, exc)
    flash(_("Session published: %(n)d candidates.", n=report["candidates"]), "ok")
    return redirect(url_for("office.results", code=code))


def _publication_refused(exam: Any, exc: MarkingError | AnonymizerError) -> tuple[str, int]:
    """The publication page again, the reason beside its form (a wrong passphrase, a share
    that does not fit, the box not ticked): nothing was published."""
    refused = refusal(exc, form="publish")
    pub = actions.publication(get_db(), exam)
    return render_template("office/publication.html", exam=exam, pub=pub, refused=refused), 422


@bp.get("/sessions/<code>/results")
@require(Role.OFFICE)
def results(code: str) -> str:
    from web import office_results  # beside this blueprint, as the scan screens are

    exam, _account = session_as_staff(code, Role.OFFICE)
    db = get_db()
    return render_template(
        "results.html",
        exam=exam,
        results=office_results.page_of(
            actions.results(db, exam, actions.revision_arg(request.args.get("revision"))),
            request.args.get("q", ""),
            request.args.get("page"),
        ),
        exports=actions.EXPORTS,
        notice_runs=jobs.recent_runs(db, exam, limit=5),
        archive_runs=jobs.recent_runs(db, exam, limit=5, kind=jobs.archive.KIND),
    )


# --- the notices of a whole session, rendered by a background worker -------------------------


@bp.post("/sessions/<code>/notices")
@require(Role.OFFICE)
def notices_job(code: str) -> Any:
    """Queue the score notices of the session's candidates, or of those the office chose
    (exam numbers typed or pasted, rows ticked), for `blindmark worker`; the page that
    follows shows its progress and, when done, the download. Unknown exam numbers are
    refused on the results page, named."""
    exam, account = session_as_staff(code, Role.OFFICE)
    form = request.form
    lang = "en" if form.get("lang") == "en" else "zh"
    chosen = None
    if form.get("choice") == "chosen":  # exam numbers typed or pasted, and rows ticked
        chosen = duties.exam_numbers(form.get("exam_numbers", ""), form.getlist("exam_no"))
    try:
        run = duties.notices_for(get_jobs(), get_db(), exam, account, lang=lang, exam_nos=chosen)
    except MarkingError as exc:
        if classify(exc)[0] != 422:
            raise
        fail()
        g.notices_refused = {"message": detail(exc), "fields": form}
        return results(code), 422
    return redirect(url_for("office.notices_run", code=code, run_id=run.id))


@bp.get("/sessions/<code>/notices/<int:run_id>")
@require(Role.OFFICE)
def notices_run(code: str, run_id: int) -> str:
    exam, _account = session_as_staff(code, Role.OFFICE)
    run = jobs.get_run(get_db(), exam, run_id)
    return render_template("office/notices_run.html", exam=exam, run=run)


@bp.get("/sessions/<code>/notices/<int:run_id>/pdf")
@require(Role.OFFICE)
def notices_download(code: str, run_id: int) -> Response:
    exam, _account = session_as_staff(code, Role.OFFICE)
    run = jobs.get_run(get_db(), exam, run_id)
    if run.content is None:
        raise NotFound(f"report run {run_id} has no notices yet (it is {run.state.value})")
    return Response(
        run.content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{exam.code}-notices.pdf"'},
    )
