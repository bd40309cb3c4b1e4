"""`blindmark verify --archive F.zip`: a session's archive checked with no database.

In order: every file against the manifest (a file changed, missing or added is named);
the ledger's chains recomputed with the ledger's own hashing (``ledger.walk_chains``), to
the first broken entry, and each chain's end against its recorded tip; each publication's
results digest recomputed from the bundled results and found in the ledger, and its ledger
head recomputed from the chains as they stood at that entry; the marks against the
entries that recorded them; every final recomputed from the marks by DESIGN §5 and every
component score from the finals by §11, with the domain's own functions
(``marking.domain.rules``), to the first disagreement.

The manifest can be rewritten by whoever rewrites the files; what anchors an archive is
the ledger head printed on the published score register, which the check prints.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from marking.audit import ledger
from marking.audit.bundle_finals import check_finals, check_scores
from marking.domain.archives import ZipLimits, open_zip
from marking.errors import InputError
from marking.publication.results import results_digest
from reports.cells import FORMULA_STARTS

MIB = 1 << 20
#: An archive: a few dozen files; the ledger of a 2,000-candidate session is ~60 MB.
ARCHIVE = ZipLimits(entries=2_000, expanded=8192 * MIB, ratio=200)
#: The largest member read whole into memory: ten times that ledger.
READ_LIMIT = 640 * MIB
#: What a crafted or damaged member raises while it is read and parsed.
_UNREADABLE = (ValueError, KeyError, TypeError, IndexError, AttributeError, EOFError,
               zipfile.BadZipFile, zlib.error, OSError)  # fmt: skip
MAX_PROBLEMS = 20


@dataclass
class BundleReport:
    code: str = ""
    files: int = 0
    entries: int = 0
    responses: int = 0
    candidates: int = 0
    heads: list[tuple[int, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> bool:
        """Record a problem; False once enough are recorded to stop looking."""
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        return len(self.problems) < MAX_PROBLEMS


@dataclass(frozen=True)
class _Entry:
    """A ledger entry read back from the archive (``ledger.Link``)."""

    id: int | None
    session_id: int
    lane: str
    seq: int
    kind: str
    actor: str
    payload: dict[str, Any]
    created_at: dt.datetime
    prev_hash: str
    hash: str


class _Bundle:
    def __init__(self, archive: zipfile.ZipFile, report: BundleReport, source: str) -> None:
        self.zip, self.report, self.source = archive, report, source
        self.names = {i.filename for i in archive.infolist() if not i.is_dir()}

    def read(self, name: str) -> bytes | None:
        """A member read whole (the manifest, the ledger, the tables): refused above
        ``READ_LIMIT`` unpacked, which a crafted archive within ``ARCHIVE`` could exceed
        many times over (the PDFs, only hashed, are read a chunk at a time)."""
        if name not in self.names:
            self.report.add(f"{name} is missing from the archive")
            return None
        if self.zip.getinfo(name).file_size > READ_LIMIT:
            raise InputError(
                self.source, f"{name[:80]} unpacks to more than {READ_LIMIT // MIB} MB"
            )
        return self.zip.read(name)

    def table(self, name: str, *, required: bool = True) -> list[dict[str, str]] | None:
        if not required and name not in self.names:
            return None
        content = self.read(name)
        if content is None:
            return None
        rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
        return [{k: plain(v) for k, v in row.items()} for row in rows]


def check_archive(source: Path | IO[bytes], *, name: str = "archive") -> BundleReport:
    """Check an archive (a path or a binary file). InputError when it is no readable zip or
    breaks the limits (``marking.domain.archives``); every other problem is in the report."""
    report = BundleReport()
    archive = open_zip(source, name=name, limits=ARCHIVE, unreadable="not a blindmark archive")
    with archive:
        try:
            return _check(_Bundle(archive, report, name), name)
        except _UNREADABLE as exc:
            # A member that is damaged or not what a blindmark archive holds (a results
            # file that is no JSON, a row of the wrong length): refused, never a crash.
            raise InputError(name, f"not a blindmark archive, or a damaged one ({exc})") from exc


def _check(bundle: _Bundle, name: str) -> BundleReport:
    report = bundle.report
    raw = bundle.read("manifest.json")
    if raw is None:
        return report
    try:
        manifest = json.loads(raw)
        files = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(name, "manifest.json is not a blindmark manifest") from exc
    report.code = str(manifest.get("session", {}).get("code", ""))
    _check_files(bundle, files)
    entries = _check_ledger(bundle)
    _check_publications(bundle, manifest.get("publications", []), entries)
    _check_account_entries(bundle)
    _check_marks_recorded(bundle, entries)
    _check_corrections_recorded(bundle, entries)
    published = manifest.get("publications", [])
    revisions = [int(p.get("revision") or 1) for p in published]
    sums = check_finals(bundle, revisions)
    if sums is not None:
        check_scores(bundle, published, sums)
    return report


def _check_files(bundle: _Bundle, files: dict[str, dict[str, Any]]) -> None:
    """Each file's SHA-256 and size as the manifest lists them; none missing, none added."""
    import hashlib

    report = bundle.report
    present = bundle.names - {"manifest.json"}
    report.files = len(present)
    for name in sorted(set(files) - present):
        report.add(f"{name} is listed in the manifest but missing from the archive")
    for name in sorted(present - set(files)):
        report.add(f"{name} is in the archive but not in the manifest: a file was added")
    for name in sorted(present & set(files)):
        digest, size = hashlib.sha256(), 0
        with bundle.zip.open(name) as fh:
            while chunk := fh.read(MIB):
                digest.update(chunk)
                size += len(chunk)
        if digest.hexdigest() != files[name].get("sha256") or size != files[name].get("size"):
            report.add(f"{name} differs from the manifest: its SHA-256 is {digest.hexdigest()}")


