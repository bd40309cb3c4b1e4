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
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from marking.audit import ledger
from marking.domain.archives import ZipLimits, open_zip
from marking.domain.rules import (
    Final,
    NeedsArbitration,
    component_passed,
    component_score_tenths,
    milli,
    outcome,
    reconcile,
)
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
    finals = _check_finals(bundle)
    if finals is not None:
        _check_scores(bundle, manifest.get("publications", []), finals)
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
    """The ledger head as it stood just after entry ``at``: every lane's last entry up to
    it, in the order the database numbered them (their ids), or, should ids not follow
    the order of commits, the order of their times."""
    heads: set[str] = set()
    orders: list[Callable[[_Entry], Any]] = [lambda e: e.id or 0, lambda e: e.created_at]
    for order in orders:
        tips: dict[str, tuple[int, str]] = {}
        for e in entries:
            if e.lane == at.lane:
                if e.seq <= at.seq:
                    tips[e.lane] = max(tips.get(e.lane, (0, "")), (e.seq, e.hash))
            elif order(e) <= order(at) and e.seq > tips.get(e.lane, (0, ""))[0]:
                tips[e.lane] = (e.seq, e.hash)
        heads.add(ledger.head_of(tips))
    return heads


def _check_publications(
    bundle: _Bundle, published: list[dict[str, Any]], entries: list[_Entry]
) -> None:
    """Each publication: results digest recomputed, recorded in the ledger, head in it."""
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
        recording = [e for e in entries if e.payload.get("results_sha256") == digest]
        if not recording:
            report.add(f"no ledger entry records the results digest of revision {revision}")
        elif head not in _heads_at(entries, recording[-1]):
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


# --- finals from the marks (DESIGN §5), component scores from the finals (§11) -------------


@dataclass(frozen=True)
class _Rule:
    tolerance: int
    step: int
    required: int


def _milli(text: str) -> int | None:
    return None if text == "" else milli(Decimal(text))


def _marks_by_response(bundle: _Bundle) -> dict[int, list[tuple[int, int, int]]] | None:
    """Each response's effective marks (independent ones first, then the third, by id):
    withdrawn marks left out, a corrected mark at its latest correction."""
    marks = bundle.table("marks/records/mark.csv")
    withdrawals = bundle.table("marks/records/mark_withdrawal.csv")
    corrections = bundle.table("marks/records/mark_correction.csv", required=False) or []
    if marks is None or withdrawals is None:
        return None
    withdrawn = {int(w["mark_id"]) for w in withdrawals}
    corrected: dict[int, tuple[int, int]] = {}
    for c in corrections:
        mid, seq = int(c["mark_id"]), int(c["seq"])
        if mid not in corrected or corrected[mid][0] < seq:
            corrected[mid] = (seq, milli(Decimal(c["value"])))
    by_response: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for m in marks:
        mid = int(m["id"])
        if mid in withdrawn:
            continue
        value = corrected[mid][1] if mid in corrected else milli(Decimal(m["value"]))
        by_response[int(m["response_id"])].append((int(m["kind"] == "third"), mid, value))
    for found in by_response.values():
        found.sort()
    return by_response


def _rulings(bundle: _Bundle) -> dict[str, dict[int, int | None]] | None:
    """The lead's rulings in force by kind: {response id: value in milli}."""
    arbitrations = bundle.table("marks/records/arbitration.csv")
    anomalies = bundle.table("marks/records/anomaly.csv")
    withdrawals = bundle.table("marks/records/ruling_withdrawal.csv")
    if arbitrations is None or anomalies is None or withdrawals is None:
        return None
    out_arb = {w["arbitration_id"] for w in withdrawals}
    out_anomaly = {w["anomaly_id"] for w in withdrawals}
    return {
        "arbitration": {
            int(a["response_id"]): _milli(a["value"])
            for a in arbitrations
            if a["id"] not in out_arb
        },
        "lead": {
            int(a["response_id"]): _milli(a["final_value"])
            for a in anomalies
            if a["resolution"] == "final" and a["id"] not in out_anomaly
        },
    }


