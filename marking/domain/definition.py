"""Parse and validate a session definition (``session.toml``) into frozen dataclasses.

Numbers are read with ``tomllib``'s ``parse_float=Decimal``, so ``0.5`` in the file is
``Decimal("0.5")`` exactly and never passes through a binary float. Every problem in
the file is collected and reported at once (InputErrors), each located by a path such
as ``components[1].questions[3] (question 41)``; indexes count from 1, in the order
the entries appear in the file, as a person reading it would count them.

The answer-key forms (what "B", "ACD", "对" or a fill-in text mean) are defined here,
once, and ``marking.domain.objective`` scores responses with the same functions.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from marking.domain.rules import MarkRefused, parse_mark
from marking.errors import InputError, InputErrors

__all__ = [
    "TYPE_NAMES",
    "ComponentDef",
    "GroupDef",
    "QuestionDef",
    "QuestionType",
    "SessionDef",
    "load_session_definition",
    "multiple_choice_letters",
    "normalise_fill_blank",
    "normalise_single_choice",
    "normalise_true_false",
    "parse_session_definition",
]


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
MAX_HELD_LIMIT = 100  # a claim takes at most 100 (queue.MAX_BATCH); holding more is hoarding


@dataclass(frozen=True, slots=True)
class GroupDef:
    """A marking group: examiners are assigned to it and mark only its questions."""

    key: str
    name: str
    marks_required: int
    # The most responses of the group one examiner may hold at once (DESIGN §4: fairness).
    max_held: int = DEFAULT_MAX_HELD


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

    @property
    def has_interview(self) -> bool:
        """Technician and senior-technician sessions (levels 2 and 1) add an interview."""
        return self.level <= 2


# --- answer forms -----------------------------------------------------------------------

# After NFKC (full-width ， ； become , ;, the ideographic space a space); 、 has no
# compatibility form and is listed itself.
_CHOICE_SEPARATORS = str.maketrans("", "", " \t\r\n,;、")

_TRUE_FALSE = {
    **dict.fromkeys(("t", "true", "对", "正确", "√", "✓", "✔"), "T"),
    **dict.fromkeys(("f", "false", "错", "错误", "×", "✗", "✘"), "F"),
}


def normalise_single_choice(text: str) -> str | None:
    """One choice letter, upper case (``" ｂ "`` -> ``"B"``), or None if it is not one."""
    letter = unicodedata.normalize("NFKC", text).strip().upper()
    if len(letter) == 1 and "A" <= letter <= "Z":
        return letter
    return None


def multiple_choice_letters(text: str) -> str | None:
    """The letters of a multiple-choice answer as written, upper case, separators dropped.

    ``"a, c、D"`` -> ``"ACD"``; repeats are kept (the caller decides what they mean);
    None when anything but letters A-Z and separators is left, or nothing is.
    """
    letters = unicodedata.normalize("NFKC", text).upper().translate(_CHOICE_SEPARATORS)
    if letters and letters.isascii() and letters.isalpha():
        return letters
    return None


def normalise_true_false(text: str) -> str | None:
    """``"T"`` or ``"F"`` for any accepted spelling (T/F, 对/错, √/×, true/false, ...)."""
    return _TRUE_FALSE.get(unicodedata.normalize("NFKC", text).strip().casefold())


def normalise_fill_blank(text: str) -> str:
    """Fill-in text as compared: NFKC (full-width to half-width), surrounding spaces off."""
    return unicodedata.normalize("NFKC", text).strip()


# --- parsing ----------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.-]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOML_POSITION = re.compile(r"^(?P<reason>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")
_MARK_LIMIT = Decimal(1000)  # no question is worth more; bounds Decimal arithmetic too
# A mark-like number refused by rules.parse_mark, as a session definition's problem.
_NUMBER_PROBLEMS = {
    "not_decimal": "must be a finite number",
    "negative": "must be greater than 0",
    "too_fine": "must be a multiple of 0.001 (marks are kept in thousandths), "
    "written with at most three decimals",
    "too_long": f"must be at most {_MARK_LIMIT}",
    "above_max": f"must be at most {_MARK_LIMIT}",
}
_MAX_PROBLEMS = 200

_TOP_KEYS = ("session", "groups", "components")
_SESSION_KEYS = ("code", "occupation", "occupation_code", "level", "date", "station")
_GROUP_KEYS = ("key", "name", "marks_required", "max_held")
_COMPONENT_KEYS = ("key", "name", "questions")
_QUESTION_KEYS = (
    "number",
    "bank_item",
    "type",
    "max",
    "step",
    "tolerance",
    "group",
    "reference",
    "scheme",
    "answer",
)
_COMPONENT_NAMES = {"theory": "理论知识", "skills": "操作技能"}
_DEFAULT_MARKS_REQUIRED = 2


def load_session_definition(path: Path) -> SessionDef:
    """Read and validate a ``session.toml`` file.

    Raises InputError when the file cannot be read, is not UTF-8 or is not valid TOML
    (naming the line), and InputErrors listing every rule the definition breaks.
    """
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(file, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            file, "not UTF-8 text; save the file as UTF-8", row=f"line {line}"
        ) from exc
    return parse_session_definition(text, file=file)


def parse_session_definition(text: str, *, file: str = "session.toml") -> SessionDef:
    """Validate the text of a session definition; see ``load_session_definition``."""
    try:
        # Editors on Windows like to start UTF-8 files with a byte-order mark, which
        # TOML does not allow.
        document = tomllib.loads(text.removeprefix("\ufeff"), parse_float=Decimal)
    except RecursionError:
        # tomllib recurses once per level of nested arrays or inline tables.
        raise InputError(
            file, "not a session definition: arrays or tables nested too deeply"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.match(message)
        if position is None:
            raise InputError(file, f"not valid TOML: {message}") from exc
        raise InputError(
            file,
            f"not valid TOML: {position['reason']}",
            row=f"line {position['line']}",
            column=position["column"],
        ) from exc
    return _Parser(file).session(document)


def parse_answer(kind: QuestionType, answer: Sequence[str]) -> tuple[str, ...]:
    """Normalise a corrected key given on the command line or a form, by the TOML's rules.

    Raises InputErrors naming the problem (an objective type only).
    """
    parser = _Parser("key correction")
    value: object = list(answer) if kind is QuestionType.FILL_BLANK else "".join(answer)
    result = parser.answer({"answer": value}, "answer", kind)
    if parser.problems or result is None:
        raise InputErrors(parser.problems)
    return result


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dt.date | dt.time):
        return "a date or time"
    return type(value).__name__  # pragma: no cover - tomllib produces nothing else


def _show(value: Decimal) -> str:
    return format(value, "f")


@dataclass(slots=True)
class _Draft:
    """A question as far as it could be validated, with what group resolution needs."""

    number: str
    bank_item: str
    type: QuestionType | None
    max: Decimal | None
    step: Decimal | None
    tolerance: Decimal | None
    group: str | None
    reference: str
    scheme: str
    answer: tuple[str, ...] | None


class _Parser:
    """Walks the TOML document once, collecting every problem before raising."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[InputError] = []

    def problem(self, where: str, column: str | None, reason: str) -> None:
        self.problems.append(InputError(self.file, reason, row=where, column=column))

    # --- whole document ---

    def session(self, document: dict[str, Any]) -> SessionDef:
        self.unknown_keys("(top level)", document, _TOP_KEYS)
        head = self.table(document, "session", "(top level)")
        # Without the table, listing each of its fields as missing would say nothing more.
        fields = self.session_fields(head) if head is not None else None

        declared = self.groups(document)
        components = self.components(document, declared)
        groups = self.resolve_groups(components, declared)

        if self.problems:
            truncated = len(self.problems) > _MAX_PROBLEMS
            raise InputErrors(self.problems[:_MAX_PROBLEMS], truncated=truncated)
        assert fields is not None
        code, occupation, occupation_code, level, date, station = fields
        return SessionDef(
            code=code,
            occupation=occupation,
            occupation_code=occupation_code,
            level=level,
            date=date,
            station=station,
            groups=groups,
            components=tuple(
                ComponentDef(key or "", name or "", tuple(_finish(d) for d in drafts))
                for key, name, drafts in components
            ),
        )

    def session_fields(
        self, head: Mapping[str, Any]
    ) -> tuple[str, str, str, int, dt.date, str] | None:
        """The [session] fields, or None when any is wrong (each problem is recorded)."""
        self.unknown_keys("session", head, _SESSION_KEYS)
        code = self.text(head, "session", "code")
        if code is not None and not _IDENTIFIER.fullmatch(code):
            self.problem("session", "code", "may hold only letters, digits, '.', '_' and '-'")
            code = None
        occupation = self.text(head, "session", "occupation")
        occupation_code = self.text(head, "session", "occupation_code")
        if occupation_code is not None and not _IDENTIFIER.fullmatch(occupation_code):
            # Examiner scopes are written "occupation_code:level;..."
            self.problem(
                "session",
                "occupation_code",
                "may hold only letters, digits, '.', '_' and '-' (such as 6-31-01-03)",
            )
            occupation_code = None
        level = self.integer(head, "session", "level")
        if level is not None and not 1 <= level <= 5:
            self.problem("session", "level", "must be 1 (senior technician) to 5 (entry)")
            level = None
        date = self.date(head, "session", "date")
        station = self.text(head, "session", "station")
        if (
            code is None
            or occupation is None
            or occupation_code is None
            or level is None
            or date is None
            or station is None
        ):
            return None
        return code, occupation, occupation_code, level, date, station

    def groups(self, document: dict[str, Any]) -> dict[str, tuple[str, GroupDef | None]]:
        """Declared groups by key: where each was declared and its definition if valid."""
        declared: dict[str, tuple[str, GroupDef | None]] = {}
        for index, entry in self.array(document, "groups", "(top level)", "[[groups]]"):
            where = f"groups[{index}]"
            key = self.text(entry, where, "key")
            if key is not None:
                where = f"{where} ({key})"
            self.unknown_keys(where, entry, _GROUP_KEYS)
            if key is not None and not _IDENTIFIER.fullmatch(key):
                # Keys are typed on the command line: blindmark assign --group KEY
                self.problem(where, "key", "may hold only letters, digits, '.', '_' and '-'")
                key = None
            type_name = _subjective_type(key)
            name = self.text(
                entry, where, "name", required=type_name is None, default=type_name or ""
            )
            marks = self.integer(entry, where, "marks_required", default=_DEFAULT_MARKS_REQUIRED)
            if marks is not None and marks < 2:
                self.problem(
                    where, "marks_required", "must be at least 2: every response is double-marked"
                )
                marks = None
            max_held = self.integer(entry, where, "max_held", default=DEFAULT_MAX_HELD)
            if max_held is not None and not 1 <= max_held <= MAX_HELD_LIMIT:
                self.problem(
                    where,
                    "max_held",
                    f"must be 1 to {MAX_HELD_LIMIT}: the most responses one examiner holds at once",
                )
                max_held = None
            if key is None:
                continue
            if key in declared:
                self.problem(
                    where, "key", f"group {key} is declared twice (also {declared[key][0]})"
                )
                continue
            group = (
                None
                if name is None or marks is None or max_held is None
                else GroupDef(key, name, marks, max_held)
            )
            declared[key] = (where, group)
        return declared

    def components(
        self, document: dict[str, Any], declared: Mapping[str, tuple[str, GroupDef | None]]
    ) -> list[tuple[str | None, str | None, list[_Draft]]]:
        """Every component, valid or not (its questions still count as group users)."""
        result: list[tuple[str | None, str | None, list[_Draft]]] = []
        seen_components: dict[str, str] = {}
        bank_items: dict[str, str] = {}
        entries = self.array(document, "components", "(top level)", "[[components]]", required=True)
        if not entries and isinstance(document.get("components"), list):
            self.problem("(top level)", "components", "declare at least one [[components]]")
        for index, entry in entries:
            where = f"components[{index}]"
            self.unknown_keys(where, entry, _COMPONENT_KEYS)
            key = self.text(entry, where, "key")
            if key is not None:
                if key == "interview":
                    self.problem(
                        where,
                        "key",
                        "the interview is not declared: it is added for levels 1-2",
                    )
                    key = None
                elif key not in _COMPONENT_NAMES:
                    self.problem(
                        where, "key", f"unknown component {key!r}; expected theory or skills"
                    )
                    key = None
                elif key in seen_components:
                    self.problem(
                        where,
                        "key",
                        f"component {key} is declared twice (also {seen_components[key]})",
                    )
                    key = None
                else:
                    seen_components[key] = where
            name = self.text(
                entry, where, "name", required=False, default=_COMPONENT_NAMES.get(key or "", "")
            )
            questions = self.array(
                entry, "questions", where, "[[components.questions]]", required=True
            )
            if not questions and isinstance(entry.get("questions"), list):
                self.problem(where, "questions", "a component needs at least one question")
            numbers: dict[str, str] = {}
            drafts = [
                self.question(
                    f"{where}.questions[{q_index}]", q_entry, numbers, bank_items, declared
                )
                for q_index, q_entry in questions
            ]
            result.append((key, name, drafts))
        return result

    def question(
        self,
        where: str,
        entry: dict[str, Any],
        numbers: dict[str, str],
        bank_items: dict[str, str],
        declared: Mapping[str, tuple[str, GroupDef | None]],
    ) -> _Draft:
        number = self.question_number(entry, where)
        if number is not None:
            where = f"{where} (question {number})"
            if number in numbers:
                self.problem(
                    where, "number", f"question {number} appears twice (also {numbers[number]})"
                )
            else:
                numbers[number] = where
        self.unknown_keys(where, entry, _QUESTION_KEYS)

        bank_item = self.bank_item(entry, where)
        if bank_item is not None:
            if bank_item in bank_items:
                self.problem(
                    where,
                    "bank_item",
                    f"bank item {bank_item} is already used by {bank_items[bank_item]}",
                )
            else:
                bank_items[bank_item] = where

        kind = self.question_type(entry, where)
        objective = kind is not None and kind.is_objective
        top = self.mark(entry, where, "max", positive=True)
        # An objective question scores all or nothing, so its natural step is its max
        # (0.5-mark true/false items must not need "step = 0.5" spelled out). With the
        # type unknown there is no default to check against.
        default_step = top if objective else Decimal(1) if kind is not None else None
        step = self.mark(entry, where, "step", positive=True, required=False, default=default_step)
        if top is not None and step is not None and top % step != 0:
            self.problem(where, "step", f"step {_show(step)} does not divide max {_show(top)}")

        tolerance: Decimal | None = None
        group: str | None = None
        answer: tuple[str, ...] | None = None
        if kind is not None and objective:
            for field, why in (
                ("tolerance", "tolerance does not apply"),
                ("group", "it belongs to no marking group"),
            ):
                if field in entry:
                    self.problem(
                        where, field, f"an objective question is scored from its key; {why}"
                    )
            answer = self.answer(entry, where, kind)
        elif kind is not None:
            if "answer" in entry:
                self.problem(
                    where,
                    "answer",
                    "a question marked by examiners has no answer key; "
                    "put the model answer in reference",
                )
            tolerance = self.mark(entry, where, "tolerance", positive=False, required=True)
            if tolerance is not None and top is not None and tolerance > top:
                self.problem(
                    where,
                    "tolerance",
                    f"tolerance {_show(tolerance)} is larger than max {_show(top)}",
                )
            group = self.question_group(entry, where, kind, declared)

        reference = self.text(entry, where, "reference", required=False, default="", strip=False)
        scheme = self.text(entry, where, "scheme", required=False, default="", strip=False)
        return _Draft(
            number=number or "",
            bank_item=bank_item or "",
            type=kind,
            max=top,
            step=step,
            tolerance=tolerance,
            group=group,
            reference=reference or "",
            scheme=scheme or "",
            answer=answer,
        )

    def resolve_groups(
        self,
        components: Sequence[tuple[str | None, str | None, list[_Draft]]],
        declared: Mapping[str, tuple[str, GroupDef | None]],
    ) -> tuple[GroupDef, ...]:
        """Declared groups in file order, then implicit per-type groups by first use."""
        used: set[str] = set()
        implicit: dict[str, GroupDef] = {}
        for _key, _name, drafts in components:
            for draft in drafts:
                if draft.group is None:
                    continue
                used.add(draft.group)
                if draft.group not in declared:
                    # Only a question without a group field gets here: its type's group.
                    kind = QuestionType(draft.group)
                    implicit.setdefault(
                        draft.group, GroupDef(draft.group, kind.label, _DEFAULT_MARKS_REQUIRED)
                    )
        for key, (where, _group) in declared.items():
            if key not in used:
                self.problem(where, None, "group has no questions")
        defined = [group for _where, group in declared.values() if group is not None]
        return (*defined, *implicit.values())

    # --- fields ---

    def question_number(self, entry: Mapping[str, Any], where: str) -> str | None:
        if "number" not in entry:
            self.problem(where, "number", "missing (required)")
            return None
        value = entry["number"]
        # number = 41 (a TOML integer) is read as "41", as the responses file has it.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if not isinstance(value, str):
            self.problem(where, "number", f'must be text such as "41", not {_kind(value)}')
            return None
        number = value.strip()
        if not number:
            self.problem(where, "number", "must not be empty")
            return None
        return number

    def bank_item(self, entry: Mapping[str, Any], where: str) -> str | None:
        value = entry.get("bank_item")
        if value is not None and not isinstance(value, str):
            self.problem(where, "bank_item", f"must be text, not {_kind(value)}")
            return None
        if value is None or not value.strip():
            self.problem(
                where,
                "bank_item",
                "question without bank item: questions must come from the provincial bank",
            )
            return None
        return value.strip()

    def question_type(self, entry: Mapping[str, Any], where: str) -> QuestionType | None:
        value = self.text(entry, where, "type")
        if value is None:
            return None
        try:
            return QuestionType(value)
        except ValueError:
            expected = ", ".join(QuestionType)
            self.problem(
                where, "type", f"unknown question type {value!r}; expected one of {expected}"
            )
            return None

    def question_group(
        self,
        entry: Mapping[str, Any],
        where: str,
        kind: QuestionType,
        declared: Mapping[str, tuple[str, GroupDef | None]],
    ) -> str | None:
        if "group" not in entry:
            return kind.value
        name = self.text(entry, where, "group")
        if name is None:
            return None
        if name not in declared:
            self.problem(
                where,
                "group",
                f"unknown group {name!r}: declare it under [[groups]], or leave group out "
                "to use the default group of the question's type",
            )
            return None
        return name

    def answer(
        self, entry: Mapping[str, Any], where: str, kind: QuestionType
    ) -> tuple[str, ...] | None:
        if "answer" not in entry:
            self.problem(where, "answer", "missing: an objective question needs its key")
            return None
        value = entry["answer"]
        if kind is QuestionType.FILL_BLANK:
            return self.fill_blank_answer(value, where)
        if kind is QuestionType.TRUE_FALSE and isinstance(value, bool):
            return ("T" if value else "F",)
        if not isinstance(value, str):
            self.problem(where, "answer", f"must be text, not {_kind(value)}")
            return None
        if kind is QuestionType.SINGLE_CHOICE:
            letter = normalise_single_choice(value)
            if letter is None:
                self.problem(where, "answer", f"{value!r} is not one letter A-Z")
                return None
            return (letter,)
        if kind is QuestionType.MULTIPLE_CHOICE:
            letters = multiple_choice_letters(value)
            if letters is None:
                self.problem(where, "answer", f'{value!r} is not letters A-Z such as "ACD"')
                return None
            if len(set(letters)) != len(letters):
                self.problem(where, "answer", f"{value!r} names a letter twice")
                return None
            return ("".join(sorted(letters)),)
        truth = normalise_true_false(value)
        if truth is None:
            self.problem(where, "answer", f"{value!r} is not T or F (also 对/错, √/×, true/false)")
            return None
        return (truth,)

    def fill_blank_answer(self, value: object, where: str) -> tuple[str, ...] | None:
        items = value if isinstance(value, list) else [value]
        if not items:
            self.problem(where, "answer", "the list of accepted answers is empty")
            return None
        accepted: list[str] = []
        for item in items:
            if not isinstance(item, str):
                self.problem(where, "answer", f"must be text or a list of texts, not {_kind(item)}")
                return None
            text = normalise_fill_blank(item)
            if not text:
                self.problem(where, "answer", "an accepted answer is empty")
                return None
            if text not in accepted:
                accepted.append(text)
        return tuple(accepted)

    def mark(
        self,
        entry: Mapping[str, Any],
        where: str,
        field: str,
        *,
        positive: bool,
        required: bool = True,
        default: Decimal | None = None,
    ) -> Decimal | None:
        """A mark-like number: max, step or tolerance."""
        if field not in entry:
            if default is not None:
                return default
            if required:
                if field == "tolerance":
                    self.problem(
                        where,
                        field,
                        "missing: a question marked by examiners needs a tolerance "
                        "(the largest gap allowed between two examiners' marks)",
                    )
                else:
                    self.problem(where, field, "missing (required)")
            return None
        value = entry[field]
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.problem(where, field, f"must be a number, not {_kind(value)}")
            return None
        try:
            # The same gate as every mark (the float's text as written, via parse_float).
            number = parse_mark(value, maximum=_MARK_LIMIT)
        except MarkRefused as refused:
            if refused.reason == "negative" and not positive:
                self.problem(where, field, "must not be negative")
            else:
                self.problem(where, field, _NUMBER_PROBLEMS[refused.reason])
            return None
        if positive and number == 0:
            self.problem(where, field, "must be greater than 0")
            return None
        return number

    def text(
        self,
        entry: Mapping[str, Any],
        where: str,
        field: str,
        *,
        required: bool = True,
        default: str = "",
        strip: bool = True,
    ) -> str | None:
        """A text field; required ones must not be empty either."""
        if field not in entry:
            if required:
                self.problem(where, field, "missing (required)")
                return None
            return default
        value = entry[field]
        if not isinstance(value, str):
            self.problem(where, field, f"must be text, not {_kind(value)}")
            return None
        if strip:
            value = value.strip()
        if required and not value:
            self.problem(where, field, "must not be empty")
            return None
        return value

    def integer(
        self, entry: Mapping[str, Any], where: str, field: str, *, default: int | None = None
    ) -> int | None:
        if field not in entry:
            if default is None:
                self.problem(where, field, "missing (required)")
            return default
        value = entry[field]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(where, field, f"must be a whole number, not {_kind(value)}")
            return None
        return value

    def date(self, entry: Mapping[str, Any], where: str, field: str) -> dt.date | None:
        if field not in entry:
            self.problem(where, field, "missing (required)")
            return None
        value = entry[field]
        if isinstance(value, dt.datetime):
            self.problem(where, field, "must be a date without a time, such as 2026-12-05")
            return None
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        self.problem(where, field, "must be a date such as 2026-12-05")
        return None

    # --- structure ---

    def table(self, document: Mapping[str, Any], field: str, where: str) -> dict[str, Any] | None:
        value = document.get(field)
        if value is None:
            self.problem(field, None, f"missing the [{field}] table")
            return None
        if not isinstance(value, dict):
            self.problem(where, field, f"must be a table ([{field}]), not {_kind(value)}")
            return None
        return value

    def array(
        self,
        entry: Mapping[str, Any],
        field: str,
        where: str,
        written: str,
        *,
        required: bool = False,
    ) -> list[tuple[int, dict[str, Any]]]:
        """Entries of an array of tables, numbered from 1; wrong shapes are reported."""
        if field not in entry:
            if required:
                self.problem(where, field, f"missing: declare at least one {written}")
            return []
        value = entry[field]
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problem(where, field, f"must be an array of tables, written {written}")
            return []
        return list(enumerate(value, start=1))

    def unknown_keys(self, where: str, entry: Mapping[str, Any], allowed: Sequence[str]) -> None:
        for key in entry:
            if key not in allowed:
                self.problem(where, key, "unknown key; allowed: " + ", ".join(allowed))


def _subjective_type(key: str | None) -> str | None:
    """The Chinese name of a subjective question type whose value is ``key``, if any."""
    if key is None:
        return None
    try:
        kind = QuestionType(key)
    except ValueError:
        return None
    return None if kind.is_objective else kind.label


def _finish(draft: _Draft) -> QuestionDef:
    """A question from a draft that passed every check (only called when none failed)."""
    assert draft.type is not None and draft.max is not None and draft.step is not None
    return QuestionDef(
        number=draft.number,
        bank_item=draft.bank_item,
        type=draft.type,
        max=draft.max,
        step=draft.step,
        tolerance=draft.tolerance,
        group=draft.group,
        reference=draft.reference,
        scheme=draft.scheme,
        answer=draft.answer,
    )
