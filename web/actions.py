"""Everything a screen or an API call can do, once: the pages and the API both call these.

Each function takes the request's database session and the acting account, calls the
engine's services, and returns plain JSON-able values. Nothing here commits: the request
does (web/db.py), and only when the whole action succeeded.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import IO, Any

from flask import current_app, g, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymizer.custody import share_wrapping_key
from marking.domain import archives
from marking.domain.definition import parse_session_definition
from marking.errors import MarkingError, NotFound, StateError
from marking.intake.batch import intake_batch, iter_batches, withdraw_batch
from marking.intake.recusal import ruler_of
from marking.people import account_requests
from marking.people.examiners import import_conflicts, import_examiners
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
from marking.queue import claims, handback, handles, lead, marks
from marking.read import exports, reportdata, reporting, views
from marking.read.status import session_status
from marking.setup import custody
from marking.setup.assignment import approve_scheme, assign, get_group, name_deputy
from marking.setup.sessions import create_session, init_keys
from marking.store.models import (
    Account,
    AccountRequest,
    AnomalyKind,
    AnomalyResolution,
    ApiToken,
    ExamSession,
    Image,
    Publication,
    Role,
    SessionState,
    utcnow,
)
from reports import cells


def _plain(value: Any) -> Any:
    """Decimals as exact strings, dates as ISO: JSON that loses nothing."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def parse_mark(value: object) -> Decimal:
    """A mark as typed or sent (text, or a JSON number), checked as text by the engine's
    one gate (``rules.parse_mark``); the engine checks it again against the question."""
    return marks.validate_mark(value)


# --- sessions ---------------------------------------------------------------------------------


def session_summary(exam: ExamSession) -> dict[str, Any]:
    return {
        "code": exam.code,
        "occupation": exam.occupation,
        "occupation_code": exam.occupation_code,
        "level": exam.level,
        "date": exam.date.isoformat(),
        "station": exam.station,
        "state": exam.state.value,
    }


def progress(db: Session, exam: ExamSession) -> dict[str, Any]:
    """Counts per marking group and what is open: nothing that names a candidate."""
    status = session_status(db, exam)
    data: dict[str, Any] = _plain(dataclasses.asdict(status))
    data["has_key"] = exam.public_key is not None
    return data


# --- examiner ---------------------------------------------------------------------------------


def addressed(exam: ExamSession, item: Any) -> dict[str, Any]:
    """A response an examiner or the lead looks at, as JSON: addressed by its handle and its
    image by a URL built on the handle; no row id, no image digest (marking/queue/handles.py)."""
    data: dict[str, Any] = _plain(dataclasses.asdict(item))
    handle = handles.response_handle(exam, data.pop("response_id"))
    if "id" in data:  # an anomaly report
        data = {"anomaly": handles.anomaly_handle(exam, data.pop("id")), **data}
    data = {"response": handle, **data}
    data["image_url"] = (
        url_for("api.response_image", code=exam.code, handle=handle)
        if data.pop("image_sha256")
        else None
    )
    return data


def examiner_home(db: Session, account: Account) -> list[dict[str, Any]]:
    return [
        {
            **session_summary(exam),
            "groups": [dataclasses.asdict(g) for g in views.examiner_groups(db, exam, account)],
        }
        for exam in views.sessions_of_examiner(db, account)
    ]


def held(db: Session, exam: ExamSession, account: Account) -> list[dict[str, Any]]:
    return [addressed(exam, c) for c in views.held_by(db, exam, account)]


def claim(db: Session, exam: ExamSession, account: Account, size: int) -> list[dict[str, Any]]:
    return [addressed(exam, c) for c in claims.claim(db, exam, account, size=size)]


def submit(
    db: Session, exam: ExamSession, account: Account, handle: str, value: object
) -> dict[str, Any]:
    response_id = handles.response_id(exam, handle)
    marks.submit_mark(db, exam, account, response_id=response_id, value=parse_mark(value))
    # The examiner learns only that the mark was taken: not the state or final it led to,
    # which would hint at the other examiners' marks (R3: marks are independent).
    return {"response": handle, "recorded": True}


def release(db: Session, exam: ExamSession, account: Account, handle: str) -> dict[str, Any]:
    handback.release(db, exam, account, response_id=handles.response_id(exam, handle))
    return {"response": handle, "released": True}


