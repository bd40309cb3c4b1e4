"""The lead's monitoring and quality tables on a phone (issue 14, at 390×844): a wide table
scrolls inside its box; the page itself never scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import Person, Server
from tests.integration.monitoring_support import build
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (as test_screens.py)

CODE = "BR-PHONE"


@pytest.fixture(scope="module")
def phone(browser: Browser, server: Server, shots: object, world: World) -> Iterator[Person]:
    """The lead at a 390×844 phone, the session marked with figures for every table."""
    with world.tx() as db:
        build(db, world.tmp, CODE)
        world.passwords(db)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    try:
        lead = Person(context, server, shots)  # type: ignore[arg-type]
        lead.log_in("lead")
        yield lead
    finally:
        context.close()


#: The page's width and, per table, the right edge of its box (the table's .table-wrap, or the
#: table itself) and whether the table or its box scrolls sideways with more than it shows.
MEASURE = """() => ({
  page: document.documentElement.scrollWidth,
  tables: [...document.querySelectorAll("main table")].map(t => {
    const box = t.closest(".table-wrap") || t;
    const scrolls = e => ["auto", "scroll"].includes(getComputedStyle(e).overflowX);
    return {
      cls: t.className,
      right: box.getBoundingClientRect().right,
      scrollable: scrolls(box) || scrolls(t),
      overflowing: [box, t].some(e => scrolls(e) && e.scrollWidth > e.clientWidth),
    };
  }),
})"""


@pytest.mark.parametrize(
    ("path", "shot", "wide"),
    [
        (f"/lead/sessions/{CODE}/monitoring", "70-phone-monitoring", "monitoring"),
        (f"/lead/sessions/{CODE}/quality/", "71-phone-quality", "members"),
        (f"/lead/sessions/{CODE}/quality/groups/short", "72-phone-quality-group", None),
        (f"/lead/sessions/{CODE}/quality/alarms", "73-phone-alarms", None),
    ],
)
def test_tables_scroll_inside_their_box_not_the_page(
    phone: Person, path: str, shot: str, wide: str | None
) -> None:
    page = phone.go(path)
    assert page.locator("h1").count() == 1, page.content()[:500]
    found = page.evaluate(MEASURE)
    phone.shot(shot)
    assert found["page"] <= 390, f"{path}: the page is {found['page']} px wide at 390"
    for table in found["tables"]:
        assert table["right"] <= 390 and table["scrollable"], (path, table)
    if wide is not None:  # the wide table is wider than the phone: it scrolls in its box
        assert any(t["cls"] == wide and t["overflowing"] for t in found["tables"]), found
