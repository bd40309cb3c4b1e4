"""The architecture's boundaries, checked by walking every module's imports and calls."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ("marking", "anonymizer", "reports")
# The one place allowed to unseal identities (DESIGN §3, CONVENTIONS "dependencies").
UNSEAL_IMPORTERS = {"marking/publication/unsealing.py"}


def modules(*packages: str) -> Iterator[Path]:
    for package in packages:
        yield from sorted((ROOT / package).rglob("*.py"))


def imported_names(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_core_packages_exist() -> None:
    found = {p.parts[len(ROOT.parts)] for p in modules(*CORE)}
    assert found == set(CORE)


@pytest.mark.parametrize("path", list(modules(*CORE)), ids=rel)
def test_core_never_imports_flask(path: Path) -> None:
    bad = {n for n in imported_names(path) if n == "flask" or n.startswith(("flask.", "flask_"))}
    assert not bad, f"{rel(path)} imports {sorted(bad)}: the core must not depend on the web"


@pytest.mark.parametrize("path", list(modules(*CORE, "web")), ids=rel)
def test_only_publication_imports_the_unsealing_half(path: Path) -> None:
    names = imported_names(path)
    unseal = {n for n in names if n == "anonymizer.unseal" or n.startswith("anonymizer.unseal.")}
    if rel(path).startswith("anonymizer/"):
        return  # the package itself
    assert not unseal or rel(path) in UNSEAL_IMPORTERS, (
        f"{rel(path)} imports {sorted(unseal)}; only {sorted(UNSEAL_IMPORTERS)} may unseal"
    )


@pytest.mark.parametrize("path", list(modules("anonymizer")), ids=rel)
def test_anonymizer_is_standalone(path: Path) -> None:
    bad = {n for n in imported_names(path) if n.split(".")[0] in {"marking", "web", "reports"}}
    assert not bad, f"{rel(path)} imports {sorted(bad)}: anonymizer depends on nothing of ours"


def decrypt_calls(path: Path) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "decrypt"
    ]


# Besides unsealing, one module decrypts: the key shares the server keeps for custodians
# until each downloads their own (web custody). It opens shares, never identities.
SHARE_UNWRAPPER = "anonymizer/custody.py"


@pytest.mark.parametrize("path", list(modules(*CORE, "web")), ids=rel)
def test_only_the_unsealing_module_decrypts(path: Path) -> None:
    if rel(path) in ("anonymizer/unseal.py", SHARE_UNWRAPPER):
        assert decrypt_calls(path), f"{rel(path)} is expected to hold a decryption"
        return
    assert not decrypt_calls(path), f"{rel(path)} calls .decrypt(): only anonymizer/unseal.py may"


def test_the_share_unwrapper_cannot_unseal() -> None:
    names = imported_names(ROOT / SHARE_UNWRAPPER)
    assert not {n for n in names if n.startswith("anonymizer.unseal")}, (
        f"{SHARE_UNWRAPPER} must not import the unsealing half"
    )


def test_the_walk_catches_a_breach(tmp_path: Path) -> None:
    # The checks above would be worthless if the walker missed these forms.
    sample = tmp_path / "bad.py"
    sample.write_text(
        "import flask\nfrom anonymizer.unseal import SessionKey\nx.decrypt(b'', k)\n",
        encoding="utf-8",
    )
    assert "flask" in imported_names(sample)
    assert "anonymizer.unseal" in imported_names(sample)
    assert decrypt_calls(sample) == [3]