def flag(
    db: Session, exam: ExamSession, account: Account, handle: str, kind: str, note: str
) -> dict[str, Any]:
    response_id = handles.response_id(exam, handle)
    try:
        anomaly_kind = AnomalyKind(kind)
    except ValueError:
        raise MarkingError(
            f"anomaly kind {kind!r} is not one of {', '.join(k.value for k in AnomalyKind)}"
        ) from None
    anomaly = handback.flag(
        db, exam, account, response_id=response_id, kind=anomaly_kind, note=note
    )
    return {"response": handle, "anomaly": handles.anomaly_handle(exam, anomaly.id)}


def response_image(
    db: Session, exam: ExamSession, account: Account, handle: str, *, lead: bool
) -> Image:
    """A response's image for the session's lead, or for the examiner holding it (NotFound
    otherwise, not told apart from a response that does not exist)."""
    response_id = handles.response_id(exam, handle)
    response = views.session_response(db, exam, response_id)
    # The lead (or deputy) sees only what they rule on: recusal covers images too (R10).
    rules = lead and ruler_of(db, exam, response.script_id) == account.id
    if not rules and not views.holds(db, exam, account, response_id, now=utcnow()):
        raise NotFound(f"no response {handle[:32]!r} of yours")
    return views.image_of(db, response)


# --- lead -------------------------------------------------------------------------------------


def approve(db: Session, exam: ExamSession, account: Account, group_key: str) -> dict[str, Any]:
    approve_scheme(db, exam, get_group(db, exam, group_key), by=account.username)
    return {"group": group_key, "approved": True}


def scheme(db: Session, exam: ExamSession) -> list[dict[str, Any]]:
    """Per group: its questions with reference answer and scheme, for the lead to approve."""
    out = []
    for group in exam.groups:
        questions = [
            {
                "component": c.key,
                "number": q.number,
                "type": q.type.value,
                "max": f"{q.max:f}",
                "step": f"{q.step:f}",
                "tolerance": f"{q.tolerance:f}",
                "reference": q.reference,
                "scheme": q.scheme,
            }
            for c in exam.components
            for q in c.questions
            if q.group_id == group.id
        ]
        out.append(
            {
                "key": group.key,
                "name": group.name,
                "marks_required": group.marks_required,
                "approved": group.approved_at is not None,
                "approved_at": _plain(group.approved_at),
                "questions": questions,
            }
        )
    return out


def anomalies(db: Session, exam: ExamSession, account: Account) -> list[dict[str, Any]]:
    """The open anomalies this lead (or the deputy, where the lead is excluded) resolves."""
    return [addressed(exam, a) for a in views.anomaly_inbox(db, exam, account)]


def resolve(
    db: Session,
    exam: ExamSession,
    account: Account,
    handle: str,
    resolution: str,
    note: str,
    value: object,
) -> dict[str, Any]:
    try:
        how = AnomalyResolution(resolution)
    except ValueError:
        raise MarkingError(
            f"resolution {resolution!r} is not one of "
            + ", ".join(r.value for r in AnomalyResolution)
        ) from None
    anomaly_id = handles.anomaly_id(exam, handle)
    mark = parse_mark(value) if how is AnomalyResolution.FINAL and value not in (None, "") else None
    lead.resolve_anomaly(
        db, exam, account, anomaly_id=anomaly_id, resolution=how, note=note, value=mark
    )
    return {"anomaly": handle, "resolution": how.value}


def correct_key(
    db: Session,
    exam: ExamSession,
    account: Account,
    component: str,
    question: str,
    answer: str,
    reason: str,
) -> dict[str, Any]:
    answers = tuple(a.strip() for a in answer.split("|") if a.strip())
    if not answers:
        raise MarkingError("give the corrected key (alternatives separated by '|')")
    correction = lead.correct_key(
        db,
        exam,
        account,
        component=component,
        question_number=question,
        answer=answers,
        reason=reason,
    )
    return {"correction_id": correction.id, "rescored": correction.rescored}


def arbitrations(db: Session, exam: ExamSession, account: Account) -> list[dict[str, Any]]:
    return [addressed(exam, task) for task in lead.arbitration_tasks(db, exam, ruler=account)]


def arbitrate(
    db: Session, exam: ExamSession, account: Account, handle: str, value: object, reason: str
) -> dict[str, Any]:
    response_id = handles.response_id(exam, handle)
    done = lead.arbitrate(
        db, exam, account, response_id=response_id, value=parse_mark(value), reason=reason
    )
    return {"response": handle, "final": f"{done.value:f}"}


