"""Intake refuses a bad batch whole, naming file, row, column and reason; a batch twice; a
session without a key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.demo import synthetic
from marking.domain.definition import parse_session_definition
from marking.errors import InputError, InputErrors, MarkingError, StateError
from marking.intake.batch import intake_batch
from marking.setup.sessions import create_session
from marking.store.models import (
    ExamSession,
    SessionState,
)
from tests.integration.intake_support import (
    ACTOR,
    CANDIDATE_HEADER,
    PNG,
    RESPONSE_HEADER,
    counts,
    synthetic_session,
    write_csv,
)

# --- refusals ------------------------------------------------------------------------------------


@dataclass
class Batch:
    """A small good batch as lists of rows; a case spoils it before it is written."""

    folder: Path
    people: list[synthetic.SyntheticCandidate]
    candidates: list[list[str]] = field(default_factory=list)
    responses: list[list[str]] = field(default_factory=list)
    raw_responses: bytes | None = None

    def add_response(self, *cells: str) -> int:
        """Append a response row; returns the row number a spreadsheet shows."""
        self.responses.append(list(cells))
        return len(self.responses)

    def write(self) -> None:
        write_csv(self.folder / "candidates.csv", self.candidates)
        if self.raw_responses is not None:
            (self.folder / "responses.csv").write_bytes(self.raw_responses)
        else:
            write_csv(self.folder / "responses.csv", self.responses)


def good_batch(folder: Path) -> Batch:
    people = synthetic.roster(3, seed=5)
    batch = Batch(folder, people)
    batch.candidates = [
        CANDIDATE_HEADER,
        *([p.exam_no, p.name, p.id_number, p.institution] for p in people),
    ]
    # Questions 1-3 of theory; theory 4 and all of skills are left for the cases.
    batch.responses = [
        RESPONSE_HEADER,
        *(
            [p.exam_no, "theory", str(n), "A" if n < 3 else "答：断电。", ""]
            for p in people
            for n in (1, 2, 3)
        ),
    ]
    return batch


@dataclass(frozen=True)
class Refusal:
    file: str
    row: int | None
    column: str | None
    reason: str


def _missing_column(b: Batch) -> Refusal:
    b.candidates = [row[:3] for row in b.candidates]
    return Refusal("candidates.csv", 1, "institution", "missing column")


def _unknown_column(b: Batch) -> Refusal:
    b.responses = [[*row, "score" if i == 0 else ""] for i, row in enumerate(b.responses)]
    return Refusal("responses.csv", 1, "score", "unknown column")


def _empty_file(b: Batch) -> Refusal:
    b.raw_responses = b""
    return Refusal("responses.csv", None, None, "empty file")


def _unknown_component(b: Batch) -> Refusal:
    row = b.add_response(b.people[0].exam_no, "interview", "1", "A", "")
    return Refusal("responses.csv", row, "component", "no component 'interview'")


def _unknown_question(b: Batch) -> Refusal:
    row = b.add_response(b.people[0].exam_no, "theory", "99", "A", "")
    return Refusal("responses.csv", row, "question", "no question '99' in component theory")


def _duplicate_exam_number(b: Batch) -> Refusal:
    other = synthetic.roster(1, seed=77)[0]
    b.candidates.append([b.people[0].exam_no, other.name, other.id_number, ""])
    return Refusal("candidates.csv", len(b.candidates), "exam_no", "duplicate exam number")


def _not_in_roster(b: Batch) -> Refusal:
    row = b.add_response("26129999999", "theory", "4", "答", "")
    return Refusal("responses.csv", row, "exam_no", "not in candidates.csv")


def _undecodable(b: Batch) -> Refusal:
    lines = "\r\n".join(",".join(r) for r in b.responses).encode()
    first, second, rest = lines.split(b"\r\n", 2)
    b.raw_responses = first + b"\r\n" + second + b"\r\n" + b"\xff\xfe" + rest
    return Refusal("responses.csv", 3, None, "neither UTF-8 nor GB18030")


def _image_missing(b: Batch) -> Refusal:
    row = b.add_response(b.people[0].exam_no, "theory", "4", "见图", "images/none.png")
    return Refusal("responses.csv", row, "image", "not found")


def _image_up_and_out(b: Batch) -> Refusal:
    (b.folder.parent / "x.png").write_bytes(PNG)
    row = b.add_response(b.people[0].exam_no, "theory", "4", "见图", "../x.png")
    return Refusal("responses.csv", row, "image", "outside the batch folder")


def _image_absolute(b: Batch) -> Refusal:
    outside = b.folder.parent / "elsewhere.png"
    outside.write_bytes(PNG)
    row = b.add_response(b.people[0].exam_no, "theory", "4", "见图", str(outside))
    return Refusal("responses.csv", row, "image", "outside the batch folder")


def _image_not_png_or_jpeg(b: Batch) -> Refusal:
    (b.folder / "scan.gif").write_bytes(b"GIF89a" + bytes(32))
    row = b.add_response(b.people[0].exam_no, "theory", "4", "见图", "scan.gif")
    return Refusal("responses.csv", row, "image", "not a PNG or JPEG")


def _duplicate_answer(b: Batch) -> Refusal:
    row = b.add_response(*b.responses[2][:3], "B", "")
    return Refusal("responses.csv", row, "question", "a second answer to the same question")


REFUSALS: dict[str, Callable[[Batch], Refusal]] = {
    "missing column": _missing_column,
    "unknown column": _unknown_column,
    "empty file": _empty_file,
    "unknown component": _unknown_component,
    "unknown question": _unknown_question,
    "duplicate exam number": _duplicate_exam_number,
    "candidate not in roster": _not_in_roster,
    "undecodable bytes": _undecodable,
    "image missing": _image_missing,
    "image path ../x.png": _image_up_and_out,
    "image path absolute": _image_absolute,
    "image neither PNG nor JPEG": _image_not_png_or_jpeg,
    "second answer to a question": _duplicate_answer,
}


def problems(error: MarkingError) -> list[InputError]:
    if isinstance(error, InputErrors):
        return error.errors
    assert isinstance(error, InputError)
    return [error]


@pytest.mark.parametrize("spoil", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_bad_batch_is_refused_whole_naming_the_place(
    db: Session, tmp_path: Path, spoil: Callable[[Batch], Refusal]
) -> None:
    exam = synthetic_session(db, tmp_path, "BAD-01")
    batch = good_batch(tmp_path / "batch")
    (tmp_path / "batch").mkdir()
    expected = spoil(batch)
    batch.write()
    before = counts(db)

    with pytest.raises((InputError, InputErrors)) as caught, db.begin_nested():
        intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    found = problems(caught.value)
    assert len(found) == 1, str(caught.value)
    [problem] = found
    assert (problem.file, problem.row, problem.column) == (
        expected.file,
        expected.row,
        expected.column,
    )
    assert expected.reason in problem.reason
    where = ", ".join(
        [expected.file]
        + ([f"row {expected.row}"] if expected.row else [])
        + ([f"column {expected.column}"] if expected.column else [])
    )
    assert f"{where}: " in str(caught.value)
    # The message locates the row; it never repeats an identity (R1).
    assert not any(p.exam_no in str(caught.value) for p in batch.people)
    assert counts(db) == before
    assert db.scalar(select(ExamSession.state).where(ExamSession.id == exam.id)) is (
        SessionState.DRAFT
    )


def test_every_problem_of_a_batch_is_listed_at_once(db: Session, tmp_path: Path) -> None:
    exam = synthetic_session(db, tmp_path, "BAD-02")
    batch = good_batch(tmp_path / "batch")
    (tmp_path / "batch").mkdir()
    first = _unknown_component(batch)
    second = _unknown_question(batch)
    batch.write()
    before = counts(db)

    with pytest.raises(InputErrors) as caught, db.begin_nested():
        intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    assert [(p.row, p.column) for p in caught.value.errors] == [
        (first.row, "component"),
        (second.row, "question"),
    ]
    assert "nothing was stored" in str(caught.value)
    assert counts(db) == before


def test_the_same_batch_twice_is_refused(db: Session, tmp_path: Path) -> None:
    exam = synthetic_session(db, tmp_path, "TWICE-01")
    synthetic.write_batch(
        tmp_path / "batch", synthetic.roster(5, seed=2), synthetic.paper(4), seed=2
    )
    first = intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)
    before = counts(db)

    with pytest.raises(MarkingError, match="already taken in") as caught, db.begin_nested():
        intake_batch(db, exam, tmp_path / "batch", actor=ACTOR, name="again")

    assert f"batch {first.batch_id}" in str(caught.value)
    assert "nothing was stored" in str(caught.value)
    assert counts(db) == before


def test_a_session_without_a_key_takes_no_intake(db: Session, tmp_path: Path) -> None:
    toml = synthetic.session_toml("NOKEY-01", questions_per_component=4)
    exam = create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
    synthetic.write_batch(
        tmp_path / "batch", synthetic.roster(3, seed=4), synthetic.paper(4), seed=4
    )
    before = counts(db)

    with pytest.raises(StateError, match="keys init") as caught, db.begin_nested():
        intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    assert "NOKEY-01" in str(caught.value)
    assert counts(db) == before
