"""Numbers and dates on the pages are written for the reader's language (Babel)."""

from __future__ import annotations

from flask import session

from tests.web.conftest import World
from web.formatting import number, when


def test_numbers_and_dates_follow_the_language(world: World) -> None:
    for lang, expected in (
        ("en", ("1,234.5", "0.5", "Dec 31, 2029", "Dec 5, 2026, 9:30:00\u202fAM")),
        ("zh_CN", ("1,234.5", "0.5", "2029年12月31日", "2026年12月5日 09:30:00")),
    ):
        with world.app.test_request_context("/"):
            session["lang"] = lang
            # Exact decimal text and ISO dates, as the actions hand them to the API, too.
            got = (
                number("1234.5"),
                number("0.50"),
                when("2029-12-31"),
                when("2026-12-05T01:30:00+00:00"),  # shown in the centre's time zone
            )
            assert got == expected


def test_the_examiner_list_shows_dates_for_the_reader(world: World) -> None:
    world.session("FMT-1")
    page = world.client("office").get("/office/examiners").get_data(as_text=True)
    assert "2029年12月31日" in page and "2029-12-31" not in page
