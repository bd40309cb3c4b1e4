"""The sealed violation and interview records, checked when publication unseals them
(DESIGN §3, §14): every exam number must be a candidate of a batch not withdrawn; every
interview score must come from a panel member who may sit (R7, 第七条(九); R9, R11) and
who declared no conflict with the candidate (R10, 第七条(四)), once per candidate; and a
level 1-2 session needs, for every candidate, panel scores or a record of absence. Each
problem names the record to withdraw (or what to enter), so none wedges the session."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from marking.errors import MarkingError, Refusals
from marking.intake.panel import panel_accounts, panel_problem
from marking.publication.preconditions import PublicationRefused
from marking.publication.unsealing import Candidate
from marking.store.models import ExamSession

#: How many exam numbers a refusal lists before it says "and N more".
LISTED = 50


class PublicationRefusals(Refusals, PublicationRefused):
    """Publication refused for several coded reasons at once; nothing was published."""


@dataclass
class CheckedRecords:
    """What the records decide: exam numbers voided, each candidate's panel scores (member,
    score in milli), and the candidates recorded absent from the interview."""

    voided: set[str] = field(default_factory=set)
    panels: dict[str, list[tuple[str, int]]] = field(default_factory=lambda: defaultdict(list))
    absent: set[str] = field(default_factory=set)


def _unknown(kind: str, item: dict[str, Any]) -> MarkingError:
    """A record's row naming an exam number of no batch not withdrawn: withdraw the record."""
    where = {"record": item["record"], "row": item["row"], "exam_no": item["exam_no"]}
    if kind == "violations":
        return MarkingError.coded(
            "unknown_in_violations",
            "violations record %(record)s, row %(row)s: exam number %(exam_no)s is in no "
            "batch; withdraw record %(record)s (the session's records) and enter it again",
            **where,
        )
    if kind == "interview":
        return MarkingError.coded(
            "unknown_in_interview",
            "interview record %(record)s, row %(row)s: exam number %(exam_no)s is in no "
            "batch; withdraw record %(record)s (the session's records) and enter it again",
            **where,
        )
    return MarkingError.coded(
        "unknown_in_absences",
        "interview absence record %(record)s, row %(row)s: exam number %(exam_no)s is in no "
        "batch; withdraw record %(record)s (the session's records) and enter it again",
        **where,
    )


def check_records(
    db: Session,
    exam: ExamSession,
    roster: list[Candidate],
    *,
    violations: list[dict[str, Any]],
    interviews: list[dict[str, Any]],
    absences: list[dict[str, Any]],
    conflicts: list[dict[str, Any]],
) -> CheckedRecords:
    """The records' verdicts; raises PublicationRefusals listing every problem."""
    by_exam_no = {c.exam_no: c for c in roster}
    out = CheckedRecords()
    problems: list[MarkingError] = []
    for v in violations:
        if v["exam_no"] not in by_exam_no:
            problems.append(_unknown("violations", v))
        elif v["action"] in ("void", "terminated"):
            out.voided.add(v["exam_no"])
    for a in absences:
        if a["exam_no"] not in by_exam_no:
            problems.append(_unknown("absences", a))
        else:
            out.absent.add(a["exam_no"])
    problems += _panels(db, exam, by_exam_no, interviews, conflicts, out)
    if exam.level <= 2:
        problems += _completeness(roster, out)
    if problems:
        raise PublicationRefusals(
            "publication refused: the violation and interview records need attention",
            problems,
            code="records_refused",
        )
    return out


def _panels(
    db: Session,
    exam: ExamSession,
    by_exam_no: dict[str, Candidate],
    interviews: list[dict[str, Any]],
    conflicts: list[dict[str, Any]],
    out: CheckedRecords,
) -> list[MarkingError]:
    """Each score's member checked (qualification, conflicts, once per candidate)."""
    accounts = panel_accounts(db, {s["username"] for s in interviews})
    declared = {(c["examiner"], c["id_number"].strip().upper()): c["relation"] for c in conflicts}
    seen: dict[tuple[str, str], int] = {}
    problems: list[MarkingError] = []
    for s in interviews:
        candidate = by_exam_no.get(s["exam_no"])
        if candidate is None:
            problems.append(_unknown("interview", s))
            continue
        member, record = s["username"], s["record"]
        refused = panel_problem(exam, accounts.get(member), member)
        relation = declared.get((member, candidate.id_number.strip().upper()))
        twice = seen.setdefault((member, s["exam_no"]), record)
        if refused is not None:
            problems.append(
                MarkingError.coded(
                    "panel_member_refused",
                    "interview record %(record)s, candidate %(exam_no)s: %(problem)s; withdraw "
                    "record %(record)s and have a member who may sit score the candidate",
                    record=record,
                    exam_no=s["exam_no"],
                    problem=refused,  # worded in the reader's language on screen
                )
            )
        elif relation is not None:
            problems.append(
                MarkingError.coded(
                    "panel_conflict",
                    "interview record %(record)s: panel member %(member)s declared a conflict "
                    "(%(relation)s) with candidate %(exam_no)s (R10); withdraw record "
                    "%(record)s and have another member score the candidate",
                    record=record,
                    member=member,
                    relation=relation,
                    exam_no=s["exam_no"],
                )
            )
        elif twice != record:
            problems.append(
                MarkingError.coded(
                    "panel_twice",
                    "panel member %(member)s scored candidate %(exam_no)s twice (records "
                    "%(first)s and %(record)s); withdraw one of them",
                    member=member,
                    exam_no=s["exam_no"],
                    first=twice,
                    record=record,
                )
            )
        else:
            out.panels[s["exam_no"]].append((member, int(Decimal(s["score"]) * 1000)))
    return problems


def _completeness(roster: list[Candidate], out: CheckedRecords) -> list[MarkingError]:
    """A level 1-2 candidate needs panel scores or a record of absence, not both (R7)."""
    problems: list[MarkingError] = []
    both = sorted(no for no in out.absent if out.panels.get(no))
    if both:
        problems.append(
            MarkingError.coded(
                "interview_both",
                "recorded absent from the interview yet scored by the panel: %(exam_nos)s; "
                "withdraw the absence or the scores",
                exam_nos=_listed(both),
            )
        )
    missing = sorted(
        c.exam_no for c in roster if not out.panels.get(c.exam_no) and c.exam_no not in out.absent
    )
    if missing:
        problems.append(
            MarkingError.coded(
                "interview_missing",
                "%(n)s candidate(s) have no interview panel scores (R7): %(exam_nos)s; enter "
                "their panel's scores, or record them absent from the interview",
                n=len(missing),
                exam_nos=_listed(missing),
            )
        )
    return problems


def _listed(exam_nos: list[str]) -> str:
    shown = ", ".join(exam_nos[:LISTED])
    more = len(exam_nos) - LISTED
    return f"{shown} (and {more} more)" if more > 0 else shown
