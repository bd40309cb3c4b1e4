"""After a scan batch closes nothing of its roster, exam numbers or header crops is left in
clear: every text and blob column of every table is searched, the SQLite file too (after
the WAL is scrubbed). Driven through the command line: `scan --queue`, then the reader
(a fake), `quarantine list|resolve`, `batch close` and `status`."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import LargeBinary, String, Text, inspect, select

from marking.store import schema
from marking.store.db import Base
from tests.conftest import PG_URL, FreshDatabase
from tests.integration.factory import run_cli, write_csv
from tests.integration.scan_support import ScanRoom, scan_room


def dump_clear_columns(room: ScanRoom) -> bytes:
    """Every text and binary value of every table, concatenated."""
    found: list[bytes] = []
    with room.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary)]
            if not columns or table.name not in inspect(conn).get_table_names():
                continue
            for row in conn.execute(select(*columns)):
                for value in row:
                    if isinstance(value, str):
                        found.append(value.encode())
                    elif value is not None:
                        found.append(bytes(value))
    return b"\n".join(found)


def test_nothing_of_the_roster_or_headers_is_left_in_clear_after_close(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    schema.upgrade(fresh_db.engine)
    room = scan_room(fresh_db.engine, tmp_path, code="SCAN-B", n=3)
    c, s = room.roster, room.serials
    pages = [*room.sheet(s[0], c[0].exam_no), *room.sheet(s[1], c[1].exam_no, rows={"1": "?"})]
    bundle = tmp_path / "pile.json"
    bundle.write_text(json.dumps(pages))
    roster = write_csv(
        tmp_path / "room-2.csv",
        ("exam_no", "name", "id_number", "institution"),
        [(x.exam_no, x.name, x.id_number, x.institution) for x in room.roster],
    )
    url = fresh_db.url
    # the first batch (made by scan_room) is closed empty-handed so this roster may be reused
    assert run_cli(url, "batch", "close", "--session", "SCAN-B", "--batch", 1).exit_code == 0
    made = run_cli(url, "scan", "--session", "SCAN-B", "--candidates", roster, "--queue", bundle)
    assert made.exit_code == 0, made.output
    assert "scan batch 2: 1 file(s) queued" in made.output
    room.run(_file_of(room))
    listed = run_cli(url, "quarantine", "list", "--session", "SCAN-B")
    assert listed.exit_code == 0, listed.output
    (line,) = listed.output.splitlines()
    item, kind, batch, serial, source, page, question, _reason = line.split("\t")
    assert (kind, batch, serial, source, page, question) == (
        "bubble_row", "2", s[1], "pile.json", "3", "1",
    )  # fmt: skip
    refused = run_cli(url, "quarantine", "resolve", "--session", "SCAN-B", item, "--value", "Z")
    assert refused.exit_code == 2 and refused.output.startswith("error: quarantine item")
    status = run_cli(url, "status", "--session", "SCAN-B")
    assert "waiting for the batch to close" in status.output, status.output
    before = dump_clear_columns(room)  # the detector sees them while the batch is open
    assert c[0].exam_no.encode() in before and b"header of" in before
    closed = run_cli(url, "quarantine", "resolve", "--session", "SCAN-B", item, "--value", "C")
    assert closed.exit_code == 0, closed.output
    assert "scan batch 2 closed" in closed.output and "2 script(s)" in closed.output

    clear = dump_clear_columns(room)
    for person in room.roster:
        for needle in (person.exam_no, person.name, person.id_number):
            assert needle.encode() not in clear, needle
    assert b"header of" not in clear  # the fake's header crops
    if not PG_URL:
        room.engine.dispose()
        files = list((tmp_path / "instance").glob("blindmark.db*"))
        data = b"".join(p.read_bytes() for p in files)
        for person in room.roster:
            assert person.exam_no.encode() not in data and person.id_number.encode() not in data
        assert b"header of" not in data


def _file_of(room: ScanRoom) -> int:
    from marking.store.db import transaction
    from marking.store.models import ScanFile

    with transaction(room.engine) as db:
        return db.scalars(select(ScanFile.id).where(ScanFile.batch_id == 2)).one()
