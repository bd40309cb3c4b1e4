"""The lead's monitoring and quality tables on a phone (issue 14, at 390×844): a wide table
scrolls inside its box; the page itself never scrolls sideways. On a 1366×768 laptop the
monitoring table fits, its chart on screen."""

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
def marked(world: World) -> str:
    """The session marked with figures for every table."""
    with world.tx() as db:
        build(db, world.tmp, CODE)
        world.passwords(db)
    return CODE


def _lead(
    browser: Browser, server: Server, shots: object, width: int, height: int
) -> Iterator[Person]:
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    try:
        lead = Person(context, server, shots)  # type: ignore[arg-type]
        lead.log_in("lead")
        yield lead
    finally:
        context.close()


@pytest.fixture(scope="module")
def phone(browser: Browser, server: Server, shots: object, marked: str) -> Iterator[Person]:
    """The lead at a 390×844 phone."""
    yield from _lead(browser, server, shots, 390, 844)


@pytest.fixture(scope="module")
def laptop(browser: Browser, server: Server, shots: object, marked: str) -> Iterator[Person]:
    """The lead at a 1366×768 laptop, the commonest office screen."""
    yield from _lead(browser, server, shots, 1366, 768)


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


#: Each examiner's chart in the monitoring table: its left and right edges, and the right
#: edge of what shows it (the table's box, clipped to the window).
CHARTS = """() => [...document.querySelectorAll("table.monitoring svg.compare")].map(svg => {
  const chart = svg.getBoundingClientRect();
  const box = svg.closest(".table-wrap").getBoundingClientRect();
  return {left: chart.left, right: chart.right,
          shown: Math.min(box.right, document.documentElement.clientWidth)};
})"""


@pytest.mark.parametrize(("language", "shot"), [("zh_CN", "74"), ("en", "75")])
def test_the_monitoring_chart_is_on_a_laptop_screen(
    laptop: Person, language: str, shot: str
) -> None:
    """At 1366×768 the monitoring table fits its box: the last column, the examiner's marks
    against the group's, is on screen without scrolling anything sideways."""
    laptop.go(f"/lang/{language}")
    page = laptop.go(f"/lead/sessions/{CODE}/monitoring")
    found = page.evaluate(MEASURE)
    charts = page.evaluate(CHARTS)
    laptop.shot(f"{shot}-laptop-monitoring-{language}")
    assert found["page"] <= 1366, f"the page is {found['page']} px wide at 1366"
    assert charts, "no chart in the monitoring table"
    for chart in charts:
        assert chart["left"] >= 0 and chart["right"] <= chart["shown"], charts
    for table in found["tables"]:
        assert table["right"] <= 1366 and not table["overflowing"], table
