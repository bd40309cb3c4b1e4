"""Intake of a batch folder through the service: scripts, key scores, exclusions, refusals."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anonymizer import keys
from anonymizer.seal import associated_data
from anonymizer.unseal import SessionKey
from marking.demo import synthetic
from marking.domain.definition import parse_session_definition
from marking.errors import InputError, InputErrors, MarkingError, StateError
from marking.intake.batch import intake_batch
from marking.people.examiners import import_conflicts, import_examiners
from marking.setup.sessions import create_session, init_keys
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    Exclusion,
    Image,
    IntakeBatch,
    LedgerEntry,
    PendingConflict,
    Question,
    Response,
    Script,
    SessionState,
)

ACTOR = "test"
PASSPHRASE = "correct horse battery staple"
CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{12}")  # Crockford's base32, 60 bits
PNG = synthetic._png(8, 4, 120)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(64))
RESPONSE_HEADER = ["exam_no", "component", "question", "response", "image"]
CANDIDATE_HEADER = ["exam_no", "name", "id_number", "institution"]


# --- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key files derived with a tiny Argon2id cost; the format and checks stay the same."""
    real = keys.KdfParams
    monkeypatch.setattr(keys, "KdfParams", lambda: real(iterations=1, lanes=1, memory_cost=8))


def new_session(db: Session, toml: str, shares: Path) -> ExamSession:
    """A session from a definition, keyed with 2-of-2 shares written into ``shares``."""
    exam = create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
    init_keys(db, exam, actor=ACTOR, custodians=2, threshold=2, out_dir=shares)
    return exam


def synthetic_session(db: Session, tmp_path: Path, code: str, questions: int = 4) -> ExamSession:
    toml = synthetic.session_toml(code, questions_per_component=questions)
    return new_session(db, toml, tmp_path / f"shares-{code}")


def identities(db: Session, exam: ExamSession, batch_id: int, key: SessionKey) -> dict[str, Any]:
    """What the batch sealed, opened as publication would open it."""
    batch = db.get(IntakeBatch, batch_id)
    assert batch is not None
    aad = associated_data("intake_batch", exam.id, batch.id)
    [plain] = key.unseal_many(batch.sealed_key, [(batch.identities, aad)], key_aad=aad)
    records: dict[str, Any] = json.loads(plain)
    return records


def share_key(exam: ExamSession, shares: Path) -> SessionKey:
    return SessionKey.from_share_files(
        sorted(shares.glob("share-*.txt")), expected_public_key=exam.public_key
    )


