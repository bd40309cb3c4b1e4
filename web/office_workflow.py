"""The office's way through a session, step by step in order (definition → key → roster and
scans → examiners → assignment → marking → approval → publication → reports): each step's
state (done, the current one, waiting) with its counts and where it is done.

Counts only: nothing here names a candidate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for
from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.store.models import Account, Assignment, ExamSession, Role, SessionState

_: Callable[..., str] = gettext

_AFTER_MARKING = (SessionState.RECONCILED, SessionState.PUBLISHED)


def short_groups(progress: dict[str, Any]) -> list[dict[str, Any]]:
    """Groups with fewer examiners than marks required per response (R3: N ≥ 2 markers)."""
    return [g for g in progress["groups"] if g["examiners"] < g["marks_required"]]


def _examiners(db: Session, exam: ExamSession) -> tuple[int, int]:
    """Examiner accounts in the register, and those of this session without a password."""
    registered = db.scalar(
        select(func.count()).select_from(Account).where(Account.role == Role.EXAMINER)
    )
    no_password = db.scalar(
        select(func.count(func.distinct(Account.id)))
        .join(Assignment, Assignment.examiner_id == Account.id)
        .where(Assignment.session_id == exam.id, Account.password_hash.is_(None))
    )
    return registered or 0, no_password or 0


Step = tuple[str, str, bool, str, str | None, str]  # key, name, done, detail, url, link


def steps(
    db: Session,
    exam: ExamSession,
    *,
    progress: dict[str, Any],
    scan_open: int,
    publication: dict[str, Any],
) -> list[dict[str, Any]]:
    """The steps in order, each ``{"key", "name", "done", "state", "detail", "url", "link"}``;
    the first step not done is ``current``, later ones not done are ``waiting``."""
    approver = publication.get("approved_by")
    if approver:  # shown by name, the username beside it
        account = db.scalar(select(Account).where(Account.username == approver))
        approver = f"{account.name} ({approver})" if account is not None else approver
    rows = [
        *_setting_up(db, exam, progress, scan_open),
        *_marking_to_reports(exam, progress, approver),
    ]
    out: list[dict[str, Any]] = []
    current_seen = False
    for key, name, done, detail, url, link in rows:
        if done:
            state = "done"
        elif not current_seen:
            state, current_seen = "current", True
        else:
            state = "waiting"
        out.append(
            {"key": key, "name": name, "done": done, "state": state, "detail": detail,
             "url": url, "link": link}
        )  # fmt: skip
    return out


def _setting_up(
    db: Session, exam: ExamSession, progress: dict[str, Any], scan_open: int
) -> list[Step]:
    """Definition, key, roster and scans, examiners, assignment."""
    code = exam.code
    here = url_for("office.session", code=code)
    groups = progress["groups"]
    registered, no_password = _examiners(db, exam)
    staffed = len(groups) - len(short_groups(progress))
    questions = sum(len(c.questions) for c in exam.components)
    return [
        (
            "definition",
            _("Session definition"),
            True,
            _(
                "%(c)d component(s), %(q)d question(s), %(g)d marking group(s)",
                c=len(exam.components),
                q=questions,
                g=len(groups),
            ),
            url_for("api.session_export", code=code, what="paper"),
            _("The paper (CSV)"),
        ),
        (
            "key",
            _("Session key"),
            exam.public_key is not None,
            _("made") if exam.public_key is not None else _("not made yet"),
            here + "#custody",
            _("Key custody"),
        ),
        (
            "intake",
            _("Roster and scans"),
            progress["batches"] > 0 and scan_open == 0,
            _(
                "%(b)d batch(es), %(c)d candidate(s); scan batches open: %(s)d",
                b=progress["batches"],
                c=progress["candidates"],
                s=scan_open,
            ),
            here + "#intake",
            _("Intake"),
        ),
        (
            "examiners",
            _("Examiners"),
            registered > 0 and no_password == 0,
            _(
                "%(n)d in the register; assigned here without a password: %(p)d",
                n=registered,
                p=no_password,
            ),
            url_for("office.examiners"),
            _("Examiner register"),
        ),
        (
            "assignment",
            _("Assignment"),
            bool(groups) and staffed == len(groups) and exam.lead_id is not None,
            _(
                "groups with enough examiners: %(a)d of %(g)d; lead examiner: %(l)s",
                a=staffed,
                g=len(groups),
                l=_("named") if exam.lead_id is not None else _("not named yet"),
            ),
            here + "#assignment",
            _("Assignment"),
        ),
    ]


def _marking_to_reports(
    exam: ExamSession, progress: dict[str, Any], approver: str | None
) -> list[Step]:
    """Marking, the director's approval, publication, results and reports."""
    code = exam.code
    groups = progress["groups"]
    published = exam.state is SessionState.PUBLISHED
    responses = sum(g["responses"] for g in groups)
    final = sum(g["final"] for g in groups)
    marked = exam.state in _AFTER_MARKING or (
        exam.state is SessionState.MARKING and final == responses and responses > 0
    )
    return [
        (
            "marking",
            _("Marking"),
            marked,
            _(
                "schemes approved: %(a)d of %(g)d; final responses: %(f)d of %(r)d",
                a=sum(1 for g in groups if g["approved"]),
                g=len(groups),
                f=final,
                r=responses,
            ),
            url_for("office.session", code=code) + "#progress",
            _("Live progress"),
        ),
        (
            "approval",
            _("Director's approval"),
            published or approver is not None,
            _("approved by %(d)s", d=approver) if approver else _("waiting for a director"),
            url_for("office.publication", code=code),
            _("Checklist and approval"),
        ),
        (
            "publication",
            _("Publication"),
            published,
            _("published") if published else _("not published yet"),
            url_for("office.publication", code=code),
            _("Go to publication"),
        ),
        (
            "reports",
            _("Results and reports"),
            False,
            _("ready to print") if published else _("after publication"),
            url_for("office.results", code=code) if published else None,
            _("Results"),
        ),
    ]


def group_members(db: Session, exam: ExamSession) -> dict[str, list[dict[str, Any]]]:
    """Each group's examiners by key: username, name, suspended, and whether the office may
    still take them off (before marking, nothing started on the group)."""
    early = exam.state in (SessionState.DRAFT, SessionState.INTAKE)
    keys = {g.id: g.key for g in exam.groups}
    members: dict[str, list[dict[str, Any]]] = {key: [] for key in keys.values()}
    rows = db.execute(
        select(Assignment, Account)
        .join(Account, Account.id == Assignment.examiner_id)
        .where(Assignment.session_id == exam.id)
        .order_by(Account.username)
    )
    for assignment, account in rows:
        members[keys[assignment.group_id]].append(
            {
                "username": account.username,
                "name": account.name,
                "suspended": assignment.suspended_at is not None,
                "removable": early and assignment.qualified_at is None and not assignment.handed,
            }
        )
    return members
