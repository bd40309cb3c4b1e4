"""`blindmark correct` (R6, 第七条(八)): the command line corrects as the engine does, naming the
response by its handle or by script code and question."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from marking.cli import main
from marking.queue.handles import response_handle
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import ResponseState
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.cli.cli_support import ok, refused
from tests.integration.test_marking_corrections import Q, mark_as


@pytest.fixture
def database(fresh_db: FreshDatabase) -> Iterator[FreshDatabase]:
    schema.upgrade(fresh_db.engine)
    yield fresh_db


def blindmark(database: FreshDatabase, *args: object) -> Result:
    return CliRunner().invoke(main, ["--db", database.url, *map(str, args)], prog_name="blindmark")


def test_correct_by_handle_then_by_script_code_as_the_lead(
    database: FreshDatabase, tmp_path: Path
) -> None:
    """R6: the examiner's own correction before the final; after it only the lead (R12)."""
    with transaction(database.engine) as db:
        exam = f.tiny_session(db, tmp_path, "CC-1", n=1).exam
        mark_as(db, exam, "e1", {Q: "2"})
        handle = response_handle(exam, f.response_id(db, exam, Q))
        script = f.script_code(db, exam, Q)

    out = ok(
        blindmark(
            database,
            "correct",
            "--session",
            "CC-1",
            "--response",
            handle,
            "--by",
            "e1",
            "--value",
            "3",
            "--reason",
            "笔误",
        )
    )
    assert out == "mark corrected from 2 to 3 by e1: the response is open\n"
    with transaction(database.engine) as db:
        exam = get_session(db, "CC-1")
        mark_as(db, exam, "e2", {Q: "3"})
    output = refused(
        blindmark(
            database,
            "correct",
            "--session",
            "CC-1",
            "--response",
            handle,
            "--by",
            "e1",
            "--value",
            "4",
            "--reason",
            "x",
        ),
        4,
    )
    assert "final: only the lead examiner corrects" in output
    assert "needs a reason" in refused(
        blindmark(
            database,
            "correct",
            "--session",
            "CC-1",
            "--script",
            script,
            "--question",
            "theory/2",
            "--by",
            "lead",
            "--examiner",
            "e1",
            "--value",
            "4",
            "--reason",
            " ",
        ),
        1,
    )
    out = ok(
        blindmark(
            database,
            "correct",
            "--session",
            "CC-1",
            "--script",
            script,
            "--question",
            "theory/2",
            "--by",
            "lead",
            "--examiner",
            "e1",
            "--value",
            "4",
            "--reason",
            "复核",
        )
    )
    assert out == "mark corrected from 3 to 4 by lead: the response is final, final 3.5\n"
    with transaction(database.engine) as db:
        exam = get_session(db, "CC-1")
        response = f.response_of(db, exam, Q)
        assert (response.state, response.final) == (ResponseState.FINAL, Decimal("3.5"))
    assert refused(
        blindmark(
            database,
            "correct",
            "--session",
            "CC-1",
            "--by",
            "lead",
            "--value",
            "1",
            "--reason",
            "x",
        ),
        2,
    )