# --- office -----------------------------------------------------------------------------------


def new_session(db: Session, account: Account, text: str, filename: str) -> dict[str, Any]:
    definition = parse_session_definition(text, file=filename or "session.toml")
    exam = create_session(db, definition, source=text, actor=account.username)
    return session_summary(exam)


def keys_init(
    db: Session, exam: ExamSession, account: Account, *, passphrase: str
) -> tuple[str, bytes, str]:
    """Make the session's key for one custodian and hand it over once: the key file is the
    answer to this request and is never stored on the server. The passphrase must be hard
    to guess (WeakPassphrase otherwise, with the estimator's advice)."""
    with tempfile.TemporaryDirectory(prefix="blindmark-keys-") as tmp:
        path = Path(tmp) / f"{exam.code}.key"
        init_keys(db, exam, actor=account.username, key_file=path, passphrase=passphrase)
        return path.name, path.read_bytes(), "application/octet-stream"


def keys_shares(
    db: Session, exam: ExamSession, account: Account, *, custodians: Sequence[str], threshold: int
) -> dict[str, Any]:
    """Make the session's key as shares, one waiting for each named custodian (web custody:
    nobody but the custodian ever receives a share)."""
    states = custody.hand_out_shares(
        db,
        exam,
        actor=account,
        custodians=custodians,
        threshold=threshold,
        wrapping_key=share_wrapping_key(current_app.secret_key or ""),
    )
    return {"custody": "shares", "threshold": threshold, "custodians": custodians_of(states)}


def custodians_of(states: Iterable[custody.CustodianState]) -> list[dict[str, Any]]:
    return [{"name": s.name, "downloaded": s.downloaded} for s in states]


def custodian_list(db: Session, exam: ExamSession) -> list[dict[str, Any]]:
    """Who holds a share of the session's key and who has taken it (names only)."""
    return custodians_of(custody.custodian_states(db, exam))


def custodian_candidates(db: Session) -> list[dict[str, str]]:
    """The accounts that may hold a share: active staff, by name."""
    rows = db.scalars(
        select(Account)
        .where(Account.role.in_(custody.CUSTODIAN_ROLES), Account.active.is_(True))
        .order_by(Account.username)
    )
    return [{"username": a.username, "name": a.name, "role": a.role.value} for a in rows]


def waiting_shares(db: Session, account: Account) -> list[dict[str, Any]]:
    return [dataclasses.asdict(w) for w in custody.waiting_shares(db, account)]


def take_share(db: Session, exam: ExamSession, account: Account) -> tuple[str, bytes]:
    """The account's own share of the session, once; the stored copy is erased (and, on
    SQLite, the write-ahead log folded in after the commit: web/db.py)."""
    name, text = custody.take_share(
        db, exam, account, wrapping_key=share_wrapping_key(current_app.secret_key or "")
    )
    g.scrub_wal = True
    return name, text.encode("utf-8")


def upload_name(filename: str | None, default: str) -> str:
    """An uploaded file's name as its sender gave it, for messages: no folders, no control
    characters, not too long."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable())[:100]
    return name or default


def _unzip(data: bytes | IO[bytes], dest: Path) -> Path:
    """Unpack an uploaded batch, checked entry by entry (marking.domain.archives.BATCH);
    returns the folder holding candidates.csv/.xlsx."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with archives.open_zip(source, name="batch.zip", limits=archives.BATCH) as archive:
        archives.unpack(archive, dest, name="batch.zip", limits=archives.BATCH)
    for stem in ("candidates.csv", "candidates.xlsx"):
        found = sorted(dest.rglob(stem), key=lambda p: len(p.parts))
        if found:
            return found[0].parent
    raise MarkingError("the zip has no candidates.csv (or .xlsx): see DESIGN §11 for a batch")


def intake(
    db: Session, exam: ExamSession, account: Account, data: bytes | IO[bytes], name: str
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="blindmark-intake-") as tmp:
        folder = _unzip(data, Path(tmp))
        summary = intake_batch(db, exam, folder, actor=account.username, name=name or None)
    plain: dict[str, Any] = _plain(dataclasses.asdict(summary))
    return plain


