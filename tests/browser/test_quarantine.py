"""The office settles a doubtful bubble row on the quarantine page in a real browser: the
row's options as labelled checkboxes, the item settled and listed with who settled it; in
Chinese and again in English."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from marking.paper.quarantine import list_quarantine
from marking.store.db import transaction
from tests.browser.conftest import LANGUAGES, Person
from tests.integration.scan_support import scan_room
from tests.web.conftest import World

# Chromium is the expensive part (see test_screens.py); in both languages.
pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]


def test_office_verifies_a_bubble_row(
    world: World, people: dict[str, Person], language: str, say: Callable[[str, str], str]
) -> None:
    code = f"BR-SCAN-{language[:2].upper()}"  # each run a session of its own (one world)
    room = scan_room(world.database.engine, world.tmp / code, code)
    c, s = room.roster, room.serials
    room.scan("pile.pdf", [*room.sheet(s[0], c[0].exam_no, rows={"1": "?"})])
    with transaction(room.engine) as db:
        [item] = list_quarantine(db, room.session(db))
    world.session(f"{code}-STAFF")  # every account's password

    office = people["office"]
    page = office.log_in("office")
    office.go(f"/office/sessions/{code}/scans/{room.batch_id}/quarantine")
    section = page.locator(f"#item-{item.id}")
    expect(section).to_contain_text(say("待核实的填涂行", "Bubble row to verify"))
    expect(section).to_contain_text("pile.pdf")
    office.shot("20-office-quarantine")
    options = say("第 1 题已填涂的选项", "Filled options of question 1")
    section.get_by_role("group", name=options).get_by_label("B").check()
    with page.expect_navigation():
        section.get_by_role("button", name=say("处理", "Settle")).click()
    expect(page.locator(".flash.ok").first).to_contain_text(
        say(f"待处理项 {item.id} 已处理", f"Item {item.id} settled")
    )
    settled = page.locator(f"table.settled tr[data-item='{item.id}']")
    expect(settled).to_contain_text(say("考务办公室判定为 B", "value B given by the office"))
    expect(settled).to_contain_text("office")
