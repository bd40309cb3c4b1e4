"""What a session definition is: question types, groups, questions, components, the session."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class QuestionType(StrEnum):
    """A question's type: the first four are scored from the key, the rest by examiners."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    TRUE_FALSE = "true_false"
    FILL_BLANK = "fill_blank"
    SHORT_ANSWER = "short_answer"
    CALCULATION = "calculation"
    ESSAY = "essay"
    CASE_ANALYSIS = "case_analysis"
    PRACTICAL = "practical"

    @property
    def is_objective(self) -> bool:
        return self in _OBJECTIVE

    @property
    def label(self) -> str:
        """The type's usual Chinese name, e.g. 简答题."""
        return TYPE_NAMES[self]


_OBJECTIVE = frozenset(
    {
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.TRUE_FALSE,
        QuestionType.FILL_BLANK,
    }
)

TYPE_NAMES: Mapping[QuestionType, str] = {
    QuestionType.SINGLE_CHOICE: "单项选择题",
    QuestionType.MULTIPLE_CHOICE: "多项选择题",
    QuestionType.TRUE_FALSE: "判断题",
    QuestionType.FILL_BLANK: "填空题",
    QuestionType.SHORT_ANSWER: "简答题",
    QuestionType.CALCULATION: "计算题",
    QuestionType.ESSAY: "论述题",
    QuestionType.CASE_ANALYSIS: "案例分析题",
    QuestionType.PRACTICAL: "实操题",
}


DEFAULT_MAX_HELD = 20
#: Where a session sits, unless its [session] says ``time_zone``: every date and time a person
#: reads (screens, reports, spreadsheets) is in it (issue 14, R1); the database keeps UTC.
DEFAULT_TIME_ZONE = "Asia/Shanghai"
MAX_HELD_LIMIT = 100  # a claim takes at most 100 (queue.MAX_BATCH); holding more is hoarding

# Quality control while marking (DESIGN §13). Rates are shares of the responses handed to
# one examiner in one group: a seed in every 1/seed_rate, a 回评 in every 1/remark_rate.
DEFAULT_SEED_RATE = Decimal("0.05")  # one in 20
DEFAULT_REMARK_RATE = Decimal("0.01")  # 回评: at least 1 % of an examiner's work
MAX_CHECK_RATE = Decimal("0.5")  # more would be checking, not marking
MIN_REMARK_RATE = Decimal("0.01")  # 回评 is at least 1 % where it is on at all
MAX_QUALIFICATION_SIZE = 50


@dataclass(frozen=True, slots=True)
class QualificationDef:
    """A group's standardisation set (R5): ``size`` responses with the lead's definitive
    marks; an examiner qualifies with at least ``within`` of them within tolerance."""

    size: int
    within: Decimal


# Hints for the printed answer sheets (DESIGN §12; marking.paper.layout follows them).
DEFAULT_EXAM_NUMBER_DIGITS = 10
MAX_EXAM_NUMBER_DIGITS = 14  # the header's bubble grid leaves the name and ID areas their width
MAX_LINES_HINT = 100  # a box never exceeds a page (about 27 lines): more is capped there
MAX_OPTIONS = 26  # A-Z


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A marking group: examiners are assigned to it and mark only its questions."""

    key: str
    name: str
    marks_required: int
    # The most responses of the group one examiner may hold at once (DESIGN §4: fairness).
    max_held: int = DEFAULT_MAX_HELD
    qualification: QualificationDef | None = None
    seed_rate: Decimal = DEFAULT_SEED_RATE  # 0: no seeds
    remark_rate: Decimal = DEFAULT_REMARK_RATE  # 0: no 回评


@dataclass(frozen=True, slots=True)
class QuestionDef:
    """One question of a component.

    ``group`` is the resolved marking group for subjective questions and None for
    objective ones; ``tolerance`` is None for objective questions (no examiner marks
    them); ``answer`` is the normalised key of an objective question (one entry, or the
    accepted alternatives of a fill-in) and None for subjective ones.
    """

    number: str
    bank_item: str
    type: QuestionType
    max: Decimal
    step: Decimal
    tolerance: Decimal | None
    group: str | None
    reference: str
    scheme: str
    answer: tuple[str, ...] | None
    # Sheet hints: writing lines of an examiner-marked question's answer box, options of a
    # choice question; None for the layout's default.
    lines: int | None = None
    options: int | None = None
    # The question as printed on the paper (题干), shown to examiners above the response.
    text: str = ""

    @property
    def is_objective(self) -> bool:
        return self.type.is_objective


@dataclass(frozen=True, slots=True)
class ComponentDef:
    """A scored component of the session (theory or skills) and its questions, in order."""

    key: str
    name: str
    questions: tuple[QuestionDef, ...]

    @property
    def max_total(self) -> Decimal:
        return sum((q.max for q in self.questions), Decimal(0))


@dataclass(frozen=True, slots=True)
class SessionDef:
    """A whole session definition: declared groups first, then implicit ones by first use."""

    code: str
    occupation: str
    occupation_code: str
    level: int
    date: dt.date
    station: str
    groups: tuple[GroupDef, ...]
    components: tuple[ComponentDef, ...]
    exam_number_digits: int = DEFAULT_EXAM_NUMBER_DIGITS  # [paper]: the header's bubble grid
    time_zone: str = DEFAULT_TIME_ZONE  # an IANA name, as zoneinfo knows it

    @property
    def has_interview(self) -> bool:
        """Technician and senior-technician sessions (levels 2 and 1) add an interview."""
        return self.level <= 2
