"""The house's sizes: no function longer than about 80 lines, no module longer than about 600.

A long function hides its seams and a long module its rooms; the paper path, governance and
quality control build on these modules, so they must stay readable. Tables of data are
exempt (a migration's schema, the OpenAPI document): their length is their content.
Which package may import which is `lint-imports`' job (pyproject.toml, `make lint`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("marking", "web", "reports", "anonymizer", "bench", "tests")
MAX_FUNCTION = 80
MAX_MODULE = 600
# Tables of data, not code.
DATA = {"web/openapi.py"}
DATA_FOLDERS = ("marking/store/migrations/versions/",)


def modules() -> Iterator[Path]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if name not in DATA and not name.startswith(DATA_FOLDERS):
                yield path


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def long_functions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            assert node.end_lineno is not None
            length = node.end_lineno - node.lineno + 1
            # A test reads top to bottom as one scenario; its helpers and fixtures are held
            # to the limit like any code.
            scenario = node.name.startswith("test_") and rel(path).startswith("tests/")
            if length > MAX_FUNCTION and not scenario:
                found.append(f"{node.name} (line {node.lineno}, {length} lines)")
    return found


def test_the_walk_sees_the_packages() -> None:
    seen = {rel(p).split("/")[0] for p in modules()}
    assert seen == set(PACKAGES)


@pytest.mark.parametrize("path", list(modules()), ids=rel)
def test_functions_are_short(path: Path) -> None:
    found = long_functions(path)
    assert not found, f"{rel(path)}: longer than {MAX_FUNCTION} lines: {', '.join(found)}"


@pytest.mark.parametrize("path", list(modules()), ids=rel)
def test_modules_are_short(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_MODULE, f"{rel(path)}: {lines} lines, more than {MAX_MODULE}"
