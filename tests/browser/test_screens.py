"""The three journeys of issue 4 in a real browser, against a real server: an examiner marks
with the keyboard alone, the lead resolves an arbitration, the office publishes with a
director's approval. Each journey is walked in Chinese and again in English, and each main
screen photographed on the way."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from marking.people.accounts import get_account
from marking.queue.claims import claim
from marking.queue.handback import flag
from marking.setup.sessions import get_session
from marking.store.models import (
    Anomaly,
    AnomalyKind,
    Lease,
    LeaseState,
    Mark,
    Response,
    ResponseState,
    Script,
    SessionState,
)
from tests.browser.conftest import LANGUAGES, Person
from tests.integration.factory import PASSPHRASE, mark_all, response_id
from tests.web.conftest import World

# The browser journeys run once, in the SQLite pass (the PostgreSQL pass covers the same
# routes through tests/web/): chromium is the expensive part, not the database. Each in both
# languages, its session's code naming the language (one world serves the module).
pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]
Say = Callable[[str, str], str]


def test_examiner_marks_three_responses_with_the_keyboard_alone(
    world: World, people: dict[str, Person], language: str, say: Say
) -> None:
    code = f"BR-MARK-{language}"
    world.session(code)
    examiner = people["e1"]
    page = examiner.go("/login")
    examiner.shot("01-login")
    examiner.log_in("e1")
    expect(page.locator("h1")).to_have_text(say("我的阅卷", "My marking"))
    examiner.shot("02-examiner-home")
    with page.expect_navigation():
        page.locator(f"a[href='/examiner/sessions/{code}/mark']").click()

    text, mark_input = page.locator("#text"), page.locator("#mark")
    message = page.locator("#message")
    expect(page.locator("#work")).to_be_visible()
    # the heading names the component and the question, never their keys
    question = say(r"第 \S+ 题", r"question \S+")
    expect(page.locator("#where")).to_have_text(re.compile(rf"^(理论知识|操作技能) · {question}$"))
    # A full reload would wipe this: it must still be here after three marks.
    page.evaluate("window.blindmarkSamePage = true")
    examiner.shot("03-examiner-marking")
    # "held until" is the session's time (Shanghai), whatever the browser's own zone.
    with world.tx() as db:
        e1_id = get_account(db, "e1").id
        held = db.scalars(
            select(Lease.expires_at).where(
                Lease.examiner_id == e1_id, Lease.state == LeaseState.HELD
            )
        ).all()
    # (English reads the clock in 12 hours: 2:43:41 PM.)
    clock = say("%H:%M:%S", "%-I:%M:%S %p")
    shown_until = re.sub(r"\s", " ", page.locator("#expires").inner_text())
    assert shown_until in {at.astimezone(ZoneInfo("Asia/Shanghai")).strftime(clock) for at in held}

    # A mark out of range is refused, saying why; the same response stays, its mark selected
    # so the next keystrokes replace it.
    first = text.inner_text()
    expect(mark_input).to_be_focused()
    page.keyboard.type("99")
    page.keyboard.press("Enter")
    expect(message).to_contain_text(say("须在 0 到", "lies between 0 and"))  # the refusal
    expect(message).to_have_class("flash error")
    expect(text).to_have_text(first)
    examiner.shot("04-examiner-refused-mark")

    shown = []
    for _n in range(3):
        before = text.inner_text()
        shown.append(before)
        expect(mark_input).to_be_focused()
        page.keyboard.type("1")
        page.keyboard.press("Enter")
        expect(text).not_to_have_text(before)  # the next response, in place
        expect(message).to_have_text(say("评分已记录。", "Mark recorded."))
        expect(mark_input).to_have_value("")

    # F2 opens the anomaly form; the kind by arrow key, Tab to the note, Enter reports it,
    # and the next response is there to mark.
    reported = text.inner_text()
    page.keyboard.press("F2")
    expect(page.locator("#flag-box")).to_have_attribute("open", "")
    expect(page.locator("#flag-kind")).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    note = say("看不清", "cannot read it")
    page.keyboard.type(note)
    examiner.shot("05-examiner-flag")
    page.keyboard.press("Enter")
    expect(message).to_have_text(say("已报告考评组长。", "Reported to the lead examiner."))
    expect(text).not_to_have_text(reported)
    expect(mark_input).to_be_focused()
    assert page.evaluate("window.blindmarkSamePage") is True, "the page was reloaded"
    assert page.url.endswith(f"/examiner/sessions/{code}/mark")

    with world.tx() as db:
        exam = get_session(db, code)
        e1 = get_account(db, "e1")
        marks = db.execute(
            select(Mark.response_id, Mark.value)
            .join(Response, Response.id == Mark.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(Mark.examiner_id == e1.id, Script.session_id == exam.id)
        ).all()
        assert sorted(marks) == sorted(
            (response_id(db, exam, shown_text), Decimal(1)) for shown_text in shown
        )
        anomaly = db.scalars(
            select(Anomaly).where(Anomaly.examiner_id == e1.id, Anomaly.note == note)
        ).one()
        assert anomaly.response_id == response_id(db, exam, reported)
        assert anomaly.kind is AnomalyKind.ILLEGIBLE

    # Left too long, the batch expires: the mark is refused, and so would be every other
    # response of that batch. The page drops them all and claims afresh, rather than show
    # the next of them to be refused in turn.
    with world.tx() as db:
        e1_id = get_account(db, "e1").id
        db.execute(
            update(Lease)
            .where(Lease.examiner_id == e1_id, Lease.state == LeaseState.HELD)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    stale = page.locator("#expires").inner_text()
    page.keyboard.type("1")
    page.keyboard.press("Enter")
    expect(message).to_contain_text(say("到期", "expired"))
    # Not the next of the expired batch: a new claim's (perhaps the same responses, swept
    # back to the queue and claimed again), under its new expiry.
    expect(page.locator("#expires")).not_to_have_text(stale)
    with world.tx() as db:
        exam = get_session(db, code)
        now = dt.datetime.now(dt.UTC)
        live = set(
            db.scalars(
                select(Lease.response_id).where(
                    Lease.examiner_id == e1_id,
                    Lease.state == LeaseState.HELD,
                    Lease.expires_at > now,
                )
            )
        )
        assert response_id(db, exam, text.inner_text()) in live  # a fresh claim's


def test_lead_resolves_an_arbitration(
    world: World, people: dict[str, Person], language: str, say: Say
) -> None:
    code = f"BR-ARB-{language}"
    tiny = world.session(code)
    with world.tx() as db:
        exam = get_session(db, code)
        # One response reported to the lead, so the inbox has something in it...
        e1 = get_account(db, "e1")
        reported = claim(db, exam, e1, size=1)[0]
        flag(
            db,
            exam,
            e1,
            response_id=reported.response_id,
            kind=AnomalyKind.ILLEGIBLE,
            note="看不清",
        )
        # ... and marks 0, 3 and the maximum on every other: none within tolerance (1) of
        # another, so each goes to a third examiner and then to the lead.
        given = {"e1": lambda _i: Decimal(0), "e2": lambda i: i.max, "e3": lambda _i: Decimal(3)}
        mark_all(db, exam, ["e1", "e2", "e3"], lambda item, user: given[user](item))

    lead = people["lead"]
    page = lead.log_in("lead")
    with page.expect_navigation():
        page.locator(f"a[href='/lead/sessions/{code}']").click()
    lead.shot("06-lead-session")
    with page.expect_navigation():
        page.get_by_role("link", name=say("异常收件箱", "Anomaly inbox")).click()
    expect(page.locator("section.anomaly")).to_have_count(1)
    expect(page.locator("section.anomaly")).to_contain_text("看不清")
    lead.shot("07-lead-anomaly-inbox")
    page.go_back()
    with page.expect_navigation():
        page.get_by_role("link", name=say("仲裁", "Arbitration"), exact=True).click()

    # One response at a time, with how many wait: every response but the reported one.
    left = page.locator("#arbitration-left")
    expect(left).to_have_text(say("等待您裁定：7 份", "Waiting for your ruling: 7"))
    task = page.locator(".task")
    expect(task).to_have_count(1)
    expect(task.locator(".mark")).to_have_count(3)
    lead.shot("08-lead-arbitration")
    content = page.content()
    assert not [c.name for c in tiny.candidates if c.name in content]
    chosen = (task.get_attribute("id") or "").removeprefix("task-")  # the response's handle

    task.locator("input[name=value]").fill("2")
    task.locator("input[name=reason]").fill(say("按评分细则", "as the scheme says"))
    with page.expect_navigation():
        task.get_by_role("button").click()
    recorded = say("最终分 2 已记录。", "Final mark 2 recorded.")
    expect(page.locator("p.flash.ok")).to_have_text(recorded)
    expect(page.locator(f"#task-{chosen}")).to_have_count(0)
    expect(left).to_have_text(say("等待您裁定：6 份", "Waiting for your ruling: 6"))
    lead.shot("09-lead-arbitration-done")
    row = world.response_id(code, chosen)
    with world.tx() as db:
        response = db.get(Response, row)
        assert response is not None
        assert response.state is ResponseState.FINAL and response.final == Decimal(2)


def test_office_publishes_with_a_directors_approval(
    world: World, people: dict[str, Person], language: str, say: Say
) -> None:
    code = f"BR-PUB-{language}"
    tiny = world.session(code, key_file=True)
    assert tiny.keys.key_file is not None
    with world.tx() as db:
        mark_all(db, get_session(db, code), ["e1", "e2", "e3"])

    office, director = people["office"], people["director"]
    page = office.log_in("office")
    expect(page.locator(f"a[href='/office/sessions/{code}']")).to_be_visible()
    office.shot("10-office-sessions")
    with page.expect_navigation():
        page.locator(f"a[href='/office/sessions/{code}']").click()
    # Every group's bar is full: all responses are final.
    for bar in page.locator("progress.final").all():
        assert bar.get_attribute("value") == bar.get_attribute("max")
    office.shot("11-office-session-progress")
    with page.expect_navigation():
        page.get_by_role("link", name=say("发布", "Publication"), exact=True).click()
    waiting = say("等待主任批准。", "Waiting for a director's approval.")
    expect(page.get_by_text(waiting)).to_be_visible()
    expect(page.locator("input[name=key_file]")).to_have_count(0)
    office.shot("12-publication-waiting")

    # The director approves in a browser of their own.
    desk = director.log_in("director")
    with desk.expect_navigation():
        desk.locator(f"a[href='/director/sessions/{code}']").click()
    desk.locator("input[name=note]").fill(say("已审阅", "reviewed"))
    desk.locator("form.approve input[name=confirm]").check()
    with desk.expect_navigation():
        desk.get_by_role("button", name=say("批准发布", "Approve publication")).click()
    expect(desk.locator("p.flash.ok")).to_have_text(
        say(
            "已批准发布，考务办公室现在可以发布。",
            "Publication approved. The office can now publish.",
        )
    )
    director.shot("13-director-approved")

    page.reload()
    expect(page.locator("li.ok")).to_have_count(3)
    form = page.locator("form[enctype='multipart/form-data']")
    # A wrong passphrase is refused on the same page, beside the form, and nothing is
    # published.
    form.locator("input[name=key_file]").set_input_files(str(tiny.keys.key_file))
    form.locator("input[name=passphrase]").fill("not the passphrase")
    form.locator("input[name=confirm]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.locator("h1")).to_have_text(say("发布", "Publication") + f" · {code}")
    expect(form.locator(".refused")).to_be_visible()
    with world.tx() as db:
        assert get_session(db, code).state is not SessionState.PUBLISHED

    form.locator("input[name=key_file]").set_input_files(str(tiny.keys.key_file))
    form.locator("input[name=passphrase]").fill(PASSPHRASE)
    form.locator("input[name=confirm]").check()
    office.shot("14-publication-unlock")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    n = len(tiny.candidates)
    expect(page.locator("p.flash.ok")).to_have_text(
        say(f"场次已发布：考生 {n} 名。", f"Session published: {n} candidates.")
    )
    results = page.locator("table.results")
    for candidate in tiny.candidates:
        expect(results).to_contain_text(candidate.name)
    office.shot("15-results")
    with world.tx() as db:
        assert get_session(db, code).state is SessionState.PUBLISHED
