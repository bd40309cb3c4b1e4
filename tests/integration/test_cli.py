"""The `blindmark` command line, run in-process against a database the test owns."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import click
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as OrmSession

from anonymizer import keys
from anonymizer.unseal import SessionKey
from marking import cli as cli_module
from marking.cli import main
from marking.demo import synthetic
from marking.store import schema
from marking.store.models import (
    Account,
    Examiner,
    ExamSession,
    Exclusion,
    IntakeBatch,
    PendingConflict,
    Response,
    Role,
    Script,
    SessionState,
)
from tests.conftest import FreshDatabase

PASSPHRASE = "correct horse battery staple"
CODE = "CLI-01"
KEYS_INIT = ("keys", "init", "--session", CODE)
TWO_OF_THREE = ("--custodians", 3, "--threshold", 2)
PAPER_COLUMNS = "component,question,bank_item,type,max,step,tolerance,group,marks_required"


class Run(Protocol):
    def __call__(self, *args: object, env: dict[str, str | None] | None = None) -> Result: ...


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Key files derived with a tiny Argon2id cost; the format and checks stay the same."""
    real = keys.KdfParams
    monkeypatch.setattr(keys, "KdfParams", lambda: real(iterations=1, lanes=1, memory_cost=8))


@pytest.fixture
def run(fresh_db: FreshDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    """Invoke `blindmark --db <fresh database> ...`; each command's engine is closed after it."""
    engines: list[Engine] = []
    make_engine = cli_module.make_engine

    def tracked(url: str | None = None, **kwargs: Any) -> Engine:
        engine = make_engine(url, **kwargs)
        engines.append(engine)
        return engine

    monkeypatch.setattr(cli_module, "make_engine", tracked)
    monkeypatch.delenv("BLINDMARK_KEY_PASSPHRASE", raising=False)
    runner = CliRunner()

    def invoke(*args: object, env: dict[str, str | None] | None = None) -> Result:
        try:
            return runner.invoke(
                main, ["--db", fresh_db.url, *map(str, args)], env=env, prog_name="blindmark"
            )
        finally:
            while engines:
                engines.pop().dispose()

    yield invoke


@pytest.fixture
def ready(run: Run) -> Run:
    """A migrated database."""
    assert run("init").exit_code == 0
    return run


@pytest.fixture
def session_toml(tmp_path: Path) -> Path:
    path = tmp_path / "session.toml"
    path.write_text(synthetic.session_toml(CODE, questions_per_component=6), encoding="utf-8")
    return path


@pytest.fixture
def keyed(ready: Run, session_toml: Path, tmp_path: Path) -> Run:
    """A session CLI-01 with a 2-of-3 key."""
    assert ready("session", "create", session_toml).exit_code == 0
    done = ready(*KEYS_INIT, *TWO_OF_THREE, "--out", tmp_path / "shares")
    assert done.exit_code == 0, done.output
    return ready


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result, exit_code: int) -> str:
    """The output of a command that failed cleanly: handled, with the given exit code."""
    assert result.exit_code == exit_code, result.output
    # A handled error ends in SystemExit; anything else would be a crash (a traceback).
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


def count(engine: Engine, table: type[Any]) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table)) or 0


def session_row(engine: Engine) -> tuple[SessionState, bytes | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(ExamSession.state, ExamSession.public_key).where(ExamSession.code == CODE)
        ).one()
    return row[0], row[1]


# --- help -------------------------------------------------------------------------------------


def command_paths(
    group: click.Group = main, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield prefix, group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = list(command_paths())


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_command_tree_is_the_expected_one() -> None:
    paths = {" ".join(path) for path, _command in COMMANDS}
    assert {"init", "session create", "keys init", "intake", "status", "export"} <= paths


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "blindmark" for p, _c in COMMANDS]
)
def test_help_of_every_command_explains_it(path: tuple[str, ...], command: click.Command) -> None:
    result = CliRunner().invoke(main, [*path, "--help"], prog_name="blindmark")

    output = ok(result)
    assert output.startswith(f"Usage: {' '.join(('blindmark', *path))} ")
    assert command.help, f"`{' '.join(path)}` has no help text"
    assert _flat(command.help.splitlines()[0]) in _flat(output)
    if isinstance(command, click.Group):
        for name in command.commands:
            assert re.search(rf"^\s+{re.escape(name)}\b", output, re.M), name
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert any(opt in output for opt in param.opts), param.name


