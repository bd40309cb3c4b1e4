"""Small steps the browser tests share: sending a form as a user does and reading the
page's confirmation, sessions in the state a walk starts from, and a download saved and
opened as the user's spreadsheet program would."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Locator, Page, expect

from marking.domain.definition import parse_session_definition
from marking.setup.sessions import create_session, get_session
from tests.integration.factory import ACTOR, add_staff, mark_all, tiny_toml
from tests.web.conftest import World


def submit(page: Page, form: str, button: str | None = None) -> None:
    """Send the form (a CSS selector) by its submit button, waiting for the next page."""
    found = page.locator(form)
    target = found.get_by_role("button", name=button) if button else found.locator("[type=submit]")
    with page.expect_navigation():
        target.first.click()


def ok(page: Page, text: str) -> None:
    expect(page.locator(".flash.ok").first).to_contain_text(text)


def unkeyed_session(world: World, code: str) -> None:
    """A session just created from the tiny paper: no key yet, nothing taken in."""
    toml = tiny_toml(code, station=f"S-{code}")
    with world.tx() as db:
        add_staff(db)
        create_session(db, parse_session_definition(toml), source=toml, actor=ACTOR)
        world.passwords(db)


def marked_session(world: World, code: str, *, n: int = 3) -> None:
    """A tiny session every response of which e1-e3 have marked: it waits for approval."""
    world.session(code, n=n)
    with world.tx() as db:
        mark_all(db, get_session(db, code), ["e1", "e2", "e3"])


def download(page: Page, link: Locator, folder: Path) -> Path:
    """Click ``link`` and keep the file the browser downloads, under its offered name."""
    with page.expect_download() as downloading:
        link.click()
    path = folder / downloading.value.suggested_filename
    downloading.value.save_as(path)
    return path


def csv_rows(path: Path) -> list[list[str]]:
    """The CSV as a spreadsheet program reads it (a byte-order mark tells it UTF-8)."""
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def xlsx_rows(path: Path, sheet: str | None = None) -> list[list[object]]:
    """The rows of one sheet of the workbook (the first unless named), as values."""
    book = load_workbook(path, read_only=True)
    rows = [list(r) for r in book[sheet or book.sheetnames[0]].iter_rows(values_only=True)]
    book.close()
    return rows
