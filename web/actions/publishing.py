"""Publication: the checklist, the director's approval, publishing, results, exports, reports."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound, StateError
from marking.intake import collectives, entries
from marking.publication import late_conflicts, preconditions, unsealing
from marking.publication import publish as pub
from marking.publication.approvals import (
    approval_status,
    approve_publication,
    combined,
    current_approval,
    publication_digest,
    review_summary,
    withdraw_approval,
)
from marking.publication.review import component_review
from marking.read import exports, reportdata, reporting
from marking.read.published import pick_revision, published_revisions
from marking.store.models import Account, ExamSession, Publication, SessionState
from reports import cells
from web.actions.common import plain


def open_code(exam: ExamSession, item: MarkingError) -> dict[str, Any]:
    names = {g.key: g.name for g in exam.groups}
    params = dict(item.params)
    if "group" in params:
        params["group"] = names.get(str(params["group"]), params["group"])
    if "groups" in params:
        params["groups"] = "、".join(names.get(k, k) for k in str(params["groups"]).split(", "))
    return {"code": item.code, "params": params}


def publication(db: Session, exam: ExamSession) -> dict[str, Any]:
    """The checklist before publication, or what was published."""
    # The session's publication (revision 1); appeal revisions have their own page.
    done = db.scalar(
        select(Publication).where(Publication.session_id == exam.id, Publication.revision == 1)
    )
    status = approval_status(db, exam)
    approval = status.approval
    coded = (
        preconditions.open_items(db, exam)
        if exam.state in (SessionState.MARKING, SessionState.RECONCILED)
        else []
    )
    open_items = [str(item) for item in coded]
    # What the director is shown is what they approve: the form carries this digest back.
    approvable = exam.state in (SessionState.MARKING, SessionState.RECONCILED) and not open_items
    checklist = [
        {"item": "key", "ok": exam.public_key is not None},
        {"item": "marking_done", "ok": exam.state is not SessionState.DRAFT and not open_items},
        {"item": "approved", "ok": status.current or done is not None},
    ]
    return {
        "state": exam.state.value,
        "custody": exam.custody.value if exam.custody else None,
        "threshold": exam.threshold,
        "open": open_items,
        # The same, coded for a screen to word (groups by name, not key).
        "open_codes": [open_code(exam, item) for item in coded],
        "checklist": checklist,
        # Only an approval that still matches the session lets the office publish.
        "approved_by": status.director if status.current else None,
        "approved_at": plain(approval.created_at) if approval else None,
        "approval": None
        if approval is None
        else {
            "by": status.director,
            "at": plain(approval.created_at),
            "digest": approval.digest,
            "current": status.current,
            # What changed since (keys of approvals.PARTS): the approval is void.
            "changed": status.changed,
        },
        "review": review_summary(db, exam),
        # Per component, without names: what the director judges the scores by (R16).
        "components": [
            {
                **dataclasses.asdict(c),
                "mean": None if c.mean is None else str(c.mean),
                "pass_rate": None if c.pass_rate is None else str(c.pass_rate),
                "most": max(c.bands) or 1,
            }
            for c in component_review(db, exam)
        ]
        if done is None
        else [],
        "records": _records_checklist(db, exam) if done is None else None,
        "digest": combined(publication_digest(db, exam)) if approvable else None,
        "published": None
        if done is None
        else {
            "at": done.created_at.isoformat(),
            "candidates": done.candidates,
            "results_sha256": done.results_sha256,
            "ledger_head": done.ledger_head,
        },
    }


def _records_checklist(db: Session, exam: ExamSession) -> dict[str, Any]:
    """What the checklist says of the sealed records: counts only (completeness and the
    exam numbers are checked when publication unseals), and the collectives waiting."""
    return {
        "counts": entries.entry_counts(db, exam),
        "interview": exam.level <= 2,
        "waiting": [
            {"label": c.label, "candidates": c.candidates, "record": c.record_id}
            for c in collectives.waiting(db, exam)
        ],
        "collectives": len(collectives.of_session(db, exam)),
    }


def approve_pub(
    db: Session, exam: ExamSession, account: Account, note: str, expected: str | None = None
) -> dict[str, Any]:
    """Approve; ``expected``: the digest of the session as the director reviewed it."""
    approval = approve_publication(db, exam, account, note=note, expected=expected)
    return {"approved": True, "approval_id": approval.id, "digest": approval.digest}


def withdraw_pub(db: Session, exam: ExamSession, account: Account) -> dict[str, Any]:
    withdraw_approval(db, exam, account)
    return {"approved": False}


def publish(
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    key_file: tuple[str, bytes] | None,
    passphrase: str,
    shares: Iterable[tuple[str, bytes]],
) -> dict[str, Any]:
    """Publish with the key rebuilt from uploads given as (file name, content)."""
    approval = current_approval(db, exam)
    if approval is None:
        raise StateError("publication needs a director's approval first (R16)")
    director = db.get(Account, approval.director_id)
    assert director is not None
    if exam.public_key is None:
        raise StateError(f"session {exam.code} has no key")
    share_list = [s for s in shares if s[1]]
    if (key_file is None) == (not share_list):
        raise MarkingError("give the key: the key file with its passphrase, or k share files")
    key = unsealing.open_uploaded_key(
        key_file=key_file,
        passphrase=passphrase if key_file is not None else None,
        shares=share_list,
        expected_public_key=exam.public_key,
    )
    code = exam.code
    try:
        report = pub.publish(db, exam, by=account.username, approved_by=director.username, key=key)
    except late_conflicts.LateConflicts as exc:
        # As the command line does: nothing is published, the offending marks are withdrawn
        # (committed on their own) and the responses go back to be re-marked.
        db.rollback()
        from marking.setup.sessions import get_session

        late_conflicts.withdraw_late(db, get_session(db, code), exc, actor=account.username)
        db.commit()
        rulings = len(exc.findings.rulings)
        raise StateError(
            f"{len(exc.hits)} mark(s) by examiners with a late-declared conflict "
            + (f"and {rulings} ruling(s) by a conflicted lead " if rulings else "")
            + "were withdrawn and their responses reopened; have them re-marked (and ruled on "
            "again where needed), then publish again"
        ) from None
    return {
        "candidates": report.candidates,
        "outcomes": report.outcomes,
        "results_sha256": report.results_sha256,
        "ledger_head": report.ledger_head,
    }


def results(db: Session, exam: ExamSession, revision: int | None = None) -> dict[str, Any]:
    """The published results of ``revision`` (default the latest), and which revisions
    there are to choose from (1: the publication; 2, 3, ...: appeal revisions)."""
    shown = pick_revision(db, exam, revision)
    columns, rows = exports.results_rows(db, exam, shown)
    return {
        "columns": list(columns),
        "rows": [list(r) for r in rows],
        "revision": shown,
        "revisions": published_revisions(db, exam),
    }


def revision_arg(value: str | None) -> int | None:
    """A ``revision`` query argument: None when absent, else a positive number."""
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) < 1:
        raise NotFound(f"no revision {value[:16]!r}")
    return int(value)


EXPORTS = exports.EXPORTS


def export_csv(db: Session, exam: ExamSession, what: str, revision: int | None = None) -> bytes:
    """An export as CSV in UTF-8 with a BOM, so Excel opens the Chinese right (DESIGN §11)."""
    header, rows = exports.table(db, exam, what, revision)
    buffer = io.StringIO()
    cells.write_csv(buffer, header, rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- reports ----------------------------------------------------------------------------------

REPORT_LANGUAGES = ("zh", "en")


def report(
    db: Session, exam: ExamSession, *, kind: str, fmt: str, lang: str, revision: int | None = None
) -> tuple[bytes, str, str]:
    """A report's bytes, media type and file name (DESIGN §8). The data is read, then the
    transaction ends before rendering: on SQLite a transaction holds the write lock, and a
    register takes seconds to render while examiners go on marking."""
    if kind not in reporting.KINDS:
        raise NotFound(f"no report {kind!r}; reports are {', '.join(reporting.KINDS)}")
    if lang not in REPORT_LANGUAGES:
        raise MarkingError(f"reports are in {' or '.join(REPORT_LANGUAGES)}, not {lang!r}")
    fmt = reporting.infer_format(kind, None, fmt)
    data = reportdata.gather(db, exam, kind, revision)
    name = f"{exam.code}-{kind}{f'-r{revision}' if revision else ''}.{fmt}"
    db.rollback()
    return reporting.produce(kind, data, fmt=fmt, lang=lang), reporting.MEDIA_TYPES[fmt], name
