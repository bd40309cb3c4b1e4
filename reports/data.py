"""The plain data reports are made from: no database, no ORM, picklable for worker processes.

``marking.read.reportdata`` fills these from the database; tests and benchmarks build them
directly. Scores are strings exactly as published ("73.5"), never recomputed here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

OUTCOMES = ("pass", "fail", "void", "absent")


@dataclass(frozen=True)
class SessionInfo:
    code: str
    occupation: str
    occupation_code: str
    level: int
    date: str  # ISO date
    station: str
    time_zone: str = "Asia/Shanghai"  # every time a report prints is in it (IANA name)

    def local(self, moment: dt.datetime | str) -> dt.datetime:
        """``moment`` (aware, or ISO text with an offset) as the session's wall-clock time,
        naive: what a page prints and a spreadsheet stores as a date (Excel has no zones)."""
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment)
        return moment.astimezone(ZoneInfo(self.time_zone)).replace(tzinfo=None)


@dataclass(frozen=True)
class ComponentInfo:
    key: str
    name: str


@dataclass(frozen=True)
class CandidateRow:
    """One published result. ``scores`` follow ``Register.components``; None = absent."""

    exam_no: str
    name: str
    id_number: str
    institution: str
    outcome: str
    scores: tuple[str | None, ...]
    interview: str | None = None


@dataclass(frozen=True)
class GroupAttribution:
    """Who marked a marking group (R3) and who approved its scheme (R5), and when."""

    key: str
    name: str
    markers: tuple[str, ...]  # "姓名 (username)", everyone with an effective mark
    third_markers: tuple[str, ...]
    arbitrators: tuple[str, ...]
    scheme_approved_by: str
    scheme_approved_at: str
    first_mark_at: str
    last_mark_at: str
    marks: int
    correctors: tuple[str, ...] = ()  # who recorded a correction of a mark (R6)


@dataclass(frozen=True)
class PublicationInfo:
    """The tally (R3) and the approval (R16) and the digests that pin the results (§7)."""

    published_by: str
    approved_by: str
    published_at: str  # ISO timestamp in the session's time zone, with its offset
    results_sha256: str
    ledger_head: str
    candidates: int
    revision: int = 1  # 1: the session's publication; 2, 3, ...: an appeal revision (复核)
    reason: str = ""  # an appeal revision's reason


@dataclass(frozen=True)
class Register:
    """Everything a score register, a notice or a pass list shows."""

    session: SessionInfo
    components: tuple[ComponentInfo, ...]
    has_interview: bool
    rows: tuple[CandidateRow, ...]
    groups: tuple[GroupAttribution, ...]
    publication: PublicationInfo
    lead: str = ""


# --- statistics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionMarks:
    """Every effective examiner mark on one question's responses, in thousandths.

    ``response`` indexes into the question's responses (0..n-1); ``final`` and
    ``rule`` are per response. No script code and no candidate: only what the lead
    needs to judge the marking.
    """

    component: str
    number: str
    group: str
    max_milli: int
    step_milli: int
    response: tuple[int, ...]
    examiner: tuple[str, ...]
    kind: tuple[str, ...]  # double | third
    value: tuple[int, ...]
    final: tuple[int | None, ...]
    rule: tuple[str | None, ...]


@dataclass(frozen=True)
class ItemScores:
    """After publication: per script of a component, each question's final (thousandths)."""

    component: str
    numbers: tuple[str, ...]
    max_milli: tuple[int, ...]
    finals: tuple[tuple[int, ...], ...]  # one tuple per script, questions in paper order


@dataclass(frozen=True)
class MonitoredExaminer:
    """One examiner's quality figures on one group (DESIGN §13, ``export monitoring``):
    shares as fractions, severity in marks, None where there is nothing to measure."""

    examiner: str  # display name
    status: str  # active | qualifying | suspended
    marks: int
    median_seconds: float | None
    severity: float | None
    exact: float | None
    adjacent: float | None
    qwk: float | None
    seed_marks: int
    seed_within: float | None
    remarks: int
    consistency: float | None
    third_rate: float | None
    alarms: tuple[str, ...]  # seeds_off | seed_bias
    bands: tuple[int, ...]  # their marks per tenth of the question's maximum


@dataclass(frozen=True)
class MonitoredGroup:
    name: str
    bands: tuple[int, ...]  # the whole group's marks per tenth
    examiners: tuple[MonitoredExaminer, ...]


@dataclass(frozen=True)
class StatsInput:
    session: SessionInfo
    state: str
    components: tuple[ComponentInfo, ...]
    groups: tuple[tuple[str, str], ...]  # (key, name)
    questions: tuple[QuestionMarks, ...]
    published: bool = False
    has_interview: bool = False
    results: tuple[CandidateRow, ...] = field(default_factory=tuple)
    items: tuple[ItemScores, ...] = field(default_factory=tuple)
    publication: PublicationInfo | None = None
    monitoring: tuple[MonitoredGroup, ...] = field(default_factory=tuple)