def _entries(content: bytes) -> Iterator[_Entry]:
    for line in content.decode().splitlines():
        if not line.strip():
            continue
        e = json.loads(line)
        yield _Entry(
            id=e.get("id"),
            session_id=e["session_id"],
            lane=e["lane"],
            seq=e["seq"],
            kind=e["kind"],
            actor=e["actor"],
            payload=e["payload"],
            created_at=dt.datetime.fromisoformat(e["created_at"]),
            prev_hash=e["prev_hash"],
            hash=e["hash"],
        )


def _check_ledger(bundle: _Bundle) -> list[_Entry]:
    """Recompute every chain of the session's ledger and compare its end with the tips."""
    content, lanes = bundle.read("ledger/session.jsonl"), bundle.read("ledger/lanes.json")
    if content is None or lanes is None:
        return []
    try:
        entries = list(_entries(content))
        recorded = {k: (int(v["seq"]), str(v["hash"])) for k, v in json.loads(lanes).items()}
    except (ValueError, KeyError, TypeError) as exc:
        bundle.report.add(f"the ledger cannot be read: {exc}")
        return []
    count, tips, broken = ledger.walk_chains(entries)
    bundle.report.entries = count
    broken = broken or ledger.tips_break(tips, recorded)
    if broken is not None:
        bundle.report.add(f"ledger chain broken at {broken}")
    return entries


def _check_account_entries(bundle: _Bundle) -> None:
    """The account ledger's entries kept in the archive (a selection, not the whole
    chain): each hashes to itself (``ledger.entry_hash``), and each chains to the one
    before it where that one is kept."""
    content = bundle.read("ledger/accounts.jsonl")
    if content is None:
        return
    before: tuple[int, str] | None = None
    for line in (ln for ln in content.decode().splitlines() if ln.strip()):
        e = json.loads(line)
        recomputed = ledger.entry_hash(
            session_id=ledger.ACCOUNTS_SESSION,
            lane=ledger.ACCOUNTS_LANE,
            seq=e["seq"],
            kind=e["kind"],
            actor=e["actor"],
            payload=e["payload"],
            created_at=dt.datetime.fromisoformat(e["created_at"]),
            prev_hash=e["prev_hash"],
        )
        if recomputed != e["hash"]:
            reason = "its content was changed after it was written"
        elif before is not None and before[0] == e["seq"] - 1 and before[1] != e["prev_hash"]:
            reason = "does not chain to the entry before it"
        else:
            before = (e["seq"], e["hash"])
            continue
        bundle.report.add(f"account ledger entry {e['seq']}: {reason}")
        return


def _heads_at(entries: list[_Entry], at: _Entry) -> set[str]:
    """The ledger head as it stood just after the publication entry ``at``: every lane's
    tip as the entry recorded them (its ``lanes``), with ``at`` as its own lane's tip. An
    entry written before lanes were recorded: every lane's last entry up to it, in the
    order the database numbered them (their ids), or, should ids not follow the order of
    commits, the order of their times."""
    lanes: dict[str, int] | None = at.payload.get("lanes")
    if isinstance(lanes, dict):
        wanted = {(lane, int(seq)) for lane, seq in lanes.items() if lane != at.lane}
        tips = {e.lane: (e.seq, e.hash) for e in entries if (e.lane, e.seq) in wanted}
        tips[at.lane] = (at.seq, at.hash)
        return {ledger.head_of(tips)} if len(tips) == len(wanted) + 1 else set()
    heads: set[str] = set()
    orders: list[Callable[[_Entry], Any]] = [lambda e: e.id or 0, lambda e: e.created_at]
    for order in orders:
        tips = {}
        for e in entries:
            if e.lane == at.lane:
                if e.seq <= at.seq:
                    tips[e.lane] = max(tips.get(e.lane, (0, "")), (e.seq, e.hash))
            elif order(e) <= order(at) and e.seq > tips.get(e.lane, (0, ""))[0]:
                tips[e.lane] = (e.seq, e.hash)
        heads.add(ledger.head_of(tips))
    return heads


