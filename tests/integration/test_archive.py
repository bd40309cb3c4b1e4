"""`blindmark archive` and `blindmark verify --archive`: a published session kept as one
zip that anyone can check without the database (档案管理: 工作人员职责 十一、负责…档案管理;
十、成绩的统计、汇总、造册、上报), every tampering caught and named."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import bundle
from marking.audit.bundle import check_archive
from marking.cli import main
from marking.demo.demo import run_demo
from marking.errors import InputError, StateError
from marking.read.archive import write_archive
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import Publication, Result
from tests.conftest import FreshDatabase
from tests.integration import factory

CANDIDATES = 24


@dataclass
class Archived:
    database: FreshDatabase
    code: str
    path: Path
    folder: Path


@pytest.fixture(scope="module")
def archived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archived]:
    """The demo's published level-3 session and its archive (`blindmark archive`), made
    once for the module."""
    folder = tmp_path_factory.mktemp("archive")
    database = FreshDatabase(folder)
    try:
        codes = run_demo(
            database.engine,
            candidates=CANDIDATES,
            seed=5,
            out_dir=folder / "out",
            echo=lambda _s: None,
        )
        path = folder / "session.zip"
        command = ["--db", database.url, "archive", "--session", codes[0], "--out", str(path)]
        made = CliRunner().invoke(main, [*command, "--workers", "1"])
        assert made.exit_code == 0, made.output
        # two result files per revision (2), a records file per table (10)
        assert f"wrote {path}: 26 files" in made.output
        assert "revision 1: results " in made.output
        assert "revision 2: results " in made.output
        assert not path.with_name("session.zip.part").exists()
        yield Archived(database, codes[0], path, folder)
    finally:
        database.drop()


def rewritten(
    source: Path,
    target: Path,
    change: Callable[[dict[str, bytes]], None],
    *,
    fix_manifest: bool = True,
) -> Path:
    """A copy of the archive with ``change`` applied to its files (name -> bytes), its
    manifest's digests recomputed to match unless ``fix_manifest`` is False: what a forger
    who knows the format would do."""
    with zipfile.ZipFile(source) as z:
        files = {name: z.read(name) for name in z.namelist()}
    change(files)
    if fix_manifest and "manifest.json" in files:
        manifest = json.loads(files["manifest.json"])
        manifest["files"] = {
            name: {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            for name, body in files.items()
            if name != "manifest.json"
        }
        files["manifest.json"] = json.dumps(manifest, ensure_ascii=False).encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in files.items():
            z.writestr(name, body)
    return target


def edit_csv(files: dict[str, bytes], name: str, edit: Callable[[list[list[str]]], None]) -> None:
    rows = list(csv.reader(io.StringIO(files[name].decode("utf-8-sig"))))
    edit(rows)
    out = io.StringIO()
    out.write("\ufeff")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    files[name] = out.getvalue().encode()


def problems(path: Path) -> list[str]:
    return check_archive(path).problems


def test_the_archive_of_a_published_session_verifies(archived: Archived) -> None:
    """The whole bundle holds: manifest, chains, results digest and ledger head, finals
    and component scores recomputed from the marks (档案管理)."""
    report = check_archive(archived.path)
    assert report.problems == []
    assert report.code == archived.code
    assert report.candidates == CANDIDATES
    assert report.responses > 0 and report.entries > 0
    with zipfile.ZipFile(archived.path) as z:
        names = set(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
    for expected in (
        "session/session.toml",
        "results/revision-1.csv",
        "results/revision-1.json",
        "marks/marks.csv",
        "marks/finals.csv",
        "marks/records/mark.csv",
        "marks/records/mark_withdrawal.csv",
        "marks/records/arbitration.csv",
        "marks/records/key_correction.csv",
        "marks/records/mark_correction.csv",
        "marks/records/revision.csv",
        "marks/records/revised_response.csv",
        "results/revision-2.json",
        "ledger/session.jsonl",
        "reports/register.pdf",
        "reports/notices.pdf",
        "reports/passlist.pdf",
        "reports/stats.pdf",
    ):
        assert expected in names
    with transaction(archived.database.engine) as db:
        exam = get_session(db, archived.code)
        published = list(
            db.scalars(
                select(Publication)
                .where(Publication.session_id == exam.id)
                .order_by(Publication.revision)
            )
        )
        assert [p.revision for p in published] == [1, 2]
        for listed, publication in zip(manifest["publications"], published, strict=True):
            assert listed["results_sha256"] == publication.results_sha256
            assert listed["ledger_head"] == publication.ledger_head
        assert report.heads == [(p.revision, p.ledger_head) for p in published]
    assert manifest["session"]["code"] == archived.code
    assert manifest["blindmark_version"] and manifest["created_at"]


def test_a_changed_results_row_is_caught_though_the_manifest_was_fixed_up(
    archived: Archived, tmp_path: Path
) -> None:
    """A score changed in the results (CSV and JSON alike, manifest recomputed) no longer
    hashes to the digest recorded at publication (DESIGN §6, §7)."""

    def raise_a_score(files: dict[str, bytes]) -> None:
        body = json.loads(files["results/revision-1.json"])
        score = body["columns"].index("theory_score")
        body["rows"][0][score] = "99.9"
        files["results/revision-1.json"] = json.dumps(body, ensure_ascii=False).encode()
        edit_csv(files, "results/revision-1.csv", lambda rows: rows[1].__setitem__(score, "99.9"))

    found = problems(rewritten(archived.path, tmp_path / "t.zip", raise_a_score))
    assert any("do not hash to the published digest" in p for p in found), found
    assert any("(revision 1): theory score 99.9 in the results" in p for p in found), found


def test_a_changed_ledger_entry_is_named(archived: Archived, tmp_path: Path) -> None:
    """The chain is recomputed with the ledger's own hashing and the first broken entry
    named (DESIGN §7)."""

    def change_entry(files: dict[str, bytes]) -> None:
        lines = files["ledger/session.jsonl"].decode().splitlines()
        entry = json.loads(lines[5])
        entry["payload"]["forged"] = True
        lines[5] = json.dumps(entry, ensure_ascii=False)
        files["ledger/session.jsonl"] = ("\n".join(lines) + "\n").encode()

    target = rewritten(archived.path, tmp_path / "t.zip", change_entry)
    with zipfile.ZipFile(target) as z:
        entry = json.loads(z.read("ledger/session.jsonl").splitlines()[5])
    found = problems(target)
    assert any(
        f"ledger chain broken at lane {entry['lane']!r}, seq {entry['seq']} (entry {entry['id']})"
        in p
        and "content was changed" in p
        for p in found
    ), found


def test_a_changed_mark_is_caught_by_the_ledger_and_the_finals(
    archived: Archived, tmp_path: Path
) -> None:
    """A mark changed in the records no longer matches its ledger entry, and the final
    recomputed from the marks (DESIGN §5) disagrees with finals.csv (R3, R6)."""
    with zipfile.ZipFile(archived.path) as z:
        marks = list(
            csv.DictReader(io.StringIO(z.read("marks/records/mark.csv").decode("utf-8-sig")))
        )
        responses = {
            r["response_id"]: r
            for r in csv.DictReader(io.StringIO(z.read("marks/responses.csv").decode("utf-8-sig")))
        }
        withdrawn = {
            w["mark_id"]
            for w in csv.DictReader(
                io.StringIO(z.read("marks/records/mark_withdrawal.csv").decode("utf-8-sig"))
            )
        }
    # A double mark in force on a response whose two marks agreed (not one the appeal
    # revision superseded, which counts in revision 1 only): raise it beyond tolerance.
    target = next(
        m
        for m in marks
        if m["kind"] == "double"
        and m["id"] not in withdrawn
        and responses[m["response_id"]]["final_rule"] == "agreed"
    )
    index = marks.index(target) + 1

    def change_mark(files: dict[str, bytes]) -> None:
        def edit(rows: list[list[str]]) -> None:
            value = rows[0].index("value")
            rows[index][value] = "0" if rows[index][value] != "0" else "9"

        edit_csv(files, "marks/records/mark.csv", edit)

    found = problems(rewritten(archived.path, tmp_path / "t.zip", change_mark))
    response = responses[target["response_id"]]
    assert any(p.startswith(f"mark {target['id']}: ") and "in the ledger" in p for p in found)
    assert any(
        p.startswith(
            f"script {response['script_code']}, {response['component']} question "
            f"{response['question']}: finals.csv holds"
        )
        for p in found
    ), found


def test_a_file_removed_added_or_changed_is_named(archived: Archived, tmp_path: Path) -> None:
    """The manifest names every file with its SHA-256 and size: one removed, one slipped
    in, one changed without fixing the manifest, each is named."""
    removed = rewritten(
        archived.path,
        tmp_path / "removed.zip",
        lambda f: f.pop("reports/passlist.pdf"),
        fix_manifest=False,
    )
    assert (
        "reports/passlist.pdf is listed in the manifest but missing from the archive"
        in problems(removed)
    )
    added = rewritten(
        archived.path,
        tmp_path / "added.zip",
        lambda f: f.__setitem__("results/revision-9.csv", b"exam_no\n"),
        fix_manifest=False,
    )
    assert any(
        "results/revision-9.csv is in the archive but not in the manifest" in p
        for p in problems(added)
    )
    changed = rewritten(
        archived.path,
        tmp_path / "changed.zip",
        lambda f: f.__setitem__("session/session.toml", f["session/session.toml"] + b"\n# x\n"),
        fix_manifest=False,
    )
    assert any(
        p.startswith("session/session.toml differs from the manifest") for p in problems(changed)
    )


def test_verify_archive_needs_no_database(archived: Archived, tmp_path: Path) -> None:
    """`blindmark verify --archive` on a machine without the database: no URL, no instance
    folder, a bare working folder; exit 0 when all holds, 7 and the reason otherwise."""
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    shutil.copy(archived.path, cwd / "a.zip")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLINDMARK_")}
    blindmark = str(Path(sys.executable).parent / "blindmark")
    command = [blindmark, "verify", "--archive", "a.zip"]
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "archive intact" in done.stdout
    assert f"archive of session {archived.code}" in done.stdout
    rewritten(
        archived.path,
        cwd / "b.zip",
        lambda f: f.pop("reports/stats.pdf"),
        fix_manifest=False,
    )
    command[-1] = "b.zip"
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 7
    assert "BROKEN: reports/stats.pdf is listed in the manifest but missing" in done.stderr
    assert sorted(p.name for p in cwd.iterdir()) == ["a.zip", "b.zip"]  # no instance/ made


def test_the_archive_holds_no_path_of_the_server(archived: Archived) -> None:
    """Nothing in the bundle names a folder of the machine that made it."""
    with zipfile.ZipFile(archived.path) as z:
        for name in z.namelist():
            assert not name.startswith("/") and ".." not in name
            body = z.read(name)
            for path in (str(archived.folder), str(Path.cwd()), str(Path.home())):
                assert path.encode() not in body, (name, path)


def test_chinese_names_survive_in_utf8(archived: Archived) -> None:
    """Candidates' Chinese names read back from the results CSV and JSON exactly as the
    database holds them."""
    with transaction(archived.database.engine) as db:
        exam = get_session(db, archived.code)
        names = {
            r.exam_no: r.name
            for r in db.scalars(select(Result).where(Result.session_id == exam.id))
        }
    assert any("\u4e00" <= ch <= "\u9fff" for n in names.values() for ch in n)
    with zipfile.ZipFile(archived.path) as z:
        table = list(
            csv.DictReader(io.StringIO(z.read("results/revision-1.csv").decode("utf-8-sig")))
        )
        body = json.loads(z.read("results/revision-1.json").decode("utf-8"))
    assert {r["exam_no"]: r["name"] for r in table} == names
    assert {r[0]: r[1] for r in body["rows"]} == names


def test_an_unpublished_session_is_refused(db: Session, tmp_path: Path) -> None:
    """Before publication an archive would leak candidates' scores (R8): refused, coded."""
    tiny = factory.tiny_session(db, tmp_path, "ARCH-DRAFT")
    with pytest.raises(StateError) as refused:
        write_archive(db, tiny.exam, io.BytesIO())
    assert refused.value.code == "archive_unpublished"
    assert "ARCH-DRAFT is not published" in str(refused.value)


