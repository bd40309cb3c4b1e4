"""What a Chinese reader of the publication checklist and the register meets (a walk of
issue 12 in the browser): engine words in Chinese, no command line, the refusal in view."""

from __future__ import annotations

import re

from marking.setup.sessions import get_session
from tests.integration.factory import mark_all
from tests.web.conftest import CONFIRMED, World
from tests.web.test_batches import publish, published


def test_open_work_on_the_checklist_reads_in_chinese_with_group_names(world: World) -> None:
    """R16: the director sees what still stands before approval, in words and group names,
    and no `blindmark` command (the browser is the director's whole tool)."""
    world.session("WALK-OPEN")
    director = world.client("director")
    director.get("/lang/zh_CN")
    page = director.get("/director/sessions/WALK-OPEN").get_data(as_text=True)
    assert 'class="open-work"' in page
    items = page.split('class="open-work"', 1)[1].split("</ul>", 1)[0]
    assert "尚待评分" in items
    assert "still need marks" not in items and "group " not in items
    assert "blindmark" not in page
    office = world.client("office")
    office.get("/lang/zh_CN")
    page = office.get("/office/sessions/WALK-OPEN").get_data(as_text=True)
    assert "key_file" not in page.split('class="custody"', 1)[1].split("</p>", 1)[0]
    # Groups and components by name alone: no key in brackets beside them.
    assert "简答题" in page and "(short)" not in page and "(theory)" not in page


def test_a_refused_register_form_brings_the_reader_back_to_it(world: World) -> None:
    """第八条: a suspension without the confirmation is refused beside the examiner's row,
    and the page opens there rather than at the top of a long register."""
    world.session("WALK-REG")
    office = world.client("office")
    office.get("/lang/zh_CN")
    page = office.get("/office/examiners").get_data(as_text=True)
    assert 'action="/office/examiners/e2/record#record-e2"' in page
    assert 'id="record-e2"' in page


def test_refused_assignment_and_override_forms_open_at_the_form(world: World) -> None:
    """第七条(六), 第七条(四): the lead's assignment, the office's assignment and deputy, and
    the director's team override come back beside their form, not at the top of the page."""
    world.session("WALK-ASSIGN")
    lead = world.client("lead").get("/lead/sessions/WALK-ASSIGN").get_data(as_text=True)
    assert 'groups/short/assign#assign-short"' in lead and 'id="assign-short"' in lead
    office = world.client("office").get("/office/sessions/WALK-ASSIGN").get_data(as_text=True)
    assert 'groups/short/assign#assign-short"' in office and "/deputy#deputy" in office
    page = world.client("director").get("/director/sessions/WALK-ASSIGN").get_data(as_text=True)
    assert "#team-override" in page and 'id="team-override"' in page


def test_the_results_table_names_its_columns_and_outcomes_in_chinese(world: World) -> None:
    """R8: after publication the office reads the results: headers and outcomes in words
    (准考证号, 合格), not the CSV's keys ('exam_no', 'pass'); the CSV keeps its keys."""
    tiny = world.session("WALK-RES", key_file=True)
    with world.tx() as db:
        mark_all(db, get_session(db, "WALK-RES"), ["e1", "e2", "e3"])
    assert (
        world.client("director")
        .post("/director/sessions/WALK-RES/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    assert tiny.keys.key_file is not None
    assert publish(world, "WALK-RES", tiny.keys.key_file.read_bytes())[0] == 200
    office = world.client("office")
    office.get("/lang/zh_CN")
    page = office.get("/office/sessions/WALK-RES/results").get_data(as_text=True)
    head = page.split('<table class="results">', 1)[1].split("</thead>", 1)[0]
    assert "准考证号" in head and "姓名" in head and "结果" in head
    assert ">exam_no<" not in head and ">outcome<" not in head and "_score<" not in head
    body = page.split("</thead>", 1)[1]
    assert "<td>pass</td>" not in body and "<td>fail</td>" not in body
    assert "合格" in body


def test_the_leads_scheme_table_names_questions_not_keys(world: World) -> None:
    """第七条(六): the lead reads each group's questions as 'component, question N' in
    words before approving its scheme, not 'theory/4'."""
    world.session("WALK-SCHEME")
    lead = world.client("lead")
    lead.get("/lang/zh_CN")
    page = lead.get("/lead/sessions/WALK-SCHEME").get_data(as_text=True)
    assert 'data-question="' in page
    cells = re.findall(r'<td data-question="[^"]+">([^<]+)</td>', page)
    assert cells and all("题" in c and "/" not in c for c in cells)


def test_error_pages_speak_chinese_and_lead_home(world: World) -> None:
    """A mistyped address, another session's page or another role's page tells a Chinese
    reader what happened in Chinese, with the way home (no werkzeug English)."""
    world.session("WALK-ERR")
    office = world.client("office")
    office.get("/lang/zh_CN")
    for path, words in (
        ("/nothing-here", "此页面不存在"),
        ("/office/sessions/NOPE", "没有场次 NOPE"),
        ("/office/sessions/WALK-ERR/verify", "不能以这种方式打开"),
        ("/director/", "此页面不适用于您的角色"),
    ):
        page = office.get(path).get_data(as_text=True)
        assert words in page, path
        assert "requested URL" not in page and 'href="/"' in page


def test_the_key_correction_list_names_components_not_keys(world: World) -> None:
    """第六条: the lead corrects an objective question's key from a list of questions named
    as the paper names them (理论知识, 第 1 题), not the engine's 'theory/1'."""
    world.session("WALK-KEY")
    lead = world.client("lead")
    lead.get("/lang/zh_CN")
    page = lead.get("/lead/sessions/WALK-KEY/anomalies").get_data(as_text=True)
    options = page.split('name="question"', 1)[1].split("</select>", 1)[0]
    assert 'value="theory/1"' in options
    assert ">theory/1 " not in options and ">skills/" not in options
    assert "理论知识" in options


def test_a_search_that_finds_nobody_says_so_and_keeps_the_words(world: World) -> None:
    """R8: the office searches the results for a name that is not there: the page says no
    candidate matches what was typed (not a bare '共 0 名考生' over an empty table), and the
    search box still holds it to correct."""
    published(world, "WALK-FIND")
    office = world.client("office")
    office.get("/lang/zh_CN")
    page = office.get("/office/sessions/WALK-FIND/results?q=张无忌").get_data(as_text=True)
    assert "没有与“张无忌”相符的考生" in page
    assert 'name="q" value="张无忌"' in page
    assert "共 0 名考生" not in page
