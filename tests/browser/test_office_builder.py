"""Issue 14, item 4 in a real browser: the office downloads the commented template, sends it
back with a mistake, reads the reason in its language (Chinese, and again in English)
beside the line with its text still in the box, fixes it there and lands on the new
session's page, whose first section is the workflow with the key as the step to do now."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LANGUAGES, Person
from tests.web.conftest import World

pytestmark = [pytest.mark.sqlite, pytest.mark.parametrize("language", LANGUAGES)]


def test_the_builder_refuses_beside_the_line_then_the_fixed_session_shows_its_workflow(
    world: World, people: dict[str, Person], language: str, say: Callable[[str, str], str]
) -> None:
    code = f"BR-BLD-{language[:2].upper()}"  # a session of each run's own (one world)
    world.session(f"{code}-SEED")  # the staff exist
    office = people["office"]
    page = office.log_in("office")
    office.go("/office/")
    with page.expect_navigation():
        page.get_by_role(
            "link", name=say("按模板新建场次", "Build a session from the template")
        ).click()
    download = say(
        "下载带注释的模板（session.toml）", "Download the commented template (session.toml)"
    )
    with page.expect_download() as downloading:
        page.get_by_role("link", name=download).click()
    template = Path(downloading.value.path()).read_text(encoding="utf-8")
    good = template.replace('code = "2026-GD-0001"', f'code = "{code}"')
    wrong = good.replace("level = 3 ", "level = 7 ")
    at = next(n for n, line in enumerate(wrong.splitlines(), 1) if line.startswith("level = 7"))

    box = page.locator("textarea[name=text]")
    box.fill(wrong)
    create = say("检查并创建场次", "Check and create the session")
    with page.expect_navigation():
        page.get_by_role("button", name=create).click()
    expect(page.locator("#builder-refused")).to_contain_text(
        say("未保存任何内容", "nothing was stored")
    )
    line = page.locator(f"#line-{at}")
    expect(line).to_have_class("problem")
    expect(line).to_contain_text("level = 7")
    expect(line).to_contain_text(
        say(
            "等级 (level)：必须是 1（高级技师）到 5（初级）",
            "must be 1 (senior technician) to 5 (entry)",
        )
    )
    expect(box).to_have_value(wrong)  # kept: fixed here, not typed again
    office.shot("90-office-builder-refused")

    # The line number in the reasons puts the cursor on that line of the box: typed over.
    page.locator(f"#builder-refused a[data-line='{at}']").click()
    expect(box).to_be_focused()
    chosen = box.evaluate("b => b.value.substring(b.selectionStart, b.selectionEnd)")
    assert chosen.startswith("level = 7 ")
    page.keyboard.type("level = 3")
    with page.expect_navigation():
        page.get_by_role("button", name=create).click()
    assert page.url.endswith(f"/office/sessions/{code}")
    expect(page.locator("p.flash.ok:not([hidden])")).to_contain_text(code)
    workflow = page.locator("#workflow")
    expect(workflow.locator("li[data-step=definition]")).to_have_class("step step-done")
    expect(workflow.locator("li[data-step=key]")).to_have_class("step step-current")
    expect(workflow.locator("li[data-step=key]")).to_contain_text(say("尚未生成", "not made yet"))
    expect(workflow.locator("li[data-step=reports]")).to_have_class("step step-waiting")
    first = page.locator("main h2").first
    expect(first).to_have_text(say("工作流程", "Workflow"))
    office.shot("91-office-workflow")
    with page.expect_navigation():
        workflow.locator("li[data-step=assignment] a").click()
    assert page.url.endswith(f"/office/sessions/{code}#assignment")
