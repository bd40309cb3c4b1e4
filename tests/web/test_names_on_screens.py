"""What the Chinese screens say where they used to show keys or English words: the group's
name in the assignment and scheme messages, and the results table's headings and outcomes
in words (合格/不合格/成绩无效/缺考), while the exports keep DESIGN §11's keys."""

from __future__ import annotations

import re

from marking.publication.publish import publish
from marking.setup.sessions import get_session
from tests.integration.factory import approve, mark_all
from tests.web.conftest import World


def test_assignment_and_scheme_messages_name_the_group(world: World) -> None:
    world.session("NAMES-1", open_groups=False)
    office = world.client("office")
    office.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    done = office.post(
        "/office/sessions/NAMES-1/groups/short/assign",
        data={"examiner_list": "e1,e2", "lead": "lead"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已分配到 简答题：新增 2 人。" in done
    lead = world.client("lead")
    done = lead.post(
        "/lead/sessions/NAMES-1/groups/prac/assign",
        data={"examiner_list": "e1,e2"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "已分配到 实操题：新增 2 人。" in done
    done = lead.post("/lead/sessions/NAMES-1/groups/prac/approve", follow_redirects=True).get_data(
        as_text=True
    )
    assert "评分组 实操题 的评分细则已批准，该组开始阅卷。" in done


def test_results_table_words_its_headings_and_outcomes(world: World) -> None:
    tiny = world.session("NAMES-2")
    with world.tx() as db:
        exam = get_session(db, "NAMES-2")
        mark_all(db, exam, ["e1", "e2"])
        publish(db, exam, by="office", approved_by=approve(db, exam), key=tiny.keys.open(exam))
    page = world.client("office").get("/office/sessions/NAMES-2/results").get_data(as_text=True)
    headings = re.findall(r'<th scope="col" data-column="(\w+)">([^<]*)</th>', page)
    assert dict(headings)["exam_no"] == "准考证号"
    assert dict(headings)["outcome"] == "结果"
    assert dict(headings)["theory_score"] == "理论知识 成绩"
    outcomes = re.findall(r'<td data-column="outcome">([^<]*)</td>', page)
    assert len(outcomes) == len(tiny.candidates)
    assert set(outcomes) <= {"合格", "不合格", "成绩无效", "缺考"}
    buttons = dict(re.findall(r'data-export="(\w+)"[^>]*>([^<]*)</a>', page))
    assert buttons == {
        "paper": "试卷结构（试题）",
        "marks": "评分",
        "finals": "最终得分",
        "results": "成绩",
    }
    export = world.client("office").get("/api/v1/sessions/NAMES-2/exports/results")
    assert export.data.decode("utf-8-sig").startswith("exam_no,name,id_number,outcome,")


def test_open_work_is_worded_with_group_names(world: World) -> None:
    """The publication checklist says what still stands in the reader's language, each
    group by its name (the engine's English lines stay for the command line)."""
    world.session("NAMES-3")
    for who, path in (
        ("office", "/office/sessions/NAMES-3/publication"),
        ("director", "/director/sessions/NAMES-3"),
    ):
        page = world.client(who).get(path).get_data(as_text=True)
        assert "评分组 简答题：4 份作答尚待评分" in page, who
        assert "评分组 实操题：4 份作答尚待评分" in page, who
        assert "still need marks" not in page, who


def test_the_lead_and_the_office_see_component_names_and_custody_in_words(world: World) -> None:
    world.session("NAMES-4", key_file=True)
    lead = world.client("lead").get("/lead/sessions/NAMES-4").get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", " ", lead)  # what the reader sees, not the cells' data attributes
    assert "理论知识 第 2 题" in shown and "theory/2" not in shown
    office = world.client("office").get("/office/sessions/NAMES-4").get_data(as_text=True)
    custody = re.search(r'<p class="custody">([^<]*)</p>', office)
    assert custody is not None and "key_file" not in custody.group(1)
    assert "密钥指纹" in custody.group(1)
