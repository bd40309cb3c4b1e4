"""`blindmark seeds`, `qualification`, `suspend` and `reinstate`: the lead's quality control
from the command line, named by handles, usernames and group keys."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from marking.queue import handles
from marking.store.db import transaction
from marking.store.models import CheckItem, ExamSession, GroupSuspension
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.cli.cli_support import Run, count, ok, refused
from tests.integration.test_marking_corrections import mark_as


def _world(fresh_db: FreshDatabase, tmp_path: Path) -> str:
    """Session CQ-1 in marking, e1 marked the first short answer; returns its handle."""
    with transaction(fresh_db.engine) as db:
        exam = f.tiny_session(db, tmp_path, "CQ-1", n=2, key_file=True).exam
        mark_as(db, exam, "e1", {"c1 theory": "4"})
        return handles.response_handle(exam, f.response_id(db, exam, "c1 theory"))


def test_seeds_qualification_suspend_reinstate(
    ready: Run, fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    handle = _world(fresh_db, tmp_path)
    base = ("--session", "CQ-1", "--by", "lead")
    out = ok(ready("seeds", "add", *base, "--response", handle, "--value", "4.5"))
    assert "definitive mark 4.5" in out
    refused(ready("seeds", "add", *base, "--response", handle, "--value", "4.3"), 2)
    refused(ready("seeds", "add", *base, "--response", "X" * 26, "--value", "4"), 3)
    listed = ok(ready("seeds", "list", *base, "--group", "short", "--sample", "5"))
    assert handle in listed and "seed\t4.5\topen" in listed and "sample:" in listed
    refused(ready("qualification", "set", *base, "--response", handle, "--value", "4"), 4)
    ok(ready("seeds", "retire", *base, "--response", handle))
    assert count(fresh_db.engine, CheckItem) == 1

    who = ("--group", "short", "--examiner", "e1", "--reason", "样卷偏差")
    refused(ready("suspend", *base, *who), 2)  # the marks' fate must be said
    done = ok(ready("suspend", *base, *who, "--withdraw-marks"))
    assert "1 mark(s) withdrawn" in done
    refused(ready("suspend", *base, *who, "--keep-marks"), 4)
    ok(ready("examiners", "record", "e1", "--kind", "suspension", "--reason", "调查"))
    back = ok(ready("examiners", "record", "e1", "--kind", "reinstatement", "--reason", "结束"))
    assert "stays suspended on group 简答题 of session CQ-1" in back
    ok(ready("reinstate", *base, *who))
    refused(ready("reinstate", "--session", "CQ-1", "--by", "e2", *who), 1)
    with transaction(fresh_db.engine) as db:
        row = db.scalars(select(GroupSuspension)).one()
        assert row.reinstated_at is not None and row.withdrawn == 1
        exam = db.scalars(select(ExamSession)).one()
        from marking.audit.verify import verify

        assert verify(db, exam).ok
    ok(ready("verify", "--session", "CQ-1"))