# --- init and the schema ----------------------------------------------------------------------


def test_init_creates_the_schema_then_finds_it_current(run: Run) -> None:
    head = schema.head_revision()

    assert ok(run("init")).strip() == f"schema created at {head}"
    assert ok(run("init")).strip() == f"schema already current ({head})"


COMMANDS_NEEDING_A_SCHEMA: dict[str, Callable[[Path], list[object]]] = {
    "status": lambda tmp: ["status", "--session", CODE],
    "session create": lambda tmp: ["session", "create", tmp / "session.toml"],
    "examiners import": lambda tmp: ["examiners", "import", tmp / "examiners.csv"],
    "export paper": lambda tmp: ["export", "paper", "--session", CODE, "--out", tmp / "p.csv"],
}


@pytest.mark.parametrize(
    "args", COMMANDS_NEEDING_A_SCHEMA.values(), ids=COMMANDS_NEEDING_A_SCHEMA.keys()
)
def test_a_command_before_init_says_to_run_init(
    run: Run, session_toml: Path, tmp_path: Path, args: Callable[[Path], list[object]]
) -> None:
    synthetic.examiners_csv(tmp_path / "examiners.csv", count=2, seed=1)

    output = refused(run(*args(tmp_path)), 1)

    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "run `blindmark init`" in lines[0]
    assert not (tmp_path / "p.csv").exists()


# --- sessions ---------------------------------------------------------------------------------

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


# --- keys -------------------------------------------------------------------------------------


def test_keys_init_with_a_key_file(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase, fast_kdf: None
) -> None:
    ok(ready("session", "create", session_toml))
    key_file = tmp_path / "custody" / "CLI-01.key"
    key_file.parent.mkdir()
    env = {"BLINDMARK_KEY_PASSPHRASE": PASSPHRASE}

    output = ok(ready(*KEYS_INIT, "--key-file", key_file, env=env))

    assert f"wrote {key_file}" in output
    assert "passphrase" in output
    state, public_key = session_row(fresh_db.engine)
    assert public_key is not None
    assert json.loads(key_file.read_text())["session"] == CODE
    # The file opens with the passphrase and holds the key whose public half was stored.
    SessionKey.from_key_file(key_file, PASSPHRASE, expected_public_key=public_key)

    again = tmp_path / "custody" / "second.key"
    refusal = refused(ready(*KEYS_INIT, "--key-file", again, env=env), 4)
    assert "already has a key" in refusal
    assert not again.exists()
    assert session_row(fresh_db.engine) == (state, public_key)


def test_keys_init_with_shares(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))
    out = tmp_path / "shares"

    output = ok(ready(*KEYS_INIT, *TWO_OF_THREE, "--out", out))

    shares = sorted(out.glob("share-*-of-3.txt"))
    assert len(shares) == 3
    for share in shares:
        assert f"wrote {share}" in output
    assert "any 2" in output
    _state, public_key = session_row(fresh_db.engine)
    for pair in ([shares[0], shares[1]], [shares[1], shares[2]], [shares[0], shares[2]]):
        SessionKey.from_share_files(pair, expected_public_key=public_key)

    refusal = refused(ready(*KEYS_INIT, *TWO_OF_THREE, "--out", tmp_path / "more"), 4)
    assert "already has a key" in refusal
    assert not (tmp_path / "more").exists()
    assert session_row(fresh_db.engine)[1] == public_key


def test_keys_init_refuses_two_custody_modes_at_once(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))
    key_file = tmp_path / "k.key"

    result = ready(
        *KEYS_INIT,
        *("--key-file", key_file),
        *(*TWO_OF_THREE, "--out", tmp_path / "shares"),
        env={"BLINDMARK_KEY_PASSPHRASE": PASSPHRASE},
    )

    output = refused(result, 2)
    assert "Usage: blindmark keys init" in output
    assert "choose one custody" in output
    assert not key_file.exists()
    assert not (tmp_path / "shares").exists()
    assert session_row(fresh_db.engine)[1] is None
    refused(ready("keys", "init", "--session", CODE), 2)  # neither mode


