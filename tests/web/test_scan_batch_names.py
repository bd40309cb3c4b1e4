"""Names, not keys (issue 14): an intake batch made by closing a scan batch is named
"scan N: …" by the engine and was taken in, or its violations recorded, by the reader
itself ("scan"). The office's session page says both in its language."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marking.store.models import IntakeBatch, ScanBatch
from tests.web.conftest import World
from tests.web.scan_world import Scanned, scanned_session

CODE = "SCAN-NAMES"


@pytest.fixture(scope="module")
def scanned(world: World) -> Scanned:
    return scanned_session(world, CODE)


def _table(page: str, heading: str) -> str:
    found = re.search(rf"<h2[^>]*>{heading}</h2>.*?</table>", page, flags=re.S)
    assert found is not None, page
    return re.sub(r"<[^>]+>", " ", found.group(0))


def test_a_scan_batch_and_its_reader_are_named_in_words(world: World, scanned: Scanned) -> None:
    room1 = scanned.batches["theory-1"]
    with world.tx() as db:
        made = db.scalar(
            select(IntakeBatch).join(ScanBatch, ScanBatch.intake_batch_id == IntakeBatch.id)
            .where(ScanBatch.id == room1)
        )  # fmt: skip
        assert made is not None and made.name.startswith(f"scan {room1}")
        stored_name, stored_by = made.name, made.created_by
    assert stored_by == "scan"  # room 1 closed by itself: the reader took it in
    office = world.client("office")

    office.get("/lang/zh_CN")
    page = office.get(f"/office/sessions/{CODE}").get_data(as_text=True)
    batches = _table(page, "收卷批次")
    assert f"扫描批次 {room1}" in batches and "扫描识读（自动）" in batches
    assert stored_name not in batches and not re.search(r"\bscan\b", batches), batches
    # The 违纪 box of room 1's skills sheet, sealed when the batch closed by itself.
    records = _table(page, "已密封的记录")
    assert "扫描识读（自动）" in records and not re.search(r"\bscan\b", records), records

    office.get("/lang/en")
    page = office.get(f"/office/sessions/{CODE}").get_data(as_text=True)
    batches = _table(page, "Intake batches")
    assert f"scan batch {room1}" in batches and "the scan reader (by itself)" in batches
