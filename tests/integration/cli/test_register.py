"""`blindmark team status|override` and `examiners show|absence|record`: the register and
R10's overrides from the command line."""

from __future__ import annotations

from pathlib import Path

from marking.people.accounts import set_password
from marking.store.db import transaction
from marking.store.models import TeamOverride
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.cli.cli_support import Run, count, ok, refused

PASSWORD = "director-password-1"


def _world(fresh_db: FreshDatabase, tmp_path: Path) -> None:
    with transaction(fresh_db.engine) as db:
        f.add_staff(db)
        set_password(db, "director", PASSWORD)
        f.add_examiners(db, tmp_path, "v1", "v2", "v3")
        exam, _ = f.new_session(db, tmp_path, f.tiny_toml("CL-01"), key_file=True)
        f.assign(db, exam, exam.groups[0], ["v1", "v2"], actor=f.ACTOR, lead="lead")


def test_a_director_overrides_a_team_rule_with_their_password(
    ready: Run, fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """第七条(四): the override is the director's, authenticated as `blindmark approve` is."""
    _world(fresh_db, tmp_path)
    args = ("team", "override", "--session", "CL-01", "--rule", "consecutive")
    wrong = f.run_cli(
        fresh_db.url,
        *args,
        "--examiner",
        "v1",
        "--by",
        "director",
        "--reason",
        "x",
        "--password-stdin",
        stdin="not-the-password\n",
    )
    assert "wrong password for director: nothing was recorded" in refused(wrong, 1)
    office = f.run_cli(
        fresh_db.url,
        *args,
        "--by",
        "office",
        "--reason",
        "x",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert "overriding a team rule needs a director account" in refused(office, 1)
    assert count(fresh_db.engine, TeamOverride) == 0

    done = f.run_cli(
        fresh_db.url,
        *args,
        "--examiner",
        "v1",
        "--by",
        "director",
        "--reason",
        "only examiner of the trade",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert ok(done).strip() == "session CL-01: consecutive overridden for v1 by director"
    status = ok(ready("team", "status", "--session", "CL-01"))
    assert "override consecutive for v1 by director on " in status
    assert status.rstrip().endswith(": only examiner of the trade")


def test_absences_misconduct_and_the_register_entry(
    ready: Run, fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """第八条: absences, a suspension and reinstatement recorded; the entry shows them."""
    _world(fresh_db, tmp_path)
    assert (
        ok(
            ready("examiners", "absence", "v1", "--session", "CL-01", "--excused", "--note", "ill")
        ).strip()
        == "v1: absence recorded"
    )
    out = refused(ready("examiners", "absence", "v3", "--session", "CL-01"), 1)
    assert "v3 is not on the team of session CL-01" in out
    assert (
        ok(ready("examiners", "record", "v2", "--kind", "suspension", "--reason", "late")).strip()
        == "v2: suspension recorded; status suspended"
    )
    shown = ok(ready("examiners", "show", "v1"))
    assert "v1 (考评员v1), examiner: certificate C-v1, issued -, expires 2029-12-31" in shown
    assert "card valid; status active" in shown
    assert "absence from CL-01 (excused) by cli:" in shown and shown.rstrip().endswith(": ill")
