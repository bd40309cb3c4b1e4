"""Intake of a good batch through the service: scripts, codes, responses, images, exclusions."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anonymizer import keys
from anonymizer.unseal import SessionKey
from marking.demo import synthetic
from marking.domain.definition import parse_session_definition
from marking.intake.batch import intake_batch
from marking.people.examiners import import_conflicts, import_examiners
from marking.setup.sessions import create_session, init_keys
from marking.store.models import (
    Account,
    Component,
    Exclusion,
    Image,
    IntakeBatch,
    PendingConflict,
    Response,
    Script,
    SessionState,
)
from tests.integration.intake_support import (
    ACTOR,
    CANDIDATE_HEADER,
    CODE,
    JPEG,
    PASSPHRASE,
    PNG,
    RESPONSE_HEADER,
    counts,
    identities,
    questions_of_script,
    scripts_by_id,
    share_key,
    stored_responses,
    synthetic_session,
    write_csv,
)


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key files derived with a tiny Argon2id cost; the format and checks stay the same."""
    real = keys.KdfParams
    monkeypatch.setattr(keys, "KdfParams", lambda: real(iterations=1, lanes=1, memory_cost=8))


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