def test_a_ledger_head_not_in_the_chain_is_named(archived: Archived, tmp_path: Path) -> None:
    """The head printed at publication must be the head of the bundled chains as they stood
    at the publication entry (DESIGN §6, §7): a manifest claiming another is caught."""

    def other_head(files: dict[str, bytes]) -> None:
        manifest = json.loads(files["manifest.json"])
        manifest["publications"][0]["ledger_head"] = "f" * 64
        files["manifest.json"] = json.dumps(manifest).encode()

    found = problems(rewritten(archived.path, tmp_path / "t.zip", other_head))
    assert found == [
        f"the ledger head of revision 1 ({'f' * 64}) is not the head of the bundled ledger "
        "at its publication"
    ]


def test_an_outcome_that_does_not_follow_from_the_scores_is_named(
    archived: Archived, tmp_path: Path
) -> None:
    """A candidate who passed every component turned into a failure: besides the digest,
    the outcome recomputed from the scores (DESIGN §11) names the candidate."""
    with zipfile.ZipFile(archived.path) as z:
        body = json.loads(z.read("results/revision-1.json"))
    passed = next(i for i, r in enumerate(body["rows"]) if r[3] == "pass")

    def fail_them(files: dict[str, bytes]) -> None:
        body["rows"][passed][3] = "fail"
        files["results/revision-1.json"] = json.dumps(body, ensure_ascii=False).encode()
        edit_csv(
            files, "results/revision-1.csv", lambda rows: rows[passed + 1].__setitem__(3, "fail")
        )

    found = problems(rewritten(archived.path, tmp_path / "t.zip", fail_them))
    exam_no = body["rows"][passed][0]
    assert (
        f"candidate {exam_no} (revision 1): outcome fail in the results, but its scores give pass"
        in found
    )