def write_csv(path: Path, rows: Sequence[Sequence[Any]], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def counts(db: Session) -> dict[str, int]:
    """Rows of every table intake writes to."""
    tables = (Script, Response, IntakeBatch, Image, Exclusion, PendingConflict, LedgerEntry)
    return {t.__tablename__: db.scalar(select(func.count()).select_from(t)) or 0 for t in tables}


def stored_responses(db: Session, exam: ExamSession) -> list[tuple[str, str, str, Decimal | None]]:
    """(component, question, text, key score) of every response of the session, sorted."""
    rows = db.execute(
        select(Component.key, Question.number, Response.text, Response.key_score)
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(Script.session_id == exam.id)
    )
    return sorted(
        (tuple(r) for r in rows), key=lambda r: (r[0], int(r[1]), r[2], r[3] or Decimal(-1))
    )


def scripts_by_id(db: Session, exam: ExamSession) -> dict[int, tuple[str, str]]:
    """script id -> (component key, code)."""
    rows = db.execute(
        select(Script.id, Component.key, Script.code)
        .join(Component, Component.id == Script.component_id)
        .where(Script.session_id == exam.id)
    )
    return {sid: (comp, code) for sid, comp, code in rows}


def questions_of_script(db: Session, script_id: int) -> set[str]:
    return set(
        db.scalars(
            select(Question.number)
            .join(Response, Response.question_id == Question.id)
            .where(Response.script_id == script_id)
        )
    )


# --- a good batch -------------------------------------------------------------------------------


def test_a_good_batch_is_taken_in_with_counts_and_key_scores(
    db: Session, tmp_path: Path, fast_kdf: None
) -> None:
    toml = synthetic.session_toml("GOOD-01", questions_per_component=8)
    exam = create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
    key_file = tmp_path / "GOOD-01.key"
    init_keys(db, exam, actor=ACTOR, key_file=key_file, passphrase=PASSPHRASE)
    people = synthetic.roster(30, seed=7)
    paper = synthetic.paper(8)
    written = synthetic.write_batch(tmp_path / "batch", people, paper, seed=7, absent_rate=0.1)
    rows = list(synthetic.response_rows(people, paper, seed=7, absent_rate=0.1))
    assert written == len(rows)
    keyed = {(q.component, q.number): q for q in paper}

    summary = intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    per_component = {
        comp: len({r[0] for r in rows if r[1] == comp}) for comp in ("theory", "skills")
    }
    assert per_component["theory"] < 30 or per_component["skills"] < 30  # someone was absent
    assert summary.candidates == 30
    assert summary.by_component == per_component
    assert summary.scripts == sum(per_component.values())
    assert summary.responses == len(rows)
    objective_rows = [r for r in rows if keyed[r[1], r[2]].answer is not None]
    assert summary.objective_scored == len(objective_rows)
    assert summary.images == summary.exclusions == 0

    scripts = dict(
        db.execute(
            select(Component.key, func.count(Script.id))
            .join(Script, Script.component_id == Component.id)
            .where(Script.session_id == exam.id)
            .group_by(Component.key)
        ).all()
    )
    assert scripts == per_component

    def expected_score(comp: str, number: str, text: str) -> Decimal | None:
        q = keyed[comp, number]
        if q.answer is None:
            return None
        return Decimal(q.max) if text == q.answer else Decimal(0)

    expected = sorted(
        ((c, n, t, expected_score(c, n, t)) for _e, c, n, t, _i in rows),
        key=lambda r: (r[0], int(r[1]), r[2], r[3] or Decimal(-1)),
    )
    stored = stored_responses(db, exam)
    assert stored == expected
    assert {s for *_x, s in stored} >= {Decimal(0), Decimal(1), Decimal(2), None}

    batch = db.get(IntakeBatch, summary.batch_id)
    assert batch is not None
    assert (batch.name, batch.candidate_count, batch.script_count, batch.response_count) == (
        "batch",
        30,
        summary.scripts,
        len(rows),
    )
    assert exam.state is SessionState.INTAKE
    # The identities are sealed to the session key and open with the key file.
    key = SessionKey.from_key_file(key_file, PASSPHRASE, expected_public_key=exam.public_key)
    sealed = identities(db, exam, summary.batch_id, key)
    assert [(c["exam_no"], c["name"], c["id_number"]) for c in sealed["candidates"]] == [
        (p.exam_no, p.name, p.id_number) for p in people
    ]


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


# --- who answered what ---------------------------------------------------------------------------


def test_unanswered_questions_and_absent_components_leave_nothing(
    db: Session, tmp_path: Path
) -> None:
    exam = synthetic_session(db, tmp_path, "ABS-01")
    a, b, c, d = synthetic.roster(4, seed=11)
    write_csv(
        tmp_path / "batch" / "candidates.csv",
        [
            CANDIDATE_HEADER,
            *((p.exam_no, p.name, p.id_number, p.institution) for p in (a, b, c, d)),
        ],
    )
    answers = [
        *(
            (a.exam_no, comp, str(n), "A" if n == 1 else "答")
            for comp in ("theory", "skills")
            for n in range(1, 5)
        ),
        (b.exam_no, "theory", "1", "B"),
        (b.exam_no, "theory", "3", "答：先断电。"),
        (c.exam_no, "skills", "2", "AC"),
    ]  # d answered nothing at all
    write_csv(tmp_path / "batch" / "responses.csv", [RESPONSE_HEADER[:4], *answers])

    summary = intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    assert summary.candidates == 4
    assert summary.by_component == {"theory": 2, "skills": 2}
    assert summary.responses == 11
    key = share_key(exam, tmp_path / "shares-ABS-01")
    sealed = {
        c["exam_no"]: c["scripts"]
        for c in identities(db, exam, summary.batch_id, key)["candidates"]
    }
    assert set(sealed[a.exam_no]) == {"theory", "skills"}
    assert set(sealed[b.exam_no]) == {"theory"}
    assert set(sealed[c.exam_no]) == {"skills"}
    assert sealed[d.exam_no] == {}
    assert questions_of_script(db, sealed[a.exam_no]["theory"]) == {"1", "2", "3", "4"}
    assert questions_of_script(db, sealed[b.exam_no]["theory"]) == {"1", "3"}
    assert questions_of_script(db, sealed[c.exam_no]["skills"]) == {"2"}


def test_script_codes_are_unique_and_unrelated_across_a_candidates_components(
    db: Session, tmp_path: Path
) -> None:
    exam = synthetic_session(db, tmp_path, "CODE-01")
    people = synthetic.roster(40, seed=21)
    synthetic.write_batch(tmp_path / "batch", people, synthetic.paper(4), seed=21)

    summary = intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    scripts = scripts_by_id(db, exam)
    codes = [code for _comp, code in scripts.values()]
    assert len(codes) == summary.scripts
    assert len(set(codes)) == len(codes)
    assert all(CODE.fullmatch(code) for code in codes)
    key = share_key(exam, tmp_path / "shares-CODE-01")
    both = 0
    for cand in identities(db, exam, summary.batch_id, key)["candidates"]:
        mine = cand["scripts"]
        for comp, sid in mine.items():
            assert scripts[sid][0] == comp
        if len(mine) == 2:
            both += 1
            theory, skills = scripts[mine["theory"]][1], scripts[mine["skills"]][1]
            assert theory != skills
    assert both >= 30


# --- images --------------------------------------------------------------------------------------


def test_images_are_stored_once_by_content(db: Session, tmp_path: Path) -> None:
    exam = synthetic_session(db, tmp_path, "IMG-01")
    a, b, c = synthetic.roster(3, seed=5)
    folder = tmp_path / "batch"
    write_csv(
        folder / "candidates.csv",
        [CANDIDATE_HEADER, *((p.exam_no, p.name, p.id_number, p.institution) for p in (a, b))],
    )
    (folder / "images").mkdir()
    (folder / "images" / "a.png").write_bytes(PNG)
    (folder / "images" / "copy.png").write_bytes(PNG)
    (folder / "photo.jpg").write_bytes(JPEG)
    write_csv(
        folder / "responses.csv",
        [
            RESPONSE_HEADER,
            (a.exam_no, "theory", "3", "见图", "images/a.png"),
            (a.exam_no, "theory", "4", "见图", "images/copy.png"),
            (b.exam_no, "theory", "3", "见图", "images/a.png"),
            (b.exam_no, "theory", "4", "见图", "photo.jpg"),
            (b.exam_no, "theory", "1", "A", ""),
        ],
    )
    before = counts(db)

    summary = intake_batch(db, exam, folder, actor=ACTOR)

    assert summary.images == 2
    assert counts(db)["image"] == before["image"] + 2
    stored = dict(
        db.execute(
            select(Image.media_type, Image.content).where(
                Image.sha256.in_(select(Response.image_sha256))
            )
        ).all()
    )
    assert stored == {"image/png": PNG, "image/jpeg": JPEG}
    per_image = Counter(
        db.scalars(
            select(Image.media_type)
            .join(Response, Response.image_sha256 == Image.sha256)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
        )
    )
    assert per_image == {"image/png": 3, "image/jpeg": 1}

    # The same picture in a later batch is not stored again.
    later = tmp_path / "later"
    write_csv(later / "candidates.csv", [CANDIDATE_HEADER, (c.exam_no, c.name, c.id_number, "")])
    (later / "scan.png").write_bytes(PNG)
    write_csv(
        later / "responses.csv", [RESPONSE_HEADER, (c.exam_no, "theory", "3", "", "scan.png")]
    )
    again = intake_batch(db, exam, later, actor=ACTOR)
    assert again.images == 0
    assert counts(db)["image"] == before["image"] + 2
    assert per_image + Counter({"image/png": 1}) == Counter(
        db.scalars(
            select(Image.media_type)
            .join(Response, Response.image_sha256 == Image.sha256)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
        )
    )


# --- recusal -------------------------------------------------------------------------------------


def test_pending_conflicts_become_exclusions_for_every_script_of_the_candidate(
    db: Session, tmp_path: Path
) -> None:
    usernames = synthetic.examiners_csv(tmp_path / "examiners.csv", count=3, seed=1)
    import_examiners(db, tmp_path / "examiners.csv")
    exam = synthetic_session(db, tmp_path, "REC-01")
    people = synthetic.roster(6, seed=8)
    target = people[2]
    stranger = synthetic.roster(1, seed=99, prefix="9999")[0]
    write_csv(
        tmp_path / "conflicts.csv",
        [
            ("username", "id_number", "relation"),
            (usernames[0], target.id_number.lower(), "relative"),
            (usernames[1], target.id_number, "teacher_student"),
            (usernames[2], stranger.id_number, "master_apprentice"),
        ],
    )
    [(_exam, declared)] = import_conflicts(
        db, tmp_path / "conflicts.csv", actor=ACTOR, session=exam
    )
    assert declared == 3
    synthetic.write_batch(tmp_path / "batch", people, synthetic.paper(4), seed=8, absent_rate=0)

    summary = intake_batch(db, exam, tmp_path / "batch", actor=ACTOR)

    key = share_key(exam, tmp_path / "shares-REC-01")
    sealed = identities(db, exam, summary.batch_id, key)
    [mine] = [c["scripts"] for c in sealed["candidates"] if c["exam_no"] == target.exam_no]
    assert set(mine) == {"theory", "skills"}
    ids = dict(db.execute(select(Account.username, Account.id)).all())
    excluded = {
        tuple(row)
        for row in db.execute(
            select(Exclusion.script_id, Exclusion.examiner_id)
            .join(Script, Script.id == Exclusion.script_id)
            .where(Script.session_id == exam.id)
        )
    }
    assert excluded == {(sid, ids[u]) for sid in mine.values() for u in usernames[:2]}
    assert summary.exclusions == 4
    # Consumed declarations leave the clear tables (they stay sealed with the batch).
    pending = db.scalars(
        select(Account.username)
        .join(PendingConflict, PendingConflict.examiner_id == Account.id)
        .where(PendingConflict.session_id == exam.id)
    ).all()
    assert pending == [usernames[2]]
    assert sorted(c["examiner"] for c in sealed["conflicts_consumed"]) == usernames[:2]


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


# --- encodings -----------------------------------------------------------------------------------


def _xlsx(path: Path, rows: Sequence[Sequence[Any]]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)


@pytest.mark.parametrize("form", ["utf-8", "utf-8-sig", "gb18030", "xlsx"])
def test_every_accepted_file_form_yields_the_same_intake(
    db: Session, tmp_path: Path, form: str
) -> None:
    people = synthetic.roster(12, seed=31)
    paper = synthetic.paper(6)
    candidates = [
        CANDIDATE_HEADER,
        *((p.exam_no, p.name, p.id_number, p.institution) for p in people),
    ]
    responses = [
        RESPONSE_HEADER[:4],
        *(r[:4] for r in synthetic.response_rows(people, paper, seed=31)),
    ]
    assert any(not text.isascii() for *_x, text in responses[1:])

    results = []
    for variant in dict.fromkeys(("utf-8", form)):
        folder = tmp_path / variant
        folder.mkdir()
        if variant == "xlsx":
            # Offices type exam and question numbers as numbers.
            _xlsx(
                folder / "candidates.xlsx",
                [candidates[0], *([int(r[0]), *r[1:]] for r in candidates[1:])],
            )
            _xlsx(
                folder / "responses.xlsx",
                [responses[0], *([int(r[0]), r[1], int(r[2]), r[3]] for r in responses[1:])],
            )
        else:
            write_csv(folder / "candidates.csv", candidates, encoding=variant)
            write_csv(folder / "responses.csv", responses, encoding=variant)
        code = f"ENC-{variant}-{len(results)}"
        exam = synthetic_session(db, tmp_path, code, questions=6)
        summary = intake_batch(db, exam, folder, actor=ACTOR)
        key = share_key(exam, tmp_path / f"shares-{code}")
        sealed = identities(db, exam, summary.batch_id, key)["candidates"]
        results.append(
            (
                summary.by_component,
                summary.responses,
                summary.objective_scored,
                stored_responses(db, exam),
                [(c["exam_no"], c["name"], c["id_number"], c["institution"]) for c in sealed],
            )
        )

    plain, other = results[0], results[-1]
    assert other == plain
    assert plain[4] == [(p.exam_no, p.name, p.id_number, p.institution) for p in people]
    assert plain[1] == len(responses) - 1
