"""Scoring objective responses against keys: every accepted form, and only those."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marking.domain import objective
from marking.domain.definition import QuestionDef, QuestionType, parse_session_definition
from marking.domain.objective import make_scorer, score_objective

FULL = Decimal("1.5")


def make_question(kind: QuestionType, *answer: str, maximum: Decimal = FULL) -> QuestionDef:
    return QuestionDef(
        number="1",
        bank_item="DG3-0001",
        type=kind,
        max=maximum,
        step=maximum,
        tolerance=None,
        group=None,
        reference="",
        scheme="",
        answer=answer,
    )


SINGLE = make_question(QuestionType.SINGLE_CHOICE, "B")
MULTIPLE = make_question(QuestionType.MULTIPLE_CHOICE, "ACD")
TRUE = make_question(QuestionType.TRUE_FALSE, "T")
FALSE = make_question(QuestionType.TRUE_FALSE, "F")
BLANK = make_question(QuestionType.FILL_BLANK, "欧姆定律", "U=IR")


def scores(question: QuestionDef, response: str) -> bool:
    """Whether the response earns the full mark; checks it earns exactly max or 0."""
    result = score_objective(question, response)
    assert result in (question.max, Decimal(0))
    assert isinstance(result, Decimal)
    return result == question.max


@pytest.mark.parametrize("response", ["B", "b", " B ", "\tb\n", "Ｂ", "ｂ", "\u3000B"])
def test_single_choice_matches(response: str) -> None:
    assert scores(SINGLE, response)


@pytest.mark.parametrize("response", ["", " ", "A", "BB", "AB", "B.", "(B)", "8", "Б"])
def test_single_choice_misses(response: str) -> None:
    assert not scores(SINGLE, response)


@pytest.mark.parametrize(
    "response",
    ["ACD", "acd", "DCA", "A C D", "A,C,D", "A、C、D", "A，C，D", "AACD", "ＡＣＤ", " c;a;d "],
)
def test_multiple_choice_matches(response: str) -> None:
    assert scores(MULTIPLE, response)


@pytest.mark.parametrize("response", ["", "AC", "ABCD", "ACDE", "A", "ACD1", "A-C-D", "ＡＣ"])
def test_multiple_choice_misses(response: str) -> None:
    assert not scores(MULTIPLE, response)


TRUE_FORMS = ["T", "t", "true", "TRUE", "True", "对", "正确", "√", "✓", "✔", "Ｔ", " 对 "]
FALSE_FORMS = ["F", "f", "false", "FALSE", "错", "错误", "×", "✗", "✘", "Ｆ"]


@pytest.mark.parametrize("response", TRUE_FORMS)
def test_true_forms(response: str) -> None:
    assert scores(TRUE, response)
    assert not scores(FALSE, response)


@pytest.mark.parametrize("response", FALSE_FORMS)
def test_false_forms(response: str) -> None:
    assert scores(FALSE, response)
    assert not scores(TRUE, response)


@pytest.mark.parametrize("response", ["", "yes", "no", "1", "0", "TF", "对错", "x"])
def test_true_false_misses(response: str) -> None:
    assert not scores(TRUE, response)
    assert not scores(FALSE, response)


@pytest.mark.parametrize("response", ["欧姆定律", " 欧姆定律\n", "U=IR", "Ｕ＝ＩＲ", "\u3000U=IR"])
def test_fill_blank_matches_any_alternative(response: str) -> None:
    assert scores(BLANK, response)


@pytest.mark.parametrize("response", ["", "u=ir", "U = IR", "欧姆 定律", "欧姆定律。", "电阻"])
def test_fill_blank_needs_the_exact_text(response: str) -> None:
    assert not scores(BLANK, response)


def test_scores_are_the_questions_max_or_zero() -> None:
    half = make_question(QuestionType.TRUE_FALSE, "T", maximum=Decimal("0.5"))
    assert score_objective(half, "对") == Decimal("0.5")
    assert score_objective(half, "错") == Decimal(0)
    assert str(score_objective(half, "")) == "0"


def test_subjective_questions_have_no_scorer() -> None:
    essay = QuestionDef(
        "41", "DG3-1041", QuestionType.ESSAY, Decimal(10), Decimal(1), Decimal(2), "essay", "",
        "", None,
    )  # fmt: skip
    with pytest.raises(ValueError, match="not an objective question"):
        make_scorer(essay)
    with pytest.raises(ValueError):
        score_objective(essay, "A")


def test_a_scorer_stays_right_past_its_memo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(objective, "_MEMO_LIMIT", 3)
    score = make_scorer(BLANK)
    responses = [f"答案{n}" for n in range(10)] + ["U=IR", "欧姆定律", "Ｕ＝ＩＲ", "答案1"]
    first = [score(r) for r in responses]
    again = [score(r) for r in reversed(responses)]
    assert first == list(reversed(again))
    assert first[-4:] == [FULL, FULL, FULL, Decimal(0)]


def test_keys_from_a_session_definition_score_their_responses() -> None:
    text = """
[session]
code = "S1"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 4
date = 2026-12-05
station = "GD-0107"

[[components]]
key = "theory"

[[components.questions]]
number = "1"
bank_item = "DG4-0001"
type = "multiple_choice"
max = 2
answer = "d, b"

[[components.questions]]
number = "2"
bank_item = "DG4-0002"
type = "true_false"
max = 0.5
answer = "×"

[[components.questions]]
number = "3"
bank_item = "DG4-0003"
type = "fill_blank"
max = 1
answer = ["  接地 ", "保护接地"]
"""
    questions = parse_session_definition(text).components[0].questions
    scorers = [make_scorer(q) for q in questions]
    assert [s(r) for s, r in zip(scorers, ["BD", "F", "接地"], strict=True)] == [
        Decimal(2),
        Decimal("0.5"),
        Decimal(1),
    ]
    assert [s(r) for s, r in zip(scorers, ["B", "对", "接 地"], strict=True)] == [Decimal(0)] * 3


# --- properties -------------------------------------------------------------------------

letters = st.sets(st.sampled_from("ABCDEFG"), min_size=1)
separators = st.sampled_from(["", " ", ",", "、", "，", ";", "\u3000"])


@given(key=letters, data=st.data())
def test_multiple_choice_ignores_order_case_separators_and_repeats(
    key: set[str], data: st.DataObject
) -> None:
    question = make_question(QuestionType.MULTIPLE_CHOICE, "".join(sorted(key)))
    written = data.draw(st.permutations(sorted(key)))
    written += data.draw(st.lists(st.sampled_from(sorted(key)), max_size=3))  # repeats
    cased = [c.lower() if data.draw(st.booleans()) else c for c in written]
    response = "".join(c + data.draw(separators) for c in cased)
    assert score_objective(question, response) == FULL


@given(key=letters, response=letters)
def test_multiple_choice_scores_only_the_same_set(key: set[str], response: set[str]) -> None:
    question = make_question(QuestionType.MULTIPLE_CHOICE, "".join(sorted(key)))
    expected = FULL if key == response else Decimal(0)
    assert score_objective(question, "".join(sorted(response, reverse=True))) == expected


@given(response=st.text(max_size=8))
def test_scorer_and_score_objective_agree_on_any_text(response: str) -> None:
    for question in (SINGLE, MULTIPLE, TRUE, FALSE, BLANK):
        result = make_scorer(question)(response)
        assert result == score_objective(question, response)
        assert result in (question.max, Decimal(0))
        if not response.strip():
            assert result == 0