def _publication_entry(entries: list[_Entry], revision: int) -> _Entry | None:
    """The ledger entry that published ``revision`` (``publication`` for 1, then
    ``revision_published`` with its number)."""
    found = [
        e
        for e in entries
        if e.kind in ("publication", "revision_published")
        and int(e.payload.get("revision", 1)) == revision
    ]
    return found[-1] if found else None


def _check_publications(
    bundle: _Bundle, published: list[dict[str, Any]], entries: list[_Entry]
) -> None:
    """Each publication: results digest recomputed, recorded in the ledger by the entry
    that published that revision, and the ledger head printed for it the chains' head
    just after that entry."""
    report = bundle.report
    if not published:
        report.add("the manifest lists no publication")
    for p in published:
        revision, digest, head = p.get("revision"), p.get("results_sha256"), p.get("ledger_head")
        report.heads.append((int(revision or 1), str(head)))
        content = bundle.read(str(p.get("results")))
        if content is None:
            continue
        body = json.loads(content)
        columns, rows = body["columns"], body["rows"]
        report.candidates = len(rows)
        got = results_digest([dict(zip(columns, r, strict=True)) for r in rows], columns)
        if got != digest:
            report.add(
                f"results of revision {revision} do not hash to the published digest "
                f"{digest} (they hash to {got}): a results row was changed"
            )
        _check_results_csv(bundle, str(p.get("results")), columns, rows)
        entry = _publication_entry(entries, int(revision or 1))
        if entry is None or entry.payload.get("results_sha256") != digest:
            report.add(f"no ledger entry records the results digest of revision {revision}")
        elif head not in _heads_at(entries, entry):
            report.add(
                f"the ledger head of revision {revision} ({head}) is not the head of the "
                "bundled ledger at its publication"
            )


def plain(cell: str) -> str:
    """A CSV cell as it was before ``reports.cells.safe_cell`` quoted it."""
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell


def _check_results_csv(
    bundle: _Bundle, json_name: str, columns: list[str], rows: list[list[str]]
) -> None:
    name = json_name.removesuffix(".json") + ".csv"
    content = bundle.read(name)
    if content is None:
        return
    lines = [
        [plain(c) for c in line] for line in csv.reader(io.StringIO(content.decode("utf-8-sig")))
    ]
    if lines[:1] != [columns]:
        bundle.report.add(f"{name}: its columns are not those of {json_name}")
        return
    for number, (line, row) in enumerate(zip(lines[1:], rows, strict=False), start=2):
        if line != row:
            bundle.report.add(f"{name}, line {number}: differs from {json_name} ({row[0]})")
            return
    if len(lines) - 1 != len(rows):
        bundle.report.add(f"{name}: {len(lines) - 1} rows, {json_name} has {len(rows)}")


def _check_marks_recorded(bundle: _Bundle, entries: list[_Entry]) -> None:
    """Every mark in the records is the one its ledger entry recorded, and none is missing."""
    marks = bundle.table("marks/records/mark.csv")
    if marks is None:
        return
    recorded = {
        e.payload["mark"]: (Decimal(e.payload["value"]), e.actor)
        for e in entries
        if e.kind == "mark" and "mark" in e.payload
    }
    actual = {int(m["id"]): (Decimal(m["value"]), m["examiner_id_username"]) for m in marks}
    for mid in sorted(set(recorded) | set(actual)):
        if recorded.get(mid) != actual.get(mid):
            where = (
                "missing from the records"
                if mid not in actual
                else (
                    "not in the ledger"
                    if mid not in recorded
                    else f"{actual[mid][0]} by {actual[mid][1]} in the records, "
                    f"{recorded[mid][0]} by {recorded[mid][1]} in the ledger"
                )
            )
            if not bundle.report.add(f"mark {mid}: {where}"):
                return


def _check_corrections_recorded(bundle: _Bundle, entries: list[_Entry]) -> None:
    """Every mark correction in the records is the one its ledger entry recorded (R6): the
    mark, the value and who corrected; none missing, none slipped in."""
    rows = bundle.table("marks/records/mark_correction.csv", required=False)
    if rows is None:
        return
    recorded = {
        int(e.payload["correction"]): (int(e.payload["mark"]), Decimal(e.payload["new"]), e.actor)
        for e in entries
        if e.kind == "mark_corrected" and "correction" in e.payload
    }
    actual = {
        int(c["id"]): (int(c["mark_id"]), Decimal(c["value"]), c["by_id_username"]) for c in rows
    }
    for cid in sorted(set(recorded) | set(actual)):
        if recorded.get(cid) == actual.get(cid):
            continue
        if cid not in actual:
            where = "missing from the records"
        elif cid not in recorded:
            where = "not in the ledger"
        else:
            (mark, value, by), (lmark, lvalue, lby) = actual[cid], recorded[cid]
            where = (
                f"mark {mark} to {value} by {by} in the records, mark {lmark} to {lvalue} "
                f"by {lby} in the ledger"
            )
        if not bundle.report.add(f"mark correction {cid}: {where}"):
            return
