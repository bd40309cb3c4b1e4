"""A published session as one self-contained, verifiable zip (档案管理, DESIGN §14 archive).

What it holds (``manifest.json`` lists every file with its SHA-256 and size):

- ``session/session.toml`` (the definition as stored) and ``session/paper.csv``;
- ``results/revision-N.csv`` and ``.json`` for each publication: the results exactly as
  their digest was computed (columns and rows), so the digest recomputes from the file;
- ``marks/marks.csv`` and ``marks/finals.csv`` (the §11 exports of the latest revision),
  ``marks/responses.csv`` and ``marks/records/*.csv``: every mark, withdrawal, correction,
  ruling, anomaly and key correction as stored, and the appeal revisions with the finals
  their responses had before them (``archive_records.RECORD_TABLES``);
- ``ledger/session.jsonl`` (every entry of the session's chains), ``ledger/lanes.json``
  (each chain's recorded tip) and ``ledger/accounts.jsonl`` (the account ledger's entries
  naming an account that acted in the session);
- ``reports/*.pdf``: score register, notices, pass list, statistics.

``marking.audit.bundle`` checks it without a database. Refused before publication: the
archive names candidates and their scores (R8).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import StateError
from marking.read import exports
from marking.read.archive_records import (
    RECORD_TABLES,
    RESPONSE_COLUMNS,
    cell,
    record_rows,
    response_rows,
    usernames,
)
from marking.read.reportdata import gather
from marking.read.reporting import produce
from marking.store.models import (
    AccountLedgerEntry,
    ExamSession,
    Publication,
    SessionState,
    utcnow,
)
from reports.cells import csv_row
from reports.data import Register, StatsInput

FORMAT = "blindmark-archive/1"
REPORTS = ("register", "notices", "passlist", "stats")
Progress = Callable[[int, int], None]


@dataclass
class ArchiveSummary:
    """What an archive holds, for the office: files, bytes, publications."""

    files: int
    size: int
    publications: list[dict[str, Any]] = field(default_factory=list)


def publications(db: Session, exam: ExamSession) -> list[Publication]:
    """The session's publications, first to last: one per revision (1, then each appeal's)."""
    return list(
        db.scalars(
            select(Publication)
            .where(Publication.session_id == exam.id)
            .order_by(Publication.revision)
        )
    )


def revision_of(publication: Publication) -> int:
    return publication.revision


def require_archivable(exam: ExamSession) -> None:
    """StateError (coded ``archive_unpublished``) before publication: an archive names
    candidates with their scores, which go to no one before the batch is published (R8)."""
    if exam.state is not SessionState.PUBLISHED:
        raise StateError.coded(
            "archive_unpublished",
            "session %(session)s is not published: its archive names candidates and their "
            "scores, so it exists only after publication (R8)",
            session=exam.code,
        )


class _Writer:
    """Zip entries written one by one, each hashed as it is written, for the manifest."""

    def __init__(self, out: IO[bytes], when: dt.datetime) -> None:
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.stamp = when.astimezone(dt.UTC).timetuple()[:6]
        self.files: dict[str, dict[str, Any]] = {}

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        return info

    def chunks(self, name: str, parts: Iterable[bytes]) -> None:
        digest, size = hashlib.sha256(), 0
        with self.zip.open(self._info(name), "w", force_zip64=True) as fh:
            for part in parts:
                digest.update(part)
                size += len(part)
                fh.write(part)
        self.files[name] = {"sha256": digest.hexdigest(), "size": size}

    def bytes(self, name: str, content: bytes) -> None:
        self.chunks(name, [content])

    def csv(self, name: str, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
        """UTF-8 with BOM, as the §11 exports (Excel shows Chinese correctly), each cell
        through ``reports.cells.safe_cell`` (``bundle.plain`` reads it back)."""
        self.chunks(name, _csv_parts(header, rows))

    def close_with(self, manifest: dict[str, Any]) -> None:
        body = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        with self.zip.open(self._info("manifest.json"), "w") as fh:
            fh.write(body.encode())
        self.zip.close()


def _csv_parts(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterable[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(csv_row(header))
    for i, row in enumerate(rows, start=1):
        writer.writerow(csv_row(row))  # as the §11 exports: no cell opens as a formula
        if i % 2000 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


@dataclass
class PendingArchive:
    """An archive whose database part is written; its reports are still to be rendered
    (``finish_archive``), which needs no database: the slow part runs outside the
    transaction, as the notices job renders outside its own."""

    writer: _Writer
    manifest: dict[str, Any]
    reports: list[tuple[str, Register | StatsInput]]
    candidates: int


def write_archive(
    db: Session,
    exam: ExamSession,
    out: IO[bytes],
    *,
    lang: str = "zh",
    workers: int | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ArchiveSummary:
    """Write the archive of a published session to ``out`` (a binary file).

    Raises StateError (``archive_unpublished``) before publication, ReportFailed when a
    report cannot be made. ``progress(done, total)`` follows the reports' rendering."""
    pending = start_archive(db, exam, out, now=now)
    return finish_archive(pending, lang=lang, workers=workers, progress=progress)


