"""On a phone (390×844): the header's links fold behind a menu button, nothing widens the
page (wide tables scroll inside their box), and while marking the mark box stays on the
screen with the response (issue 14, item 8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, Person
from tests.web.conftest import World
from tests.web.test_batches import published

pytestmark = pytest.mark.sqlite


def page_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def test_a_phone_folds_the_menu_keeps_tables_in_their_box_and_the_mark_box_on_screen(
    world: World, people: dict[str, Person]
) -> None:
    world.session("BR-PHONE")
    lead = people["lead"]
    page = lead.log_in("lead")
    page.set_viewport_size(PHONE)
    with page.expect_navigation():
        page.locator("a[href='/lead/sessions/BR-PHONE']").click()
    menu, nav = page.locator("button.nav-toggle"), page.locator("#site-nav")
    expect(menu).to_be_visible()
    expect(nav).to_be_hidden()
    menu.click()
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("button", name="退出")).to_be_visible()
    # The progress table is wider than the phone: it scrolls in its box, the page does not.
    table = page.locator("table.progress")
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    assert page_width(page) <= PHONE["width"]
    lead.shot("95-lead-session-menu-open")

    examiner = people["e1"]
    page = examiner.log_in("e1")
    page.set_viewport_size(PHONE)
    expect(page.locator("#site-nav")).to_be_hidden()
    with page.expect_navigation():
        page.locator("a[href='/examiner/sessions/BR-PHONE/mark']").click()
    text, mark = page.locator("#text"), page.locator("#mark")
    expect(text).to_be_visible()
    expect(mark).to_be_in_viewport()
    expect(text).to_be_in_viewport()
    assert page_width(page) <= PHONE["width"]
    # Scrolled to the end of the scheme, the mark box is still there, and still marks.
    page.mouse.wheel(0, 2000)
    expect(mark).to_be_in_viewport()
    before = text.inner_text()
    mark.focus()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text("评分已记录。")
    expect(text).not_to_have_text(before)
    examiner.shot("96-examiner-marking-on-a-phone")


def test_a_published_sessions_digests_break_inside_a_phone_screen(
    world: World, people: dict[str, Person]
) -> None:
    """The checklist of a published session shows the results' SHA-256 and the ledger head
    (64 hex digits each): on a phone they wrap, and the page does not widen past 390 px."""
    published(world, "BR-DIGEST")
    page = people["director"].log_in("director")
    page.set_viewport_size(PHONE)
    people["director"].go("/director/sessions/BR-DIGEST")
    expect(page.locator("p.flash.ok code").first).to_be_visible()
    assert page_width(page) <= PHONE["width"]