def examiners_import(db: Session, data: bytes, filename: str, *, actor: str) -> dict[str, Any]:
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    with tempfile.TemporaryDirectory(prefix="blindmark-examiners-") as tmp:
        path = Path(tmp) / (Path(filename or "examiners").stem + suffix)
        path.write_bytes(data)
        result = import_examiners(db, path, actor=actor)
    return {"created": result.created, "updated": result.updated}


def examiners(db: Session) -> list[dict[str, Any]]:
    rows = db.scalars(
        select(Account).where(Account.role == Role.EXAMINER).order_by(Account.username)
    )
    out = []
    for a in rows:
        e = a.examiner
        out.append(
            {
                "username": a.username,
                "name": a.name,
                "active": a.active,
                "grade": e.grade.value if e else None,
                "certificate_expires": e.certificate_expires.isoformat() if e else None,
                "scope": [f"{s.occupation_code}:{s.level}" for s in e.scopes] if e else [],
            }
        )
    return out


def assign_group(
    db: Session,
    exam: ExamSession,
    account: Account,
    group_key: str,
    usernames: Sequence[str],
    lead_username: str | None,
) -> dict[str, Any]:
    names = [u.strip() for u in usernames if u.strip()]
    if not names:
        raise MarkingError("name at least one examiner")
    result = assign(
        db,
        exam,
        get_group(db, exam, group_key),
        names,
        actor=account.username,
        lead=lead_username or None,
    )
    return dataclasses.asdict(result)


def batches(db: Session, exam: ExamSession) -> list[dict[str, Any]]:
    """The session's intake batches as the office sees them: counts, never identities."""
    return [
        {
            "id": b.id,
            "name": b.name,
            "candidates": b.candidate_count,
            "scripts": b.script_count,
            "responses": b.response_count,
            "created_by": b.created_by,
            "created_at": _plain(b.created_at),
            "withdrawn_at": _plain(b.withdrawn_at) if b.withdrawn_at else None,
        }
        for b in iter_batches(db, exam)
    ]


def withdraw(
    db: Session, exam: ExamSession, account: Account, batch_id: int, reason: str
) -> dict[str, Any]:
    """Withdraw an intake batch (taken in twice, or by mistake): recorded, with its reason;
    publication then leaves its candidates out (DESIGN §3)."""
    batch = withdraw_batch(db, exam, batch_id, reason=reason.strip(), actor=account.username)
    return {"id": batch.id, "name": batch.name, "withdrawn_at": _plain(batch.withdrawn_at)}


def deputy(db: Session, exam: ExamSession, account: Account, username: str) -> dict[str, Any]:
    """Name the session's deputy lead (DESIGN §14); the engine says who may be one."""
    if not username.strip():
        raise MarkingError("name the deputy lead (a username)")
    named = name_deputy(db, exam, username.strip(), actor=account.username)
    return {"deputy": named.username}


def conflicts_import(
    db: Session, exam: ExamSession, account: Account, data: bytes, filename: str
) -> dict[str, Any]:
    """Recusal declarations of examiners and leads for this session, sealed on entry."""
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    with tempfile.TemporaryDirectory(prefix="blindmark-conflicts-") as tmp:
        path = Path(tmp) / f"conflicts{suffix}"
        path.write_bytes(data)
        [(_exam, count)] = import_conflicts(db, path, actor=account.username, session=exam)
    return {"declarations": count}


def publication(db: Session, exam: ExamSession) -> dict[str, Any]:
    """The checklist before publication, or what was published."""
    done = db.scalar(select(Publication).where(Publication.session_id == exam.id))
    status = approval_status(db, exam)
    approval = status.approval
    open_items = (
        preconditions.open_work(db, exam)
        if exam.state in (SessionState.MARKING, SessionState.RECONCILED)
        else []
    )
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
        "checklist": checklist,
        # Only an approval that still matches the session lets the office publish.
        "approved_by": status.director if status.current else None,
        "approved_at": _plain(approval.created_at) if approval else None,
        "approval": None
        if approval is None
        else {
            "by": status.director,
            "at": _plain(approval.created_at),
            "digest": approval.digest,
            "current": status.current,
            # What changed since (keys of approvals.PARTS): the approval is void.
            "changed": status.changed,
        },
        "review": review_summary(db, exam),
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


def results(db: Session, exam: ExamSession) -> dict[str, Any]:
    columns, rows = exports.results_rows(db, exam)
    return {"columns": list(columns), "rows": [list(r) for r in rows]}


EXPORTS = exports.EXPORTS