def test_a_crafted_archive_is_refused_not_a_crash(archived: Archived, tmp_path: Path) -> None:
    """An archive whose manifest is fixed up but whose results file is no JSON, or whose
    rows are of the wrong length, or whose ledger line is a list: refused as an archive
    that cannot be read (the verify screen says so), never an uncaught error (档案管理)."""
    broken = {
        "not-json": lambda f: f.__setitem__("results/revision-1.json", b"\xff=cmd|' /C calc'!A0"),
        "short-row": lambda f: f.__setitem__(
            "results/revision-1.json", json.dumps({"columns": ["a", "b"], "rows": [["1"]]}).encode()
        ),
        "no-columns": lambda f: f.__setitem__("results/revision-1.json", b"[]"),
    }
    for label, change in broken.items():
        path = rewritten(archived.path, tmp_path / f"{label}.zip", change)
        with pytest.raises(InputError) as refused:
            check_archive(path)
        assert "not a blindmark archive" in str(refused.value), label


def test_a_member_too_large_to_read_whole_is_refused(
    archived: Archived, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ledger, manifest and tables are read whole: one that unpacks beyond the limit
    (a crafted archive within the zip limits may unpack to gigabytes) is refused before a
    byte of it is read, naming it."""
    monkeypatch.setattr(bundle, "READ_LIMIT", 4096)
    padded = rewritten(
        archived.path,
        tmp_path / "padded.zip",
        lambda f: f.__setitem__("ledger/session.jsonl", f["ledger/session.jsonl"] + b" " * 8192),
    )
    with pytest.raises(InputError) as refused:
        check_archive(padded)
    assert "unpacks to more than" in str(refused.value)


def test_the_archives_tables_open_as_text_in_a_spreadsheet(
    archived: Archived, tmp_path: Path
) -> None:
    """A name or reason that starts like a formula (=HYPERLINK, +cmd) is written quoted,
    as in the §11 exports (reports/cells.py), and the check reads it back unquoted."""
    from marking.read.archive import _csv_parts

    written = b"".join(_csv_parts(["name"], [['=HYPERLINK("http://x","点击")'], ["-0.5"]]))
    assert b"'=HYPERLINK" in written and b"\r\n-0.5\r\n" in written

    name = '=HYPERLINK("http://x","点击")'

    def rename(files: dict[str, bytes]) -> None:
        body = json.loads(files["results/revision-1.json"])
        body["rows"][0][1] = name
        files["results/revision-1.json"] = json.dumps(body, ensure_ascii=False).encode()
        edit_csv(files, "results/revision-1.csv", lambda rows: rows[1].__setitem__(1, "'" + name))

    found = problems(rewritten(archived.path, tmp_path / "formula.zip", rename))
    assert any("do not hash to the published digest" in p for p in found)  # a name changed
    assert not any("results/revision-1.csv" in p for p in found), found
