"""`blindmark record`, `records list|withdraw` and `violations approve` (DESIGN §14)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from marking.cli import main
from marking.people.accounts import add_user
from marking.store.db import transaction
from marking.store.models import CollectiveDecision, RecordWithdrawal, Role
from marking.store.schema import upgrade
from tests.conftest import FreshDatabase
from tests.integration import factory as f


def test_the_centre_approves_a_collective_and_the_office_withdraws_a_record(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """第七条(五): the guidance centre's approval, authenticated like `blindmark approve`;
    and a record entered wrongly withdrawn with its reason, listed without its content."""
    upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = f.tiny_session(db, tmp_path, "CR-1", n=2, examiners=("e1", "e2"))
        add_user(db, "centre", role=Role.CENTRE, password="centre-password-1")
        add_user(db, "office2", role=Role.OFFICE, password="office-password-1")
        c1, c2 = (c.exam_no for c in tiny.candidates)
    rows = [
        (c1, "theory", "void", "集体作弊", "lead", "G1"),
        (c2, "theory", "void", "集体作弊", "lead", "G1"),
    ]
    path = f.write_csv(
        tmp_path / "violations.csv",
        ("exam_no", "component", "action", "reason", "decided_by", "collective"),
        rows,
    )
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
        return runner.invoke(main, ["--db", fresh_db.url, *args], input=stdin)

    done = run("record", "violations", "--session", "CR-1", str(path))
    assert done.exit_code == 0 and "2 violations row(s) sealed" in done.output
    listed = run("records", "list", "--session", "CR-1")
    assert listed.exit_code == 0 and "collective G1" in listed.output
    assert c1 not in listed.output and "集体作弊" not in listed.output
    assert "+08:00" in listed.output  # entered when, in the session's time zone (Shanghai)
    record = listed.output.split("\t")[0]

    approve = ("violations", "approve", "--session", "CR-1", "--collective", "G1")
    wrong = run(*approve, "--by", "centre", "--password-stdin", stdin="nope\n")
    assert wrong.exit_code == 1 and "wrong password for centre" in wrong.output
    office = run(*approve, "--by", "office2", "--password-stdin", stdin="office-password-1\n")
    assert office.exit_code == 1 and "needs a centre account" in office.output
    ok = run(*approve, "--by", "centre", "--password-stdin", stdin="centre-password-1\n")
    assert ok.exit_code == 0, ok.output
    assert "2 candidate(s), decided by lead" in ok.output and c1 not in ok.output
    again = run(*approve, "--by", "centre", "--password-stdin", stdin="centre-password-1\n")
    assert again.exit_code == 4 and "already approved" in again.output

    gone = run("records", "withdraw", "--session", "CR-1", "--record", record, "--reason", "录错")
    assert gone.exit_code == 0, gone.output
    with transaction(fresh_db.engine) as db:
        assert db.scalars(select(RecordWithdrawal.reason)).all() == ["录错"]
        assert db.scalars(select(CollectiveDecision.approved_at)).one() is not None
    listed = run("records", "list", "--session", "CR-1")
    assert "withdrawn by cli:" in listed.output
