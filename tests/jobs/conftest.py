"""A published session (the demo's level-3 one) in a database the jobs may commit to."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from marking.demo.demo import run_demo
from tests.conftest import FreshDatabase

CANDIDATES = 24


@dataclass
class Published:
    database: FreshDatabase
    code: str


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    folder = tmp_path_factory.mktemp("jobs")
    database = FreshDatabase(folder)
    try:
        codes = run_demo(
            database.engine,
            candidates=CANDIDATES,
            seed=5,
            out_dir=folder / "out",
            echo=lambda _s: None,
        )
        yield Published(database, codes[0])
    finally:
        database.drop()
