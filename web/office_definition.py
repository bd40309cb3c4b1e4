"""A refused session definition as the office reads it: each problem in the reader's
language, at the line of the uploaded text it is about, so the builder shows it there.

The parser (marking/domain/definition) writes its problems in English for the command
line and names places by path (``components[1].questions[3] (question 41)``, field
``tolerance``); here each reason is translated pattern by pattern, the variable parts
carried over, and each path is found in the text by its TOML headers. A reason no
pattern knows is shown as the parser wrote it rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext, lazy_gettext

from marking.errors import InputError
from web.patterns import Patterns

_: Callable[..., str] = gettext
_l = lazy_gettext

#: A field of session.toml in words (shown with its key, which the file uses).
FIELDS = {
    "code": _l("session code"),
    "occupation": _l("occupation"),
    "occupation_code": _l("occupation code"),
    "level": _l("level"),
    "date": _l("date"),
    "station": _l("appraisal station"),
    "time_zone": _l("time zone"),
    "exam_number_digits": _l("digits of the exam number"),
    "key": _l("key"),
    "name": _l("name"),
    "marks_required": _l("marks required per response"),
    "max_held": _l("most responses held at once"),
    "qualification": _l("qualification set"),
    "size": _l("size"),
    "within": _l("share within tolerance"),
    "seed_rate": _l("seed rate"),
    "remark_rate": _l("回评 rate"),
    "questions": _l("questions"),
    "number": _l("question number"),
    "bank_item": _l("question bank item"),
    "type": _l("question type"),
    "max": _l("full marks"),
    "step": _l("mark step"),
    "tolerance": _l("tolerance"),
    "group": _l("marking group"),
    "reference": _l("reference answer"),
    "scheme": _l("marking scheme"),
    "answer": _l("answer key"),
    "lines": _l("writing lines"),
    "options": _l("options"),
    "session": _l("session"),
    "paper": _l("answer sheets"),
    "groups": _l("marking groups"),
    "components": _l("components"),
}

_KINDS = {
    "a boolean": _l("true/false"),
    "an integer": _l("a whole number"),
    "a number": _l("a number"),
    "text": _l("text"),
    "a table": _l("a table"),
    "an array": _l("a list"),
    "a date or time": _l("a date or time"),
}


_TOML = Patterns(
    (
        (r"Invalid value", _l("a value is missing or not valid (text needs quotes)")),
        (r"Cannot overwrite a value", _l("a key is given twice")),
        (r"Cannot declare (?P<k>.+) twice", _l("%(k)s is declared twice")),
        (r"Unterminated string", _l("a quoted text is not closed")),
        (r"Expected '=' after a key in a key/value pair", _l("'=' is missing after the key")),
        (r"Expected '\]' at the end of a table declaration",
         _l("']' is missing at the end of the table heading")),
        (r"Expected '\]\]' at the end of an array declaration",
         _l("']]' is missing at the end of the heading")),
        (r"Expected newline or end of document after a statement",
         _l("something follows the value on the same line")),
        (r"Invalid statement", _l("this line is not 'key = value' or a heading")),
        (r"Invalid date or datetime", _l("not a valid date")),
        (r"Unclosed array", _l("a list is not closed with ']'")),
        (r"Unclosed inline table", _l("a table is not closed with '}'")),
        (r"Invalid initial character for a key part",
         _l("a key starts with a character keys cannot have")),
    )
)  # fmt: skip

_NOT_TOML = re.compile(r"not valid TOML: (?P<m>.+?)(?: \(at end of document\))?")

_REASONS = Patterns(
    (
        (r"not a session definition: arrays or tables nested too deeply",
         _l("not a session definition: lists or tables nested too deeply")),
        (r"not UTF-8 text; save the file as UTF-8", _l("not UTF-8 text: save the file as UTF-8")),
        (r"missing \(required\)", _l("missing (required)")),
        (r"must not be empty", _l("must not be empty")),
        (r"must be a finite number", _l("must be a number")),
        (r"must be greater than 0", _l("must be greater than 0")),
        (r"must not be negative", _l("must not be negative")),
        (r"must be a multiple of 0\.001 .*",
         _l("at most three decimals (marks are kept in thousandths)")),
        (r"must be at most (?P<n>\S+)", _l("must be at most %(n)s")),
        (r"missing: a question marked by examiners needs a tolerance .*",
         _l("missing: a question marked by examiners needs a tolerance (the largest gap allowed "
            "between two examiners' marks)")),
        (r"must be a number, not (?P<kind>.+)", _l("must be a number, not %(kind)s")),
        (r"must be text, not (?P<kind>.+)", _l("must be text in quotes, not %(kind)s")),
        (r"must be a whole number, not (?P<kind>.+)", _l("must be a whole number, not %(kind)s")),
        (r'must be text such as "41", not (?P<kind>.+)',
         _l('must be text such as "41", not %(kind)s')),
        (r"must be text or a list of texts, not (?P<kind>.+)",
         _l("must be text or a list of texts, not %(kind)s")),
        (r"must be a date without a time, such as 2026-12-05",
         _l("must be a date without a time, such as 2026-12-05")),
        (r"must be a date such as 2026-12-05", _l("must be a date such as 2026-12-05")),
        (r"missing the \[(?P<t>\w+)\] table", _l("the [%(t)s] table is missing")),
        (r"must be a table \(\[(?P<t>\w+)\]\), not (?P<kind>.+)",
         _l("must be a table ([%(t)s]), not %(kind)s")),
        (r"missing: declare at least one (?P<w>.+)", _l("missing: declare at least one %(w)s")),
        (r"must be an array of tables, written (?P<w>.+)",
         _l("must be a list of tables, each headed %(w)s")),
        (r"unknown key; allowed: (?P<keys>.+)", _l("unknown key; allowed: %(keys)s")),
        (r"must be 1 to (?P<n>\d+): the digits of the exam numbers, .*",
         _l("must be 1 to %(n)s: the digits of the exam numbers, one bubble column each")),
        (r"may hold only letters, digits, '\.', '_' and '-' \(such as 6-31-01-03\)",
         _l("may hold only letters, digits, '.', '_' and '-' (such as 6-31-01-03)")),
        (r"may hold only letters, digits, '\.', '_' and '-'",
         _l("may hold only letters, digits, '.', '_' and '-'")),
        (r"unknown time zone (?P<v>.+) \(e\.g\. Asia/Shanghai\)",
         _l("unknown time zone %(v)s (such as Asia/Shanghai)")),
        (r"must be 1 \(senior technician\) to 5 \(entry\)",
         _l("must be 1 (senior technician) to 5 (entry)")),
        (r"must be at least 2: every response is double-marked",
         _l("must be at least 2: every response is marked by two or more examiners (R3)")),
        (r"must be 1 to (?P<n>\d+): the most responses one examiner holds at once",
         _l("must be 1 to %(n)s: the most responses one examiner holds at once")),
        (r"group (?P<k>\S+) is declared twice \(also (?P<w>.+)\)",
         _l("group %(k)s is declared twice (also %(w)s)")),
        (r"must be a table such as \{ size = 5, within = 0\.8 \}, not (?P<kind>.+)",
         _l("must be a table such as { size = 5, within = 0.8 }, not %(kind)s")),
        (r"must be 1 to (?P<n>\d+) responses", _l("must be 1 to %(n)s responses")),
        (r"must be at least (?P<n>\S+) \(回评 .*",
         _l("must be at least %(n)s (回评 of at least one in a hundred of each examiner's "
            "marks), or 0 to turn 回评 off")),
        (r"must be 1 to (?P<n>\d+) writing lines", _l("must be 1 to %(n)s writing lines")),
        (r"must be (?P<a>\d+) to (?P<b>\d+) options \(its key uses (?P<l>\w)\)",
         _l("must be %(a)s to %(b)s options (its key uses %(l)s)")),
        (r"must be (?P<a>\d+) to (?P<b>\d+) options", _l("must be %(a)s to %(b)s options")),
        (r"must be (?P<a>\S+) to (?P<b>\S+)", _l("must be %(a)s to %(b)s")),
        (r"declare at least one \[\[components\]\]", _l("declare at least one [[components]]")),
        (r"the interview is not declared: it is added for levels 1-2",
         _l("the interview is not declared: it is added for levels 1-2 by itself")),
        (r"unknown component (?P<k>.+); expected theory or skills",
         _l("unknown component %(k)s; expected theory (理论知识) or skills (操作技能)")),
        (r"component (?P<k>\S+) is declared twice \(also (?P<w>.+)\)",
         _l("component %(k)s is declared twice (also %(w)s)")),
        (r"a component needs at least one question", _l("a component needs at least one question")),
        (r"group has no questions", _l("no question uses this marking group")),
        (r"only a question examiners mark has writing lines",
         _l("only a question examiners mark has writing lines")),
        (r"only a choice question has options \(A, B, C\.\.\.\)",
         _l("only a choice question has options (A, B, C...)")),
        (r"question (?P<n>.+) appears twice \(also (?P<w>.+)\)",
         _l("question %(n)s appears twice (also %(w)s)")),
        (r"bank item (?P<b>.+) is already used by (?P<w>.+)",
         _l("bank item %(b)s is already used by %(w)s")),
        (r"step (?P<s>\S+) does not divide max (?P<m>\S+)",
         _l("the step %(s)s does not divide the full marks %(m)s")),
        (r"an objective question is scored from its key; tolerance does not apply",
         _l("a question scored from its key has no tolerance")),
        (r"an objective question is scored from its key; it belongs to no marking group",
         _l("a question scored from its key belongs to no marking group")),
        (r"a question marked by examiners has no answer key; put the model answer in reference",
         _l("a question marked by examiners has no answer key: put the model answer in "
            "reference")),
        (r"tolerance (?P<t>\S+) is larger than max (?P<m>\S+)",
         _l("the tolerance %(t)s is larger than the full marks %(m)s")),
        (r"question without bank item: questions must come from the provincial bank",
         _l("no bank item: questions come from the provincial question bank only (R15)")),
        (r"unknown question type (?P<v>.+); expected one of (?P<e>.+)",
         _l("unknown question type %(v)s; expected one of %(e)s")),
        (r"unknown group (?P<g>.+): declare it under \[\[groups\]\].*",
         _l("unknown marking group %(g)s: declare it under [[groups]], or leave group out to "
            "use the default group of the question's type")),
        (r"missing: an objective question needs its key",
         _l("missing: a question scored from its key needs the key (answer)")),
        (r"(?P<v>.+) is not one letter A-Z", _l("%(v)s is not one letter A-Z")),
        (r'(?P<v>.+) is not letters A-Z such as "ACD"',
         _l('%(v)s is not letters A-Z such as "ACD"')),
        (r"(?P<v>.+) names a letter twice", _l("%(v)s names a letter twice")),
        (r"(?P<v>.+) is not T or F .*", _l("%(v)s is not T or F (also 对/错, √/×)")),
        (r"the list of accepted answers is empty", _l("the list of accepted answers is empty")),
        (r"an accepted answer is empty", _l("an accepted answer is empty")),
    )
)  # fmt: skip

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(#.*)?$")
_PLACE = re.compile(
    r"^(?P<base>groups\[(?P<g>\d+)\]|components\[(?P<c>\d+)\](?:\.questions\[(?P<q>\d+)\])?)"
    r"(?: \((?:question )?(?P<label>[^)]*)\))?(?P<rest>\.\w+)?$"
)


def _kind(text: str) -> str:
    return str(_KINDS.get(text, text))


def reason(text: str) -> str:
    """A problem's reason in the reader's language."""
    if (toml := _NOT_TOML.fullmatch(text)) is not None:  # the TOML reader's own message
        message = toml["m"]
        return _("not valid TOML: %(m)s", m=_TOML.words(message) or message)
    return _REASONS.words(text, _part) or text


def _part(name: str, value: str) -> str:
    """A variable part in words: a TOML kind, or a place (``also groups[1] (short)``); a
    heading such as ``[[groups]]`` stays as written."""
    if name == "kind":
        return _kind(value)
    if name == "w" and not value.startswith("["):
        return place(value)
    return value


def place(where: str | int | None) -> str:
    """Where a problem is, in words: ``components[1].questions[3] (question 41)`` →
    the component's third question, numbered 41."""
    if where is None:
        return ""
    where = str(where)
    if where == "(top level)":
        return _("top level of the file")
    if (line := re.fullmatch(r"line (\d+)", where)) is not None:
        return _("line %(n)s", n=line.group(1))
    if where in ("session", "paper"):
        return f"[{where}]"
    found = _PLACE.match(where)
    if found is None:
        return where
    label = found["label"]
    if found["q"] is not None:
        words = (
            _("component %(c)s, question %(q)s (number %(n)s)", c=found["c"], q=found["q"], n=label)
            if label
            else _("component %(c)s, question %(q)s", c=found["c"], q=found["q"])
        )
    elif found["c"] is not None:
        words = _("component %(c)s [[components]]", c=found["c"])
    else:
        words = _("marking group %(g)s [[groups]]", g=found["g"])
        if label:
            words += f" ({label})"
    if found["rest"]:
        words += " · " + field(found["rest"][1:])
    return words


