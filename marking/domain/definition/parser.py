"""Reading a whole session definition: the TOML, [session], [[groups]], [[components]]."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marking.domain.definition.fields import toml_kind
from marking.domain.definition.model import (
    DEFAULT_EXAM_NUMBER_DIGITS,
    DEFAULT_MAX_HELD,
    DEFAULT_REMARK_RATE,
    DEFAULT_SEED_RATE,
    DEFAULT_TIME_ZONE,
    MAX_CHECK_RATE,
    MAX_EXAM_NUMBER_DIGITS,
    MAX_HELD_LIMIT,
    MAX_QUALIFICATION_SIZE,
    MIN_REMARK_RATE,
    ComponentDef,
    GroupDef,
    QualificationDef,
    QuestionType,
    SessionDef,
)
from marking.domain.definition.questions import Draft, QuestionReader, finish_question
from marking.errors import InputError, InputErrors

_IDENTIFIER = re.compile(r"[A-Za-z0-9_.-]+")
_TOML_POSITION = re.compile(r"^(?P<reason>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)$")
_MAX_PROBLEMS = 200

_TOP_KEYS = ("session", "paper", "groups", "components")
_PAPER_KEYS = ("exam_number_digits",)
_SESSION_KEYS = (
    "code",
    "occupation",
    "occupation_code",
    "level",
    "date",
    "station",
    "time_zone",
)
_GROUP_KEYS = (
    "key",
    "name",
    "marks_required",
    "max_held",
    "qualification",
    "seed_rate",
    "remark_rate",
)
_QUALIFICATION_KEYS = ("size", "within")
_COMPONENT_KEYS = ("key", "name", "questions")
_COMPONENT_NAMES = {"theory": "理论知识", "skills": "操作技能"}
_DEFAULT_MARKS_REQUIRED = 2


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def session_time_zone(source: str) -> ZoneInfo:
    """The time zone of a stored definition (``ExamSession.definition``): its [session]
    time_zone, checked when the session was made, else Asia/Shanghai."""
    try:
        name = tomllib.loads(source).get("session", {}).get("time_zone", DEFAULT_TIME_ZONE)
    except tomllib.TOMLDecodeError:
        name = DEFAULT_TIME_ZONE
    return (_zone(name) if isinstance(name, str) else None) or ZoneInfo(DEFAULT_TIME_ZONE)


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
    return SessionParser(file).session(document)


def parse_answer(kind: QuestionType, answer: Sequence[str]) -> tuple[str, ...]:
    """Normalise a corrected key given on the command line or a form, by the TOML's rules.

    Raises InputErrors naming the problem (an objective type only).
    """
    parser = QuestionReader("key correction")
    value: object = list(answer) if kind is QuestionType.FILL_BLANK else "".join(answer)
    result = parser.answer({"answer": value}, "answer", kind)
    if parser.problems or result is None:
        raise InputErrors(parser.problems)
    return result


class SessionParser(QuestionReader):
    """Walks the TOML document once, collecting every problem before raising."""

    # --- whole document ---

    def session(self, document: dict[str, Any]) -> SessionDef:
        self.unknown_keys("(top level)", document, _TOP_KEYS)
        head = self.table(document, "session", "(top level)")
        # Without the table, listing each of its fields as missing would say nothing more.
        fields = self.session_fields(head) if head is not None else None
        digits = self.paper(document)
        zone = self.time_zone(head) if head is not None else None

        declared = self.groups(document)
        components = self.components(document, declared)
        groups = self.resolve_groups(components, declared)

        if self.problems:
            truncated = len(self.problems) > _MAX_PROBLEMS
            raise InputErrors(self.problems[:_MAX_PROBLEMS], truncated=truncated)
        assert fields is not None and digits is not None and zone is not None
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
                ComponentDef(key or "", name or "", tuple(finish_question(d) for d in drafts))
                for key, name, drafts in components
            ),
            exam_number_digits=digits,
            time_zone=zone,
        )

    def time_zone(self, head: Mapping[str, Any]) -> str | None:
        """[session] time_zone: an IANA name such as Asia/Shanghai (the default)."""
        name = self.text(head, "session", "time_zone", required=False, default=DEFAULT_TIME_ZONE)
        if name is not None and _zone(name) is None:
            self.problem("session", "time_zone", f"unknown time zone {name!r} (e.g. Asia/Shanghai)")
            return None
        return name

    def paper(self, document: Mapping[str, Any]) -> int | None:
        """The optional [paper] table: how the printed answer sheets are laid out."""
        if "paper" not in document:
            return DEFAULT_EXAM_NUMBER_DIGITS
        table = self.table(document, "paper", "(top level)")
        if table is None:
            return None
        self.unknown_keys("paper", table, _PAPER_KEYS)
        digits = self.integer(
            table, "paper", "exam_number_digits", default=DEFAULT_EXAM_NUMBER_DIGITS
        )
        if digits is not None and not 1 <= digits <= MAX_EXAM_NUMBER_DIGITS:
            self.problem(
                "paper",
                "exam_number_digits",
                f"must be 1 to {MAX_EXAM_NUMBER_DIGITS}: the digits of the exam numbers, "
                "one bubble column each on the answer sheets",
            )
            return None
        return digits

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
            checks = self.checks(entry, where)
            if key is None:
                continue
            if key in declared:
                self.problem(
                    where, "key", f"group {key} is declared twice (also {declared[key][0]})"
                )
                continue
            group = (
                None
                if name is None or marks is None or max_held is None or checks is None
                else GroupDef(key, name, marks, max_held, *checks)
            )
            declared[key] = (where, group)
        return declared

    def checks(
        self, entry: dict[str, Any], where: str
    ) -> tuple[QualificationDef | None, Decimal, Decimal] | None:
        """A group's quality control (DESIGN §13): its qualification set, seed and 回评 rates;
        None when one of them is wrong (each problem recorded)."""
        ok = True
        qualification: QualificationDef | None = None
        if "qualification" in entry:
            value = entry["qualification"]
            here = f"{where}.qualification"
            if not isinstance(value, dict):
                self.problem(
                    where,
                    "qualification",
                    f"must be a table such as {{ size = 5, within = 0.8 }}, not {toml_kind(value)}",
                )
                ok = False
            else:
                self.unknown_keys(here, value, _QUALIFICATION_KEYS)
                size = self.integer(value, here, "size")
                if size is not None and not 1 <= size <= MAX_QUALIFICATION_SIZE:
                    self.problem(here, "size", f"must be 1 to {MAX_QUALIFICATION_SIZE} responses")
                    size = None
                within = self.share(value, here, "within", low=Decimal("0.001"), high=Decimal(1))
                if size is None or within is None:
                    ok = False
                else:
                    qualification = QualificationDef(size, within)
        seed_rate = self.share(entry, where, "seed_rate", default=DEFAULT_SEED_RATE)
        remark_rate = self.share(entry, where, "remark_rate", default=DEFAULT_REMARK_RATE)
        if remark_rate is not None and 0 < remark_rate < MIN_REMARK_RATE:
            self.problem(
                where,
                "remark_rate",
                f"must be at least {MIN_REMARK_RATE} (回评 of at least 1 % of each "
                "examiner's work), or 0 to turn 回评 off",
            )
            remark_rate = None
        if not ok or seed_rate is None or remark_rate is None:
            return None
        return qualification, seed_rate, remark_rate

    def share(
        self,
        entry: dict[str, Any],
        where: str,
        field: str,
        *,
        default: Decimal | None = None,
        low: Decimal = Decimal(0),
        high: Decimal = MAX_CHECK_RATE,
    ) -> Decimal | None:
        """A fraction in [low, high], exact to 0.001 (seed_rate, remark_rate, within)."""
        if field not in entry and default is not None:
            return default
        number = self.mark(entry, where, field, positive=False)
        if number is not None and not low <= number <= high:
            self.problem(where, field, f"must be {low} to {high}")
            return None
        return number

    def components(
        self, document: dict[str, Any], declared: Mapping[str, tuple[str, GroupDef | None]]
    ) -> list[tuple[str | None, str | None, list[Draft]]]:
        """Every component, valid or not (its questions still count as group users)."""
        result: list[tuple[str | None, str | None, list[Draft]]] = []
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

    def resolve_groups(
        self,
        components: Sequence[tuple[str | None, str | None, list[Draft]]],
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


def _subjective_type(key: str | None) -> str | None:
    """The Chinese name of a subjective question type whose value is ``key``, if any."""
    if key is None:
        return None
    try:
        kind = QuestionType(key)
    except ValueError:
        return None
    return None if kind.is_objective else kind.label
