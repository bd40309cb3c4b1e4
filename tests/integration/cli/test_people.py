"""`blindmark examiners import` and `conflicts import`, and the rows they refuse."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session as OrmSession

from marking.demo import synthetic
from marking.store.models import Account, Examiner, PendingConflict, Role
from tests.conftest import FreshDatabase
from tests.integration.cli.cli_support import CODE, Run, count, ok, refused


def test_examiners_then_conflicts_import(
    keyed: Run, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    usernames = synthetic.examiners_csv(tmp_path / "examiners.csv", count=4, seed=3)

    assert ok(keyed("examiners", "import", tmp_path / "examiners.csv")).strip() == (
        "examiners: 4 created, 0 updated"
    )
    assert ok(keyed("examiners", "import", tmp_path / "examiners.csv")).strip() == (
        "examiners: 0 created, 4 updated"
    )

    people = synthetic.roster(2, seed=3)
    conflicts = tmp_path / "conflicts.csv"
    conflicts.write_text(
        "username,id_number,relation\n"
        f"{usernames[0]},{people[0].id_number},relative\n"
        f"{usernames[1]},{people[1].id_number},teacher_student\n",
        encoding="utf-8",
    )
    output = ok(keyed("conflicts", "import", conflicts, "--session", CODE))
    assert output.strip() == f"session {CODE}: 2 declaration(s) sealed"
    assert count(fresh_db.engine, PendingConflict) == 2

    conflicts.write_text(
        f"username,id_number,relation\nnobody,{people[0].id_number},cousin\n", encoding="utf-8"
    )
    output = refused(keyed("conflicts", "import", conflicts, "--session", CODE), 2)
    assert "conflicts.csv, row 2, column username: no examiner or lead with this username" in output
    assert "conflicts.csv, row 2, column relation: must be relative" in output
    assert people[0].id_number not in output
    assert count(fresh_db.engine, PendingConflict) == 2


def test_examiners_import_refuses_a_username_held_by_another_role_naming_its_row(
    ready: Run, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    with OrmSession(fresh_db.engine) as db, db.begin():
        db.add(Account(username="office1", name="办公室", role=Role.OFFICE))
    path = tmp_path / "examiners.csv"
    synthetic.examiners_csv(path, count=2, seed=6)
    header, first, second = path.read_text(encoding="utf-8").splitlines()
    # A blank row 2, as spreadsheets leave them; the office account's row is row 4.
    second = "office1," + second.split(",", 1)[1]
    path.write_text("\n".join([header, "", first, second]) + "\n", encoding="utf-8")

    output = refused(ready("examiners", "import", path), 2)

    assert (
        "examiners.csv, row 4, column username: "
        "username belongs to an account of role office, not an examiner"
    ) in output
    assert count(fresh_db.engine, Examiner) == 0
