"""The office settles a doubtful bubble row on the quarantine page in a real browser: the
row's options as labelled checkboxes, the item settled and listed with who settled it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from marking.paper.quarantine import list_quarantine
from marking.store.db import transaction
from tests.browser.conftest import Person
from tests.integration.scan_support import scan_room
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium is the expensive part (see test_screens.py)


def test_office_verifies_a_bubble_row(world: World, people: dict[str, Person]) -> None:
    room = scan_room(world.database.engine, world.tmp / "BR-SCAN", "BR-SCAN")
    c, s = room.roster, room.serials
    room.scan("pile.pdf", [*room.sheet(s[0], c[0].exam_no, rows={"1": "?"})])
    with transaction(room.engine) as db:
        [item] = list_quarantine(db, room.session(db))
    world.session("BR-SCAN-STAFF")  # every account's password

    office = people["office"]
    page = office.log_in("office")
    office.go(f"/office/sessions/BR-SCAN/scans/{room.batch_id}/quarantine")
    section = page.locator(f"#item-{item.id}")
    expect(section).to_contain_text("待核实的填涂行")
    expect(section).to_contain_text("pile.pdf")
    office.shot("20-office-quarantine")
    section.get_by_role("group", name="第 1 题已填涂的选项").get_by_label("B").check()
    with page.expect_navigation():
        section.get_by_role("button", name="处理").click()
    expect(page.locator(".flash.ok").first).to_contain_text(f"待处理项 {item.id} 已处理")
    settled = page.locator(f"table.settled tr[data-item='{item.id}']")
    expect(settled).to_contain_text("考务办公室判定为 B")
    expect(settled).to_contain_text("office")
