"""The browser's own error pages: a crash and a missing page answer with a page in the
reader's language that names what happened, shows a way back, and shows nothing of the
server (no stack, no file, no path)."""

from __future__ import annotations

import pytest

from tests.web.conftest import World
from web import office


def test_a_crash_shows_the_translated_error_page_and_nothing_of_the_server(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.session("ERR-500")
    client = world.client("office")

    def crash(*_args: object) -> None:
        raise RuntimeError(f"{office.__file__}: secret state of the server")

    monkeypatch.setattr(office.views, "all_sessions", crash)
    # As in production: an unhandled error becomes the 500 page instead of reaching the test.
    monkeypatch.setitem(world.app.config, "PROPAGATE_EXCEPTIONS", False)
    for language, words in (("zh_CN", "服务器出错，未做任何更改"), ("en", "nothing was changed")):
        client.get(f"/lang/{language}")
        answer = client.get("/office/", headers={"Referer": "http://localhost/office/examiners"})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 500
        assert words in page
        assert 'href="/"' in page and 'href="http://localhost/office/examiners"' in page
        for leak in ("Traceback", "RuntimeError", "secret state", office.__file__, "/web/"):
            assert leak not in page, leak


def test_a_missing_page_says_so_in_the_readers_language_with_the_way_home(world: World) -> None:
    world.session("ERR-404")
    client = world.client("office")
    for language, heading, words in (
        ("zh_CN", "找不到页面 (404)", "此页面不存在"),
        ("en", "Page not found (404)", "This page does not exist"),
    ):
        client.get(f"/lang/{language}")
        answer = client.get("/office/no-such-screen")
        page = answer.get_data(as_text=True)
        assert answer.status_code == 404
        assert heading in page and words in page and 'href="/"' in page
        assert "requested URL" not in page  # werkzeug's own English


def test_a_step_the_database_undid_for_a_concurrent_one_says_try_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadlock or a busy database (two steps on the same rows at once) is not a crash:
    409, in words, nothing saved; any other database fault stays the 500 page, naming no
    SQL."""
    import psycopg.errors
    from sqlalchemy.exc import OperationalError

    world.session("ERR-409")
    client = world.client("office")
    monkeypatch.setitem(world.app.config, "PROPAGATE_EXCEPTIONS", False)
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    for error, status, words in (
        (OperationalError("SELECT secret FROM nowhere", {}, deadlock), 409, "请重试"),
        # The queue's hot statements run on the driver's cursor: its error comes unwrapped.
        (psycopg.errors.DeadlockDetected("deadlock detected"), 409, "本次操作未保存任何内容"),
        (psycopg.errors.UndefinedTable("SELECT secret FROM nowhere"), 500, "服务器出错"),
    ):

        def fails(*_args: object, error: Exception = error) -> None:
            raise error

        monkeypatch.setattr(office.views, "all_sessions", fails)
        answer = client.get("/office/")
        page = answer.get_data(as_text=True)
        assert answer.status_code == status and words in page
        assert "secret" not in page and "SELECT" not in page
