"""Page codes (the QR text of every answer-sheet page): round trip, tampering, refusals."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from marking.paper.codes import (
    CHECK_LENGTH,
    SERIAL_ALPHABET,
    SERIAL_LENGTH,
    PagePayload,
    PayloadError,
    decode_payload,
    encode_payload,
    new_serials,
)

PAGE = PagePayload("2026-GD-0412", "theory", "6af2c0", "K7M2Q9XPRT", 3)
KEY = b"a session's secret, 32 bytes ..."


@pytest.mark.parametrize("key", [None, KEY])
def test_a_code_reads_back_as_the_page_it_was_made_for(key: bytes | None) -> None:
    text = encode_payload(PAGE, key=key)
    assert text.startswith("BM1|2026-GD-0412|theory|6af2c0|K7M2Q9XPRT|3|")
    assert len(text.rsplit("|", 1)[1]) == CHECK_LENGTH
    assert decode_payload(text, key=key) == PAGE
    assert decode_payload(f"  {text}\n", key=key) == PAGE  # as some readers return it


def test_the_check_depends_on_the_key() -> None:
    assert encode_payload(PAGE) != encode_payload(PAGE, key=KEY)
    with pytest.raises(PayloadError, match="check value does not match"):
        decode_payload(encode_payload(PAGE, key=KEY))
    with pytest.raises(PayloadError, match="check value does not match"):
        decode_payload(encode_payload(PAGE), key=KEY)
    with pytest.raises(PayloadError, match="check value does not match"):
        decode_payload(encode_payload(PAGE, key=KEY), key=b"another session's key")


@pytest.mark.parametrize("key", [None, KEY])
def test_any_single_character_changed_is_refused(key: bytes | None) -> None:
    # A misread or an edit anywhere: caught as malformed, or by the check value.
    text = encode_payload(PAGE, key=key)
    for index, ch in enumerate(text):
        for new in "2Xa7f_|":
            if new != ch:
                with pytest.raises(PayloadError):
                    decode_payload(text[:index] + new + text[index + 1 :], key=key)


def test_another_page_of_the_same_sheet_needs_its_own_check() -> None:
    body, check = encode_payload(PAGE).rsplit("|", 1)
    other = encode_payload(replace(PAGE, page=4))
    assert other.rsplit("|", 1)[1] != check
    with pytest.raises(PayloadError, match="does not match"):
        decode_payload(body[:-1] + "4|" + check)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a blindmark page code"),
        ("https://example.org/", "not a blindmark page code"),
        ("XM1|2026|theory|6af2c0|K7M2Q9XPRT|1|00000000", "not a blindmark page code"),
        ("BM2|2026|theory|6af2c0|K7M2Q9XPRT|1|00000000", "format 2"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPRT|1", "6 fields where 7 belong"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPRT|1|0|00000000", "8 fields"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPRT|0|00000000", "malformed page '0'"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPRT|01|00000000", "malformed page '01'"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPRT|x|00000000", "malformed page 'x'"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPR0|1|00000000", "malformed serial"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPR|1|00000000", "malformed serial"),
        ("BM1||theory|6af2c0|K7M2Q9XPRT|1|00000000", "malformed session code"),
        ("BM1|2026|Theory|6af2c0|K7M2Q9XPRT|1|00000000", "malformed component"),
        ("BM1|2026|theory|6AF2C0|K7M2Q9XPRT|1|00000000", "malformed layout digest"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPRT|1|0000000G", "malformed check value"),
        ("BM1|2026|theory|6af2c0|K7M2Q9XPRT|1|000000000", "malformed check value"),
    ],
)
def test_malformed_codes_are_refused_saying_why(text: str, message: str) -> None:
    with pytest.raises(PayloadError, match=message):
        decode_payload(text)


@pytest.mark.parametrize("text", ["BM" + "9" * 1_000_000, "BM1|" + "2026" * 100_000 + "|x"])
def test_a_huge_text_is_refused_without_being_echoed(text: str) -> None:
    with pytest.raises(PayloadError, match="not a blindmark page code") as refused:
        decode_payload(text)
    assert len(str(refused.value)) < 100


def test_digits_of_other_scripts_do_not_make_a_format() -> None:
    with pytest.raises(PayloadError, match=r"^not a blindmark page code$"):
        decode_payload("BM\u0661|2026|theory|6af2c0|K7M2Q9XPRT|1|00000000")


@pytest.mark.parametrize(
    "field",
    [
        {"session": "2026|GD"},
        {"session": ""},
        {"component": "the|ory"},
        {"serial": "k7m2q9xprt"},
        {"page": 0},
        {"page": 100},
        {"layout": "xyz"},
    ],
)
def test_a_field_the_code_cannot_carry_is_refused(field: dict[str, object]) -> None:
    with pytest.raises(PayloadError, match="malformed"):
        encode_payload(replace(PAGE, **field))  # type: ignore[arg-type]


def test_serials_are_distinct_random_and_of_the_alphabet() -> None:
    serials = new_serials(2000)
    assert len(set(serials)) == 2000
    assert all(len(s) == SERIAL_LENGTH and set(s) <= set(SERIAL_ALPHABET) for s in serials)
    assert not set(SERIAL_ALPHABET) & set("01ILO")  # nothing to misread by eye
    # An injected source makes them reproducible (tests, simulations), and repeats are skipped.
    assert new_serials(5, choice=random.Random(7).choice) == new_serials(
        5, choice=random.Random(7).choice
    )
    with pytest.raises(RuntimeError, match="keeps repeating"):
        new_serials(2, choice=lambda alphabet: alphabet[0])