def _check_finals(bundle: _Bundle) -> dict[str, int] | None:
    """Recompute every response's final from its marks, rulings or key score and compare
    with finals.csv; returns each script's sum of finals (milli)."""
    paper = bundle.table("session/paper.csv")
    responses = bundle.table("marks/responses.csv")
    finals_rows = bundle.table("marks/finals.csv")
    marks, ruled = _marks_by_response(bundle), _rulings(bundle)
    if paper is None or responses is None or finals_rows is None or marks is None:
        return None
    if ruled is None:
        return None
    rules = {
        (q["component"], q["question"]): _Rule(
            _milli(q["tolerance"]) or 0, _milli(q["step"]) or 1000, int(q["marks_required"] or 2)
        )
        for q in paper
    }
    finals = {(f["script_code"], f["component"], f["question"]): f["final"] for f in finals_rows}
    sums: dict[str, int] = defaultdict(int)
    for final in finals_rows:
        sums[final["script_code"]] += milli(Decimal(final["final"]))
    bundle.report.responses = len(responses)
    for r in responses:
        where = (r["script_code"], r["component"], r["question"])
        recorded = _milli(finals.get(where, ""))
        expected, why = _expected_final(r, rules[where[1:]], marks, ruled)
        if why is None and expected != recorded:
            why = f"finals.csv holds {_shown(recorded)} but the marks give {_shown(expected)}"
        if why is not None and not bundle.report.add(
            f"script {where[0]}, {where[1]} question {where[2]}: {why}"
        ):
            break
    return sums


def _expected_final(
    response: dict[str, str],
    rule: _Rule,
    marks: dict[int, list[tuple[int, int, int]]],
    ruled: dict[str, dict[int, int | None]],
) -> tuple[int | None, str | None]:
    """The final the records give (milli), or why they give none that can be checked."""
    rid, kind = int(response["response_id"]), response["final_rule"]
    if response["key_score"] != "":
        return _milli(response["key_score"]), None
    values = [value for _third, _id, value in marks.get(rid, [])]
    try:
        outcome = reconcile(
            values, tolerance=rule.tolerance, step=rule.step, required=rule.required
        )
    except ValueError as exc:
        return None, f"its marks cannot be reconciled: {exc}"
    if kind in ruled:
        if kind == "arbitration" and not isinstance(outcome, NeedsArbitration):
            return None, "arbitrated, but its marks reconcile without arbitration"
        return ruled[kind].get(rid), None
    return (outcome.value if isinstance(outcome, Final) else None), None


def _shown(value: int | None) -> str:
    return "no final" if value is None else format(Decimal(value) / 1000, "f")


def _check_scores(bundle: _Bundle, published: list[dict[str, Any]], sums: dict[str, int]) -> None:
    """The latest publication's component scores recomputed from the finals (§11): the sum
    of finals × 100 / the component's maximum, rounded half-up to one decimal; and each
    outcome that follows from them (not ``void``: violations stay sealed in the database).
    Earlier revisions were computed from the finals before their appeal: not checked."""
    paper = bundle.table("session/paper.csv")
    if not published or paper is None:
        return
    content = bundle.read(str(published[-1].get("results")))
    if content is None:
        return
    body = json.loads(content)
    maxima: dict[str, int] = defaultdict(int)
    for q in paper:
        maxima[q["component"]] += milli(Decimal(q["max"]))
    for row in (dict(zip(body["columns"], r, strict=True)) for r in body["rows"]):
        for component, top in maxima.items():
            code = row.get(f"{component}_code", "")
            if not code:
                continue
            tenths = component_score_tenths(sums.get(code, 0), top)
            expected = f"{Decimal(tenths).scaleb(-1):.1f}"
            if row[f"{component}_score"] != expected and not bundle.report.add(
                f"candidate {row['exam_no']}: {component} score {row[f'{component}_score']} "
                f"in the results, but the finals of script {code} give {expected}"
            ):
                return
        why = _outcome_problem(row, list(maxima))
        if why is not None and not bundle.report.add(f"candidate {row['exam_no']}: {why}"):
            return


def _outcome_problem(row: dict[str, str], components: list[str]) -> str | None:
    """Why the row's outcome does not follow from its scores (§11); None when it does, or
    when only what the archive does not hold could decide (a violation, the panel's
    scores behind an interview score)."""
    if row["outcome"] == "void":
        return None
    interview = "interview_score" in row
    absent = any(not row[f"{c}_code"] for c in components) or row.get("interview_score") == ""
    passed = [component_passed(Decimal(row[f"{c}_score"])) for c in components if row[f"{c}_code"]]
    if interview and not absent:
        # R7 decides the interview on the panel's own scores: pass needs every component.
        expected = "fail" if not all(passed) else row["outcome"]
        if row["outcome"] not in ("pass", "fail"):
            expected = "pass or fail"
    else:
        expected = outcome(
            voided=False,
            absent_any=absent,
            components_passed=passed,
            interview_passed=None,
            needs_interview=False,
        )
    if row["outcome"] == expected:
        return None
    return f"outcome {row['outcome']} in the results, but its scores give {expected}"
