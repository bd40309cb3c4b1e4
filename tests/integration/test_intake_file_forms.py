"""Intake reads the same batch from UTF-8, UTF-8 with BOM, GB18030 and XLSX files alike."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy.orm import Session

from marking.demo import synthetic
from marking.intake.batch import intake_batch
from tests.integration.intake_support import (
    ACTOR,
    CANDIDATE_HEADER,
    RESPONSE_HEADER,
    identities,
    share_key,
    stored_responses,
    synthetic_session,
    write_csv,
)

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
