""" "Correct my last mark" on the marking screen, with the keyboard alone (R6, 第七条(八):
a slip is corrected at once, with a reason, beside the mark), in Chinese and in English."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from marking.people.accounts import get_account
from marking.setup.sessions import get_session
from marking.store.models import Mark, MarkCorrection
from tests.browser.conftest import LANGUAGES, Person
from tests.integration.factory import response_id
from tests.web.conftest import World

# Chromium once, in the SQLite pass (as test_screens.py); in both languages.
pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]


def test_examiner_corrects_their_last_mark_with_the_keyboard(
    world: World, people: dict[str, Person], language: str, say: Callable[[str, str], str]
) -> None:
    code = f"BR-CORR-{language[:2].upper()}"  # each run a session of its own (one world)
    world.session(code)
    examiner = people["e1"]
    page = examiner.log_in("e1")
    page = examiner.go(f"/examiner/sessions/{code}/mark")
    text, message = page.locator("#text"), page.locator("#message")
    expect(page.locator("#mark")).to_be_focused()
    page.evaluate("window.blindmarkSamePage = true")

    # Nothing marked yet: F4 says there is nothing to correct.
    page.keyboard.press("F4")
    expect(page.locator("#correct-box")).to_have_attribute("open", "")
    expect(page.locator("#last-mark")).to_contain_text(
        say("没有仍可更正的评分", "no mark you can still correct")
    )
    page.keyboard.press("Escape")
    expect(page.locator("#mark")).to_be_focused()

    marked = text.inner_text()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(message).to_have_text(say("评分已记录。", "Mark recorded."))

    # F4: the last mark is shown (question and mark), the corrected mark field focused;
    # a refused value says why, then a good one with its reason is recorded.
    page.keyboard.press("F4")
    expect(page.locator("#last-mark")).to_contain_text(say("您的评分 1", "your mark 1"))
    expect(page.locator("#correct-value")).to_be_focused()
    page.keyboard.type("0.3")
    page.keyboard.press("Tab")
    slip = say("笔误", "a slip")
    page.keyboard.type(slip)
    page.keyboard.press("Enter")
    expect(message).to_contain_text(say("为一档", "go in steps of"))
    expect(page.locator("#correct-value")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("2")
    examiner.shot("20-examiner-correct-last-mark")
    page.keyboard.press("Enter")
    expect(message).to_have_text(say("更正已记录。", "Correction recorded."))
    expect(page.locator("#correct-box")).not_to_have_attribute("open", "")
    expect(page.locator("#mark")).to_be_focused()
    assert page.evaluate("window.blindmarkSamePage") is True, "the page was reloaded"

    with world.tx() as db:
        exam = get_session(db, code)
        mark = db.scalars(
            select(Mark).where(
                Mark.examiner_id == get_account(db, "e1").id,
                Mark.response_id == response_id(db, exam, marked),
            )
        ).one()
        assert mark.value == Decimal(1)  # never overwritten
        correction = db.scalars(
            select(MarkCorrection).where(MarkCorrection.mark_id == mark.id)
        ).one()
        assert (correction.value, correction.reason) == (Decimal(2), slip)
