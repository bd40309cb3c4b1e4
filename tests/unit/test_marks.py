"""The one gate for marks from outside (issue 9, item 6): short, exact, plain decimal text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from marking.domain.rules import MARK_TEXT_LIMIT, MarkRefused, parse_mark

TEN, HALF = Decimal(10), Decimal("0.5")


@pytest.mark.parametrize(
    ("given_as", "canonical"),
    [
        ("7", "7"),
        ("7.5", "7.5"),
        (" 7.50 ", "7.5"),
        ("0.125", "0.125"),
        ("007.500", "7.5"),
        (".5", "0.5"),
        ("０．５", "0.5"),  # full-width, as a Chinese IME types it
        ("10", "10"),
        (7, "7"),
        (7.5, "7.5"),
        (Decimal("7.50"), "7.5"),
        (Decimal("-0.0"), "0"),
    ],
)
def test_plain_decimal_marks_are_taken_in_their_canonical_form(
    given_as: object, canonical: str
) -> None:
    mark = parse_mark(given_as, maximum=TEN, step=Decimal("0.125"))
    assert f"{mark:f}" == canonical


@pytest.mark.parametrize(
    "given_as",
    [
        "⑳" * MARK_TEXT_LIMIT,  # NFKC made it a 24-digit number
        "⒈5",  # NFKC made it 1.5
        "⑤",
        "²",
        "٧",  # an Arabic-Indic seven
        "7\u00b75",  # a middle dot
        "7\u3002" + "5",  # the ideographic full stop
        "ｆ",
    ],
)
def test_only_full_width_digits_and_full_stop_stand_for_plain_ones(given_as: str) -> None:
    with pytest.raises(MarkRefused) as refused:
        parse_mark(given_as, maximum=Decimal(10**30))
    assert refused.value.reason == "not_decimal"


@pytest.mark.parametrize(
    ("given_as", "reason"),
    [
        ("1e-1000030", "not_decimal"),
        ("1e999999999", "not_decimal"),
        ("1E2", "not_decimal"),
        ("NaN", "not_decimal"),
        ("Infinity", "not_decimal"),
        ("-inf", "not_decimal"),
        ("+7", "not_decimal"),
        ("7,5", "not_decimal"),
        ("0x10", "not_decimal"),
        ("7.5.1", "not_decimal"),
        ("-0.5", "negative"),
        ("7.1234", "too_fine"),
        ("7.5000", "too_fine"),
        ("1" * 13, "too_long"),
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        (True, "not_decimal"),
        ([7], "not_decimal"),
        (Decimal("1E-1000030"), "too_fine"),
        (Decimal("1E+999999999"), "too_long"),
        (Decimal("NaN"), "not_decimal"),
        (Decimal("sNaN"), "not_decimal"),
        (float("inf"), "not_decimal"),
        (1e-05, "not_decimal"),
        pytest.param(10**5000, "too_long", id="int of 5001 digits"),
        ("10.5", "above_max"),
        ("7.25", "off_step"),
    ],
)
def test_anything_else_is_refused_naming_the_reason(given_as: object, reason: str) -> None:
    with pytest.raises(MarkRefused) as refused:
        parse_mark(given_as, maximum=TEN, step=HALF)
    assert refused.value.reason == reason


@pytest.mark.parametrize(
    "given_as",
    [
        pytest.param("9" * 1_000_000, id="a million nines"),
        "1e999999999",
        pytest.param(" " * 100_000 + "x", id="padded"),
        Decimal("1E+999999999"),
        pytest.param(10**5000, id="int of 5001 digits"),
    ],
)
def test_a_refusal_echoes_only_a_short_prefix(given_as: object) -> None:
    with pytest.raises(MarkRefused) as refused:
        parse_mark(given_as, maximum=TEN, step=HALF)
    assert len(str(refused.value)) < 120
    assert len(refused.value.params["shown"]) <= MARK_TEXT_LIMIT


def test_a_refusal_shows_no_control_characters() -> None:
    with pytest.raises(MarkRefused) as refused:
        parse_mark("7\x00\x1b[2J")
    assert refused.value.params["shown"] == "7??[2J"


def test_range_and_step_messages_name_the_limits() -> None:
    with pytest.raises(MarkRefused, match=r"between 0 and 10; 10\.5 is outside"):
        parse_mark("10.5", maximum=TEN, step=HALF)
    with pytest.raises(MarkRefused, match=r"steps of 0\.5; 7\.25 is not one"):
        parse_mark("7.25", maximum=TEN, step=HALF)


@given(st.text(max_size=20) | st.decimals() | st.integers() | st.floats())
@example("1e-1000030")
@example(Decimal("1E-1000030"))
def test_what_is_taken_is_exact_thousandths_and_reads_back_as_itself(given_as: object) -> None:
    try:
        mark = parse_mark(given_as)
    except MarkRefused as refused:
        assert len(str(refused)) < 160
        return
    text = f"{mark:f}"
    assert len(text) <= MARK_TEXT_LIMIT and "E" not in text.upper()
    assert mark >= 0 and mark == mark.quantize(Decimal("0.001"))
    assert parse_mark(text) == mark and f"{parse_mark(text):f}" == text
