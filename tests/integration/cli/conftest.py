"""Fixtures of the command line's tests: `blindmark` run against a fresh database, at each stage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from anonymizer import keys
from marking import cli as cli_module
from marking.cli import main
from marking.demo import synthetic
from tests.conftest import FreshDatabase
from tests.integration.cli.cli_support import CODE, KEYS_INIT, TWO_OF_THREE, Run


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
