"""`blindmark --help` for every command, `init`, and commands refused before it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from marking.cli import main
from marking.demo import synthetic
from marking.store import schema
from tests.integration.cli.cli_support import CODE, Run, ok, refused


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
