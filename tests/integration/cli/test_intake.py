"""`blindmark intake` and `status`: a batch taken in or refused whole, and the counts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from marking.demo import synthetic
from marking.store.db import transaction
from marking.store.models import (
    Exclusion,
    IntakeBatch,
    PendingConflict,
    Response,
    Script,
    SessionState,
)
from tests.conftest import FreshDatabase
from tests.integration.cli.cli_support import CODE, Run, count, ok, refused, session_row


def write_batch(folder: Path, *, seed: int = 5, image_rate: float = 0.0) -> dict[str, Any]:
    """A synthetic batch for the 6-question paper; returns what intake should report."""
    people = synthetic.roster(25, seed=seed)
    paper = synthetic.paper(6)
    synthetic.write_batch(folder, people, paper, seed=seed, image_rate=image_rate)
    rows = list(
        synthetic.response_rows(people, paper, seed=seed, image_rate=image_rate, absent_rate=0.02)
    )
    keyed = {(q.component, q.number): q for q in paper}
    return {
        "people": people,
        "rows": rows,
        "scripts": {c: len({r[0] for r in rows if r[1] == c}) for c in ("theory", "skills")},
        "objective": sum(1 for r in rows if keyed[r[1], r[2]].answer is not None),
        "images": len({r[4] for r in rows if r[4]}),
        "groups": {
            group: sum(1 for r in rows if keyed[r[1], r[2]].type == qtype)
            for qtype, (group, *_rest) in synthetic.GROUPS.items()
        },
    }


def test_intake_reports_what_it_took_in(
    keyed: Run, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    usernames = synthetic.examiners_csv(tmp_path / "examiners.csv", count=2, seed=4)
    ok(keyed("examiners", "import", tmp_path / "examiners.csv"))
    expected = write_batch(tmp_path / "batch", image_rate=0.3)
    target = expected["people"][3]
    (tmp_path / "conflicts.csv").write_text(
        f"username,id_number,relation\n{usernames[0]},{target.id_number},relative\n",
        encoding="utf-8",
    )
    ok(keyed("conflicts", "import", tmp_path / "conflicts.csv", "--session", CODE))
    # One exclusion per script of that candidate: here, both components.
    exclusions = len({r[1] for r in expected["rows"] if r[0] == target.exam_no})
    assert exclusions == 2
    scripts = expected["scripts"]

    output = ok(keyed("intake", "--session", CODE, tmp_path / "batch"))

    assert output.strip() == (
        f"batch 1: 25 candidates, {sum(scripts.values())} scripts "
        f"(theory {scripts['theory']}, skills {scripts['skills']}), "
        f"{len(expected['rows'])} responses ({expected['objective']} scored from the key), "
        f"{expected['images']} new image(s), {exclusions} exclusion(s)"
    )
    assert expected["images"] > 1
    assert count(fresh_db.engine, Response) == len(expected["rows"])
    assert count(fresh_db.engine, Exclusion) == exclusions
    assert count(fresh_db.engine, PendingConflict) == 0
    # Nothing in the output names a candidate.
    assert not any(p.exam_no in output or p.name in output for p in expected["people"])

    again = refused(keyed("intake", "--session", CODE, tmp_path / "batch"), 1)
    assert "already taken in as batch 1" in again
    with transaction(fresh_db.engine) as db:
        taken = db.scalars(select(IntakeBatch.created_at)).one()
    # When, in the session's time zone (Shanghai), as the office's clock said it.
    assert f"on {taken.astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%d %H:%M};" in again
    assert count(fresh_db.engine, IntakeBatch) == 1


def test_a_bad_batch_is_refused_line_by_line_and_nothing_is_stored(
    keyed: Run, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    folder = tmp_path / "batch"
    expected = write_batch(folder)
    lines = (folder / "responses.csv").read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",theory,", ",interview,").replace(",skills,", ",interview,")
    lines[4] = re.sub(r",(theory|skills),\d+,", r",\1,99,", lines[4])
    (folder / "responses.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    output = refused(keyed("intake", "--session", CODE, folder), 2)

    assert "nothing was stored" in output
    assert re.search(
        r"^\s*responses\.csv, row 3, column component: no component 'interview'", output, re.M
    )
    assert re.search(r"^\s*responses\.csv, row 5, column question: no question '99'", output, re.M)
    assert len(re.findall(r"^\s*responses\.csv, row \d+, column \w+: ", output, re.M)) == 2
    assert not any(p.exam_no in output for p in expected["people"])
    for table in (Script, Response, IntakeBatch):
        assert count(fresh_db.engine, table) == 0
    assert session_row(fresh_db.engine)[0] is SessionState.DRAFT

    # Once corrected, the same folder goes in.
    write_batch(folder)
    ok(keyed("intake", "--session", CODE, folder))
    assert count(fresh_db.engine, Response) == len(expected["rows"])


def test_status_shows_groups_and_counts(keyed: Run, tmp_path: Path) -> None:
    expected = write_batch(tmp_path / "batch")
    ok(keyed("intake", "--session", CODE, tmp_path / "batch"))

    output = ok(keyed("status", "--session", CODE))

    scripts = expected["scripts"]
    assert f"session {CODE}  电工  level 3" in output
    assert "state: intake" in output
    assert "shares, 2 of 3" in output
    assert (
        f"intake: 1 batch(es), 25 candidates, scripts theory {scripts['theory']}, "
        f"skills {scripts['skills']}"
    ) in output
    assert f"objective responses scored from the key: {expected['objective']}" in output
    # group, name, marks each response needs, questions, responses, marks given/needed
    groups = {
        "short": ("简答题", 2, 1),
        "calc": ("计算题", 2, 1),
        "essay": ("论述题", 2, 1),
        "case": ("案例分析题", 2, 2),
        "practical": ("实操题", 3, 1),
    }
    for key, (name, needed, questions) in groups.items():
        responses = expected["groups"][key]
        assert responses > 0
        line = rf"^{key}\s+{name}\s+{needed}\s+{questions}\s+{responses}\s+0/{responses * needed}\s"
        assert re.search(line, output, re.M), (key, output)


def test_status_of_an_unknown_session_says_so(ready: Run) -> None:
    output = refused(ready("status", "--session", "NOPE"), 3)
    assert "no session with code 'NOPE'" in output
