"""The common case of a session definition as a form: the session's facts and one line per
question (component, number, bank item, type, full marks, key or tolerance[, step]),
written out as session.toml and checked by the same parser as an upload. Each problem comes
back beside its field, a question's beside its line, the form's input kept."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import gettext

from marking.domain.definition.model import QuestionType
from marking.errors import InputError
from web.office_definition import field, reason

_: Callable[..., str] = gettext

SESSION_FIELDS = ("code", "occupation", "occupation_code", "level", "date", "station")
COMPONENTS = {"theory": "理论知识", "skills": "操作技能"}
_COMPONENT_WORDS = {
    "theory": "theory", "理论": "theory", "理论知识": "theory",
    "skills": "skills", "技能": "skills", "操作": "skills", "操作技能": "skills",
}  # fmt: skip
_TYPE_WORDS = {
    "单选": "single_choice", "多选": "multiple_choice", "判断": "true_false", "填空": "fill_blank",
    "简答": "short_answer", "计算": "calculation", "论述": "essay", "案例分析": "case_analysis",
    "实操": "practical",
}  # fmt: skip
_NUMBER = re.compile(r"\d+(\.\d+)?")
_SPLIT = re.compile(r"\s*[,，\t]\s*")


def _question_type(word: str) -> str | None:
    word = word.strip().removesuffix("题")
    if word in _TYPE_WORDS:
        return _TYPE_WORDS[word]
    return word if word in {t.value for t in QuestionType} else None


def _lines(form: Mapping[str, str]) -> list[tuple[int, list[str]]]:
    """The question lines that are not blank, with their line numbers (from 1)."""
    rows = form.get("questions", "").splitlines()
    return [(n, _SPLIT.split(line.strip())) for n, line in enumerate(rows, 1) if line.strip()]


def form_errors(form: Mapping[str, str]) -> dict[str, list[str]]:
    """What the form itself can tell is wrong, by field; empty when it may be written out."""
    errors: dict[str, list[str]] = {}
    for name in SESSION_FIELDS:
        if not form.get(name, "").strip():
            errors.setdefault(name, []).append(_("Required."))
    lines = _lines(form)
    if not lines:
        errors.setdefault("questions", []).append(_("Write at least one question, one a line."))
    for n, values in lines:
        problem = None
        if len(values) not in (6, 7):
            problem = _(
                "Line %(n)d: 6 or 7 values are needed (component, number, bank item, type, "
                "full marks, key or tolerance[, step]); found %(k)d.",
                n=n,
                k=len(values),
            )
        elif values[0] not in _COMPONENT_WORDS:
            problem = _(
                "Line %(n)d: the component is 理论知识 or 操作技能, not %(v)s.", n=n, v=values[0]
            )
        elif _question_type(values[3]) is None:
            problem = _(
                "Line %(n)d: unknown question type %(v)s; use 单选, 多选, 判断, 填空, 简答, 计算, "
                "论述, 案例分析 or 实操.",
                n=n,
                v=values[3],
            )
        if problem:
            errors.setdefault("questions", []).append(problem)
    return errors


def _value(text: str) -> str:
    """A number as TOML writes it, anything else as text (the parser then names it)."""
    text = text.strip()
    return text if _NUMBER.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def _question(values: list[str]) -> list[str]:
    _component, number, bank_item, word, top, key_or_tolerance, *step = values
    kind = QuestionType(_question_type(word) or word)  # form_errors let only known types by
    out = [
        "[[components.questions]]",
        f"number = {json.dumps(number, ensure_ascii=False)}",
        f"bank_item = {json.dumps(bank_item, ensure_ascii=False)}",
        f'type = "{kind.value}"',
        f"max = {_value(top)}",
    ]
    if kind.is_objective and kind is QuestionType.FILL_BLANK:
        accepted = [a.strip() for a in key_or_tolerance.split("|")]
        out.append(f"answer = {json.dumps(accepted, ensure_ascii=False)}")
    elif kind.is_objective:
        out.append(f"answer = {json.dumps(key_or_tolerance, ensure_ascii=False)}")
    else:
        out.append(f"tolerance = {_value(key_or_tolerance)}")
    if step and step[0]:
        out.append(f"step = {_value(step[0])}")
    return out


def toml_from_form(form: Mapping[str, str]) -> tuple[str, dict[str, int]]:
    """The definition the form describes, and which form line each question came from
    (``components[c].questions[q]`` → line), to put the parser's problems back there."""
    out = ["[session]"]
    for name in SESSION_FIELDS:
        value = form.get(name, "").strip()
        out.append(f"{name} = {value}" if name == "level" and value.isdigit() else
                   f"{name} = {json.dumps(value, ensure_ascii=False)}")  # fmt: skip
    source: dict[str, int] = {}
    lines = _lines(form)
    c = 0
    for key, name in COMPONENTS.items():
        mine = [(n, v) for n, v in lines if _COMPONENT_WORDS.get(v[0]) == key]
        if not mine:
            continue
        c += 1
        out += ["", "[[components]]", f'key = "{key}"', f'name = "{name}"']
        for q, (n, values) in enumerate(mine, 1):
            source[f"components[{c}].questions[{q}]"] = n
            out += ["", *_question(values)]
    return "\n".join(out) + "\n", source


def parser_errors(errors: list[InputError], source: dict[str, int]) -> dict[str, list[str]]:
    """The parser's problems by form field: a session fact beside its field, a question's
    beside the question lines naming its line, anything else beside the questions."""
    by_field: dict[str, list[str]] = {}
    for error in errors:
        where = re.sub(r" \((?!top level)[^)]*\)", "", str(error.row or ""))
        words = reason(error.reason)
        if where == "session" and error.column in SESSION_FIELDS:
            by_field.setdefault(error.column, []).append(words)
        elif where in source:
            said = f"{field(error.column)}：{words}"
            line = _("Line %(n)d: %(r)s", n=source[where], r=said)
            by_field.setdefault("questions", []).append(line)
        else:
            by_field.setdefault("questions", []).append(words)
    return by_field


def form_values(form: Mapping[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if k != "csrf_token"}
