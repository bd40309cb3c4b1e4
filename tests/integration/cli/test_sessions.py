"""`blindmark session create`: what it reports, and a bad definition refused whole."""

from __future__ import annotations

import re
from pathlib import Path

from marking.store.models import ExamSession
from tests.conftest import FreshDatabase
from tests.integration.cli.cli_support import CODE, Run, count, ok, refused

BAD_TOML = """\
[session]
code = "BAD 01"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 7
date = "2026-12-05"
station = "GD-0107"

[[components]]
key = "theory"

[[components.questions]]
number = "1"
type = "single_choice"
max = 1
answer = "B"

[[components.questions]]
number = "2"
bank_item = "X-2"
type = "short_answer"
max = 10
"""


def test_session_create_reports_what_it_created(ready: Run, session_toml: Path) -> None:
    output = ok(ready("session", "create", session_toml))

    assert output.strip() == (
        f"session {CODE} created: 电工 level 3, 2 component(s), 12 question(s), 5 marking group(s)"
    )
    refusal = refused(ready("session", "create", session_toml), 1)
    assert f"a session with code {CODE!r} already exists" in refusal


def test_session_create_lists_every_problem_of_a_bad_definition(
    ready: Run, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD_TOML, encoding="utf-8")

    output = refused(ready("session", "create", path), 2)

    assert "4 problem(s) found; nothing was stored" in output
    for where, reason in [
        ("bad.toml, session, column code", "may hold only letters"),
        ("bad.toml, session, column level", "must be 1 (senior technician) to 5 (entry)"),
        ("bad.toml, components[1].questions[1] (question 1), column bank_item", "bank item"),
        ("bad.toml, components[1].questions[2] (question 2), column tolerance", "missing"),
    ]:
        assert re.search(rf"^\s*{re.escape(where)}: .*{re.escape(reason)}", output, re.M), where
    assert count(fresh_db.engine, ExamSession) == 0


def test_session_create_names_the_line_of_a_toml_syntax_error(ready: Run, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[session]\ncode = "A"\nlevel = \n', encoding="utf-8")

    output = refused(ready("session", "create", path), 2)

    assert output.strip().startswith("error: broken.toml, line 3")
    assert "not valid TOML" in output
