"""Intake scores objective responses from every form a key can take (DESIGN §11)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from marking.demo import synthetic
from marking.intake.batch import intake_batch
from tests.integration.intake_support import (
    ACTOR,
    CANDIDATE_HEADER,
    RESPONSE_HEADER,
    new_session,
    stored_responses,
    write_csv,
)

# --- objective keys (DESIGN §11) -----------------------------------------------------------------

KEY_FORMS_TOML = """\
[session]
code = "KEYS-01"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 4
date = "2026-12-05"
station = "GD-0107"

[[components]]
key = "theory"

[[components.questions]]
number = "1"
bank_item = "K-0001"
type = "single_choice"
max = 1
answer = "b"

[[components.questions]]
number = "2"
bank_item = "K-0002"
type = "multiple_choice"
max = 2
answer = "dCa"

[[components.questions]]
number = "3"
bank_item = "K-0003"
type = "true_false"
max = 1
answer = "对"

[[components.questions]]
number = "4"
bank_item = "K-0004"
type = "true_false"
max = 1
answer = "×"

[[components.questions]]
number = "5"
bank_item = "K-0005"
type = "true_false"
max = 0.5
answer = "√"

[[components.questions]]
number = "6"
bank_item = "K-0006"
type = "true_false"
max = 1
answer = "F"

[[components.questions]]
number = "7"
bank_item = "K-0007"
type = "fill_blank"
max = 2
answer = [" 接地 ", "接零"]

[[components.questions]]
number = "8"
bank_item = "K-0008"
type = "fill_blank"
max = 1.5
answer = "36"

[[components.questions]]
number = "9"
bank_item = "K-0009"
type = "short_answer"
max = 10
step = 0.5
tolerance = 2
"""

# question -> [(response as written in the file, score expected)]
KEY_CASES: dict[str, list[tuple[str, str]]] = {
    "1": [("B", "1"), (" b ", "1"), ("C", "0"), ("BC", "0"), ("不知道", "0")],
    "2": [("ACD", "2"), ("dca", "2"), ("a, c、D", "2"), ("AC", "0"), ("ABCD", "0")],
    "3": [("T", "1"), ("对", "1"), ("√", "1"), ("F", "0"), ("错", "0")],
    "4": [("F", "1"), ("错", "1"), ("×", "1"), ("T", "0"), ("√", "0")],
    "5": [("对", "0.5"), ("t", "0.5"), ("×", "0"), ("F", "0")],
    "6": [("f", "1"), ("×", "1"), ("T", "0"), ("对", "0")],
    "7": [("  接地  ", "2"), ("接零", "2"), ("接 地", "0"), ("接地线", "0"), ("零", "0")],
    "8": [("36", "1.5"), ("36V", "0"), ("3 6", "0")],
    "9": [("答：先断电，再验电。", ""), ("不会。", "")],
}


def test_objective_responses_are_scored_from_every_key_form(db: Session, tmp_path: Path) -> None:
    exam = new_session(db, KEY_FORMS_TOML, tmp_path / "shares")
    people = synthetic.roster(5, seed=3)
    write_csv(
        tmp_path / "batch" / "candidates.csv",
        [CANDIDATE_HEADER, *((p.exam_no, p.name, p.id_number, p.institution) for p in people)],
    )
    rows = [
        (people[i].exam_no, "theory", number, written, "")
        for number, cases in KEY_CASES.items()
        for i, (written, _score) in enumerate(cases)
    ]
    write_csv(tmp_path / "batch" / "responses.csv", [RESPONSE_HEADER, *rows])

    summary = intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    assert summary.responses == len(rows)
    assert summary.objective_scored == len(rows) - len(KEY_CASES["9"])
    scored = {(number, text): score for _c, number, text, score in stored_responses(db, exam)}
    expected = {
        (number, written.strip()): Decimal(score) if score else None
        for number, cases in KEY_CASES.items()
        for written, score in cases
    }
    assert scored == expected