def export_csv(db: Session, exam: ExamSession, what: str) -> bytes:
    """An export as CSV in UTF-8 with a BOM, so Excel opens the Chinese right (DESIGN §11)."""
    header, rows = exports.table(db, exam, what)
    buffer = io.StringIO()
    cells.write_csv(buffer, header, rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


# --- reports ----------------------------------------------------------------------------------

REPORT_LANGUAGES = ("zh", "en")


def report(
    db: Session, exam: ExamSession, *, kind: str, fmt: str, lang: str
) -> tuple[bytes, str, str]:
    """A report's bytes, media type and file name (DESIGN §8). The data is read, then the
    transaction ends before rendering: on SQLite a transaction holds the write lock, and a
    register takes seconds to render while examiners go on marking."""
    if kind not in reporting.KINDS:
        raise NotFound(f"no report {kind!r}; reports are {', '.join(reporting.KINDS)}")
    if lang not in REPORT_LANGUAGES:
        raise MarkingError(f"reports are in {' or '.join(REPORT_LANGUAGES)}, not {lang!r}")
    fmt = reporting.infer_format(kind, None, fmt)
    data = reportdata.gather(db, exam, kind)
    name = f"{exam.code}-{kind}.{fmt}"
    db.rollback()
    return reporting.produce(kind, data, fmt=fmt, lang=lang), reporting.MEDIA_TYPES[fmt], name


# --- accounts ---------------------------------------------------------------------------------


def account_dict(a: Account) -> dict[str, Any]:
    return {
        "username": a.username,
        "name": a.name,
        "role": a.role.value,
        "active": a.active,
        "created_at": a.created_at.isoformat(),
    }


def accounts(db: Session) -> list[dict[str, Any]]:
    return [account_dict(a) for a in db.scalars(select(Account).order_by(Account.username))]


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise MarkingError(f"role {role!r} is not one of office, director, lead, admin") from None


def add_account(
    db: Session, admin: Account, username: str, role: str, name: str, password: str
) -> dict[str, Any]:
    """A lead account at once; a director, office or admin account as a request that a
    second admin approves (marking/people/account_requests.py). ``pending`` says which."""
    done = account_requests.create_account(
        db, admin, username, role=_role(role), name=name, password=password
    )
    if done.account is None:
        return {**request_dict(db, done.pending[0]), "pending": True}
    return {**account_dict(done.account), "pending": False}


def update_account(
    db: Session,
    admin: Account,
    username: str,
    *,
    password: str | None,
    active: bool | None,
    role: str | None = None,
) -> dict[str, Any]:
    """Changes done at once, and the requests left for a second admin (``pending``)."""
    done = account_requests.update_account(
        db,
        admin,
        username,
        role=_role(role) if role else None,
        password=password or None,
        active=active,
    )
    account = done.account
    assert account is not None
    # The engine ends every login and token when a password or a disabling takes effect.
    return {**account_dict(account), "pending": [request_dict(db, r) for r in done.pending]}


def request_dict(db: Session, r: AccountRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "username": r.username,
        "change": account_requests.change_of(r),
        "role": r.role.value if r.role else None,
        "name": r.name,
        "requested_by": account_requests.requester(db, r),
        "requested_at": _plain(r.created_at),
        "decision": r.decision.value if r.decision else None,
        # What happened to the account since: the second admin decides on it as it is.
        "changed_since": account_requests.changes_since(db, r),
    }


def account_requests_open(db: Session) -> list[dict[str, Any]]:
    return [request_dict(db, r) for r in account_requests.open_requests(db)]


def decide_account_request(
    db: Session, admin: Account, request_id: int, *, approve: bool
) -> dict[str, Any]:
    request = account_requests.decide(db, admin, request_id, approve=approve)
    return request_dict(db, request)


def tokens(db: Session, account: Account) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "name": t.name,
            "created_at": t.created_at.isoformat(),
            "last_used_at": _plain(t.last_used_at),
            "revoked": t.revoked_at is not None,
        }
        for t in db.scalars(
            select(ApiToken).where(ApiToken.account_id == account.id).order_by(ApiToken.id)
        )
    ]


def revoke_token(db: Session, account: Account, token_id: int) -> dict[str, Any]:
    from marking.errors import NotFound

    token = db.get(ApiToken, token_id)
    if token is None or token.account_id != account.id:
        raise NotFound(f"no token {token_id} of yours")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    db.flush()
    return {"id": token_id, "revoked": True}