def test_keys_init_without_a_passphrase_stores_no_key(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))

    output = refused(ready(*KEYS_INIT, "--key-file", tmp_path / "k"), 1)

    assert "BLINDMARK_KEY_PASSPHRASE" in output
    assert not (tmp_path / "k").exists()
    assert session_row(fresh_db.engine)[1] is None


def test_keys_init_refuses_a_guessable_passphrase_saying_why(
    ready: Run, session_toml: Path, tmp_path: Path, fresh_db: FreshDatabase
) -> None:
    ok(ready("session", "create", session_toml))
    key_file = tmp_path / "k.key"

    for weak in ("password1234", "qwertyuiop", CODE + "-key"):
        output = refused(
            ready(*KEYS_INIT, "--key-file", key_file, env={"BLINDMARK_KEY_PASSPHRASE": weak}), 5
        )
        assert "too easy to guess" in output and "of 4" in output

    assert not key_file.exists()
    assert session_row(fresh_db.engine)[1] is None


# --- examiners and conflicts ------------------------------------------------------------------


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


# --- intake, status, export -------------------------------------------------------------------


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


PAPER_TOML = """\
[session]
code = "CLI-01"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 3
date = "2026-12-05"
station = "GD-0107"

[[groups]]
key = "short"
name = "简答题"
marks_required = 3

[[components]]
key = "theory"

[[components.questions]]
number = "1"
bank_item = "DG3-0001"
type = "single_choice"
max = 1
answer = "B"

[[components.questions]]
number = "2"
bank_item = "DG3-0002"
type = "true_false"
max = 0.5
answer = "对"

[[components.questions]]
number = "3"
bank_item = "DG3-0003"
type = "fill_blank"
max = 2
answer = ["接地", "接零"]

[[components.questions]]
number = "41"
bank_item = "DG3-0041"
type = "short_answer"
max = 7.5
step = 0.5
tolerance = 1.5
group = "short"

[[components]]
key = "skills"

[[components.questions]]
number = "1"
bank_item = "DG3S-0001"
type = "practical"
max = 20
tolerance = 3

[[components.questions]]
number = "2"
bank_item = "DG3S-0002"
type = "calculation"
max = 10.0
step = 0.25
tolerance = 2
"""


def test_export_paper_writes_the_paper_as_excel_ready_csv(ready: Run, tmp_path: Path) -> None:
    (tmp_path / "paper.toml").write_text(PAPER_TOML, encoding="utf-8")
    ok(ready("session", "create", tmp_path / "paper.toml"))
    out = tmp_path / "paper.csv"

    output = ok(ready("export", "paper", "--session", CODE, "--out", out))

    assert output.strip() == f"wrote {out} (6 rows)"
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert ",".join(rows[0]) == PAPER_COLUMNS
    assert rows[1:] == [
        ["theory", "1", "DG3-0001", "single_choice", "1", "1", "", "", ""],
        ["theory", "2", "DG3-0002", "true_false", "0.5", "0.5", "", "", ""],
        ["theory", "3", "DG3-0003", "fill_blank", "2", "2", "", "", ""],
        ["theory", "41", "DG3-0041", "short_answer", "7.5", "0.5", "1.5", "short", "3"],
        ["skills", "1", "DG3S-0001", "practical", "20", "1", "3", "practical", "2"],
        ["skills", "2", "DG3S-0002", "calculation", "10", "0.25", "2", "calculation", "2"],
    ]


@pytest.mark.parametrize("what", ["marks", "finals", "results"])
def test_export_of_scores_by_script_is_refused_before_publication(
    ready: Run, session_toml: Path, tmp_path: Path, what: str
) -> None:
    """R8: no scores or marking details before the session is published as a whole. DESIGN
    §11 marks only ``results`` as after publication; marks and finals name scripts and
    their scores just the same, so the command line refuses them too."""
    ok(ready("session", "create", session_toml))
    out = tmp_path / f"{what}.csv"

    output = refused(ready("export", what, "--session", CODE, "--out", out), 4)

    assert "not published" in output and "(R8)" in output
    assert not out.exists()