def field(key: str | None) -> str:
    """A field in words with its key: 题号 (number)."""
    if not key:
        return ""
    named = FIELDS.get(key)
    return f"{named} ({key})" if named is not None else key


def _sections(text: str) -> list[tuple[str, int, int]]:
    """The TOML headers of ``text`` as (path, first line, last line), lines from 1; the
    top level before the first header is ``(top level)``."""
    lines = text.splitlines()
    found: list[tuple[str, int]] = [("(top level)", 1)]
    groups = components = questions = 0
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header is None:
            continue
        name = header.group(2).replace(" ", "")
        if name == "groups":
            groups += 1
            path = f"groups[{groups}]"
        elif name == "components":
            components, questions = components + 1, 0
            path = f"components[{components}]"
        elif name == "components.questions":
            questions += 1
            path = f"components[{components}].questions[{questions}]"
        elif name == "groups.qualification":
            path = f"groups[{groups}].qualification"
        else:
            path = name
        found.append((path, number))
    ends = [start - 1 for _path, start in found[1:]] + [max(len(lines), 1)]
    return [(path, start, end) for (path, start), end in zip(found, ends, strict=True)]


def line_of(text: str, where: str | int | None, column: str | None) -> int | None:
    """The line of ``text`` a problem at ``where``/``column`` is about: the field's own
    line when the section has it, else the section's heading; None when the text has
    neither (a missing table)."""
    if where is None:
        return None
    where = str(where)
    if (line := re.fullmatch(r"line (\d+)", where)) is not None:
        return int(line.group(1))
    path = re.sub(r" \((?!top level)[^)]*\)", "", where)
    if path.endswith(".qualification"):
        path, column = path.removesuffix(".qualification"), "qualification"
    if path == "(top level)" and column in ("session", "paper", "groups", "components"):
        path, column = column, None
    lines = text.splitlines()
    for section, start, end in _sections(text):
        if section != path and not (section.startswith(path + "[") and column is None):
            continue
        if column:
            key = re.compile(rf"^\s*\"?{re.escape(column)}\"?\s*[=.]")
            for number in range(start, end + 1):
                if key.match(lines[number - 1]):
                    return number
        return start if path != "(top level)" else None
    return None


def problems(errors: Sequence[InputError], text: str) -> list[dict[str, Any]]:
    """Each problem as the builder shows it: line (or None), place, field and reason."""
    rows = []
    for error in errors:
        line = line_of(text, error.row, error.column)
        if line is None and error.reason.endswith("(at end of document)"):
            line = max(len(text.splitlines()), 1)
        rows.append(
            {
                "line": line,
                "where": place(error.row),
                "field": field(error.column) if error.column and not error.column.isdigit() else "",
                "reason": reason(error.reason),
            }
        )
    return rows