def start_archive(
    db: Session, exam: ExamSession, out: IO[bytes], *, now: dt.datetime | None = None
) -> PendingArchive:
    """Write everything read from the database into the zip ``out`` and gather the
    reports' data. Raises StateError (``archive_unpublished``) before publication."""
    require_archivable(exam)
    now = now or utcnow()
    writer = _Writer(out, now)
    writer.bytes("session/session.toml", exam.definition.encode())
    writer.csv("session/paper.csv", *exports.paper_rows(db, exam))
    published = [_write_results(db, exam, writer, p) for p in publications(db, exam)]
    _write_marks(db, exam, writer)
    actors = _write_ledger(db, exam, writer)
    _write_account_entries(db, writer, actors)
    manifest = {
        "format": FORMAT,
        "session": {
            "code": exam.code,
            "id": exam.id,
            "occupation": exam.occupation,
            "occupation_code": exam.occupation_code,
            "level": exam.level,
            "station": exam.station,
            "date": exam.date.isoformat(),
        },
        "publications": published,
        "blindmark_version": metadata.version("blindmark"),
        "created_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
    }
    reports = [(kind, gather(db, exam, kind)) for kind in REPORTS]
    candidates = published[-1]["candidates"] if published else 0
    return PendingArchive(writer, manifest, reports, int(candidates))


def finish_archive(
    pending: PendingArchive,
    *,
    lang: str = "zh",
    workers: int | None = None,
    progress: Progress | None = None,
) -> ArchiveSummary:
    """Render the reports into the archive and close it with its manifest; no database.
    ``progress(done, total)``: one step a report, one a candidate for the notices."""
    writer, others = pending.writer, len(pending.reports) - 1
    total, done = pending.candidates + others, 0
    for kind, data in pending.reports:
        offset = done

        def notices(n: int, _of: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + n, total)

        if kind == "notices":
            content = produce(kind, data, lang=lang, workers=workers, progress=notices)
            done += pending.candidates
        else:
            content = produce(kind, data, lang=lang, workers=workers)
            done += 1
        writer.bytes(f"reports/{kind}.pdf", content)
        if progress is not None:
            progress(done, total)
    writer.close_with({**pending.manifest, "files": dict(sorted(writer.files.items()))})
    return ArchiveSummary(
        files=len(writer.files) + 1,
        size=sum(f["size"] for f in writer.files.values()),
        publications=pending.manifest["publications"],
    )


def _write_results(
    db: Session, exam: ExamSession, writer: _Writer, publication: Publication
) -> dict[str, Any]:
    """One publication's results as CSV and as the JSON its digest recomputes from."""
    revision = revision_of(publication)
    columns, table = exports.results_rows(db, exam, revision)
    rows = [list(row) for row in table]
    name = f"results/revision-{revision}"
    writer.csv(f"{name}.csv", columns, rows)
    body = {"revision": revision, "columns": columns, "rows": rows}
    writer.bytes(f"{name}.json", json.dumps(body, ensure_ascii=False, indent=0).encode())
    names = usernames(db)
    return {
        "revision": revision,
        "results": f"{name}.json",
        "results_sha256": publication.results_sha256,
        "ledger_head": publication.ledger_head,
        "candidates": publication.candidates,
        "published_at": cell(publication.created_at),
        "published_by": names.get(publication.published_by, ""),
        "approved_by": names.get(publication.approved_by, ""),
    }


def _write_marks(db: Session, exam: ExamSession, writer: _Writer) -> None:
    writer.csv("marks/marks.csv", exports.MARKS_COLUMNS, exports.marks_rows(db, exam))
    writer.csv("marks/finals.csv", exports.FINALS_COLUMNS, exports.finals_rows(db, exam))
    writer.csv("marks/responses.csv", RESPONSE_COLUMNS, response_rows(db, exam))
    names = usernames(db)
    for table in RECORD_TABLES:
        header, rows = record_rows(db, exam, table, names)
        writer.csv(f"marks/records/{table.name}.csv", header, rows)


def _entry(e: Any, **extra: Any) -> bytes:
    body = {
        **extra,
        "seq": e.seq,
        "kind": e.kind,
        "actor": e.actor,
        "payload": e.payload,
        "created_at": cell(e.created_at),
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }
    return (json.dumps(body, ensure_ascii=False, sort_keys=True) + "\n").encode()


def _write_ledger(db: Session, exam: ExamSession, writer: _Writer) -> set[str]:
    """Every entry of the session's chains, lane by lane, and the lanes' recorded tips;
    returns the accounts that acted (the lanes)."""
    actors: set[str] = set()

    def lines() -> Iterable[bytes]:
        batch: list[bytes] = []
        for e in ledger.entries(db, exam):
            actors.add(e.actor)
            batch.append(_entry(e, id=e.id, session_id=e.session_id, lane=e.lane))
            if len(batch) >= 2000:
                yield b"".join(batch)
                batch.clear()
        yield b"".join(batch)

    writer.chunks("ledger/session.jsonl", lines())
    tips = {lane: {"seq": seq, "hash": h} for lane, (seq, h) in ledger.lane_tips(db, exam).items()}
    writer.bytes(
        "ledger/lanes.json", json.dumps(tips, ensure_ascii=False, indent=1, sort_keys=True).encode()
    )
    return actors


def _write_account_entries(db: Session, writer: _Writer, actors: set[str]) -> None:
    """The account ledger's entries that name an account of the session (created, role
    changed, disabled...): who those accounts were when they acted."""
    lines: list[bytes] = []
    for e in db.scalars(select(AccountLedgerEntry).order_by(AccountLedgerEntry.seq)):
        if _names_any(e.payload, actors):
            lines.append(_entry(e))
    writer.bytes("ledger/accounts.jsonl", b"".join(lines))


def _names_any(payload: dict[str, Any], actors: set[str]) -> bool:
    named = {payload.get("username"), *payload.get("usernames", ())}
    named.update(a.get("username") for a in payload.get("accounts", ()) if isinstance(a, dict))
    return bool(named & actors)
