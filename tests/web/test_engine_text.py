"""Every coded refusal the core raises has its words in web/engine_text.py, with the same
placeholders as the English, and the browser shows those words."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import session

from marking.errors import MarkingError, Refusals
from web import create_app, engine_text

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _raised_codes() -> dict[str, set[str]]:
    """code → the placeholders of its English, for every ``X.coded("code", "English")`` and
    ``Refusals(..., code="code")`` (or a subclass's) in the core, and the few the web layer
    raises itself (a NUL character in a request)."""
    found: dict[str, set[str]] = {}
    for path in sorted([*(ROOT / "marking").rglob("*.py"), *(ROOT / "web").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "coded":
                code, message = node.args[0], node.args[1]
                assert isinstance(code, ast.Constant) and isinstance(message, ast.Constant), (
                    f"{path.name}:{node.lineno}: a coded error's code and English are literals"
                )
                found[code.value] = set(PLACEHOLDER.findall(message.value))
            elif (isinstance(func, ast.Name) and func.id.endswith("Refusals")) or (
                # A subclass of Refusals naming its code (records' FormRefused).
                isinstance(func, ast.Attribute) and func.attr == "__init__"
            ):
                for kw in node.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                        found[kw.value.value] = set()
    return found


def test_every_code_raised_is_worded_with_the_same_placeholders() -> None:
    raised = _raised_codes()
    missing = sorted(set(raised) - set(engine_text.TEXT))
    assert not missing, f"coded refusals with no words in web/engine_text.py: {missing}"
    for code, names in raised.items():
        worded = set(PLACEHOLDER.findall(str(engine_text.TEXT[code])))
        assert worded == names, f"{code}: placeholders {sorted(worded)} ≠ English {sorted(names)}"
    unused = sorted(set(engine_text.TEXT) - set(raised))
    assert not unused, f"words kept for codes the core never raises: {unused}"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_a_coded_refusal_reads_in_the_readers_language(lang: str) -> None:
    raised = _raised_codes()
    code = sorted(raised)[0]
    params = {name: "X" for name in raised[code]}
    error = MarkingError.coded(code, "english " + " ".join(f"%({n})s" for n in params), **params)
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": "sqlite://"})
    with app.test_request_context():
        session["lang"] = lang
        worded = engine_text.word(error)
        nested = engine_text.word(Refusals("head", [error]))
    assert worded is not None and nested is not None
    assert worded in nested
    has_cjk = bool(re.search(r"[\u4e00-\u9fff]", worded))
    assert has_cjk is (lang == "zh_CN"), worded


def test_a_refusal_named_inside_another_is_worded_too() -> None:
    """Publication names a panel member who may not sit (R7) inside the record's refusal."""
    inner = MarkingError.coded(
        "panel_not_senior",
        "%(member)s is not a senior examiner: interview panels are senior examiners (R7)",
        member="s2",
    )
    outer = MarkingError.coded(
        "panel_member_refused",
        "interview record %(record)s, candidate %(exam_no)s: %(problem)s; withdraw record "
        "%(record)s and have a member who may sit score the candidate",
        record=3,
        exam_no="2612",
        problem=inner,
    )
    assert "s2 is not a senior examiner" in str(outer)
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": "sqlite://"})
    with app.test_request_context():
        session["lang"] = "zh_CN"
        worded = engine_text.word(outer)
    assert worded is not None and "s2 不是高级考评员" in worded and "面试记录 3" in worded


def test_a_sessions_state_is_named_not_keyed() -> None:
    """Quality control refused after marking: the lead reads 已核定, not 'reconciled'."""
    error = MarkingError.coded(
        "quality_not_marking",
        "session %(session)s is %(state)s: quality control is done while it is marked",
        session="C-1",
        state="reconciled",
    )
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": "sqlite://"})
    with app.test_request_context():
        session["lang"] = "zh_CN"
        worded = engine_text.word(error)
    assert worded is not None and "已核定" in worded and "reconciled" not in worded


def test_an_uncoded_refusal_known_by_its_english_reads_in_chinese() -> None:
    """The claim's refusal for an examiner with no open group (marking/queue, not coded yet)
    reached the marking page in English: the browser test's check over the page found it."""
    error = MarkingError(
        "e3 has no open marking group in session QC-1 "
        "(not assigned, suspended, or the scheme is not approved yet)"
    )
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": "sqlite://"})
    with app.test_request_context():
        session["lang"] = "zh_CN"
        assert engine_text.word(error) == (
            "e3 在场次 QC-1 中没有开放的评分组：未被分配、已被暂停，或评分细则尚未批准。"
        )
        assert engine_text.word(MarkingError("something else")) is None
