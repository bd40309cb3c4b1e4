"""One question of a session definition: its number and bank item, marks, and key or marking."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marking.domain.definition.answers import (
    multiple_choice_letters,
    normalise_fill_blank,
    normalise_single_choice,
    normalise_true_false,
)
from marking.domain.definition.fields import FieldReader, toml_kind
from marking.domain.definition.model import (
    MAX_LINES_HINT,
    MAX_OPTIONS,
    GroupDef,
    QuestionDef,
    QuestionType,
)

_QUESTION_KEYS = (
    "number",
    "bank_item",
    "type",
    "max",
    "step",
    "tolerance",
    "group",
    "text",
    "reference",
    "scheme",
    "answer",
    "lines",
    "options",
)
_CHOICES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _show(value: Decimal) -> str:
    return format(value, "f")


@dataclass(slots=True)
class Draft:
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
    lines: int | None = None
    options: int | None = None
    text: str = ""


class QuestionReader(FieldReader):
    """Reads one [[components.questions]] entry into a ``Draft``, collecting its problems."""

    def question(
        self,
        where: str,
        entry: dict[str, Any],
        numbers: dict[str, str],
        bank_items: dict[str, str],
        declared: Mapping[str, tuple[str, GroupDef | None]],
    ) -> Draft:
        """One question as far as it validates; ``numbers``, ``bank_items``: where each was."""
        where, number, bank_item = self.question_identity(entry, where, numbers, bank_items)
        kind = self.question_type(entry, where)
        top, step = self.question_marks(entry, where, kind)

        tolerance: Decimal | None = None
        group: str | None = None
        answer: tuple[str, ...] | None = None
        if kind is not None and kind.is_objective:
            answer = self.objective_key(entry, where, kind)
        elif kind is not None:
            tolerance, group = self.examiner_marking(entry, where, kind, top, declared)

        wording = self.text(entry, where, "text", required=False, default="", strip=False)
        reference = self.text(entry, where, "reference", required=False, default="", strip=False)
        scheme = self.text(entry, where, "scheme", required=False, default="", strip=False)
        lines, options = self.sheet_hints(entry, where, kind, answer)
        return Draft(
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
            lines=lines,
            options=options,
            text=wording or "",
        )

    def sheet_hints(
        self,
        entry: Mapping[str, Any],
        where: str,
        kind: QuestionType | None,
        answer: tuple[str, ...] | None,
    ) -> tuple[int | None, int | None]:
        """The printed sheet's hints (DESIGN §12): ``lines`` of an examiner-marked question's
        answer box, ``options`` of a choice question (enough for its key's last letter)."""
        lines = self.integer(entry, where, "lines") if "lines" in entry else None
        if lines is not None and kind is not None and kind.is_objective:
            self.problem(where, "lines", "only a question examiners mark has writing lines")
            lines = None
        elif lines is not None and not 1 <= lines <= MAX_LINES_HINT:
            self.problem(where, "lines", f"must be 1 to {MAX_LINES_HINT} writing lines")
            lines = None
        options = self.integer(entry, where, "options") if "options" in entry else None
        if options is None or kind is None:
            return lines, None
        if kind not in _CHOICES:
            self.problem(where, "options", "only a choice question has options (A, B, C...)")
            return lines, None
        used = max((_LETTERS.index(c) + 1 for c in "".join(answer or ())), default=2)
        if not max(2, used) <= options <= MAX_OPTIONS:
            key = f" (its key uses {_LETTERS[used - 1]})" if answer else ""
            self.problem(where, "options", f"must be {max(2, used)} to {MAX_OPTIONS} options{key}")
            return lines, None
        return lines, options

    def question_identity(
        self,
        entry: dict[str, Any],
        where: str,
        numbers: dict[str, str],
        bank_items: dict[str, str],
    ) -> tuple[str, str | None, str | None]:
        """The number and bank item, each unique, and ``where`` now naming the question."""
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
        return where, number, bank_item

    def question_marks(
        self, entry: dict[str, Any], where: str, kind: QuestionType | None
    ) -> tuple[Decimal | None, Decimal | None]:
        """The question's max and step, the step dividing the max."""
        objective = kind is not None and kind.is_objective
        top = self.mark(entry, where, "max", positive=True)
        # An objective question scores all or nothing, so its natural step is its max
        # (0.5-mark true/false items must not need "step = 0.5" spelled out). With the
        # type unknown there is no default to check against.
        default_step = top if objective else Decimal(1) if kind is not None else None
        step = self.mark(entry, where, "step", positive=True, required=False, default=default_step)
        if top is not None and step is not None and top % step != 0:
            self.problem(where, "step", f"step {_show(step)} does not divide max {_show(top)}")
        return top, step

    def objective_key(
        self, entry: dict[str, Any], where: str, kind: QuestionType
    ) -> tuple[str, ...] | None:
        """The key of a question scored from it, which takes no tolerance and no group."""
        for field, why in (
            ("tolerance", "tolerance does not apply"),
            ("group", "it belongs to no marking group"),
        ):
            if field in entry:
                self.problem(where, field, f"an objective question is scored from its key; {why}")
        return self.answer(entry, where, kind)

    def examiner_marking(
        self,
        entry: dict[str, Any],
        where: str,
        kind: QuestionType,
        top: Decimal | None,
        declared: Mapping[str, tuple[str, GroupDef | None]],
    ) -> tuple[Decimal | None, str | None]:
        """The tolerance and marking group of a question examiners mark (it has no key)."""
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
        return tolerance, group

    def question_number(self, entry: Mapping[str, Any], where: str) -> str | None:
        if "number" not in entry:
            self.problem(where, "number", "missing (required)")
            return None
        value = entry["number"]
        # number = 41 (a TOML integer) is read as "41", as the responses file has it.
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        if not isinstance(value, str):
            self.problem(where, "number", f'must be text such as "41", not {toml_kind(value)}')
            return None
        number = value.strip()
        if not number:
            self.problem(where, "number", "must not be empty")
            return None
        return number

    def bank_item(self, entry: Mapping[str, Any], where: str) -> str | None:
        value = entry.get("bank_item")
        if value is not None and not isinstance(value, str):
            self.problem(where, "bank_item", f"must be text, not {toml_kind(value)}")
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
            self.problem(where, "answer", f"must be text, not {toml_kind(value)}")
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
                self.problem(
                    where, "answer", f"must be text or a list of texts, not {toml_kind(item)}"
                )
                return None
            text = normalise_fill_blank(item)
            if not text:
                self.problem(where, "answer", "an accepted answer is empty")
                return None
            if text not in accepted:
                accepted.append(text)
        return tuple(accepted)


def finish_question(draft: Draft) -> QuestionDef:
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
        lines=draft.lines,
        options=draft.options,
        text=draft.text,
    )
