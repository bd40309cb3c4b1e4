"""The office's session builder (issue 14, item 4): a commented template to download, a
definition sent back with each problem in Chinese beside its line and the text kept in the
box, nothing stored until it is fixed; then the session exists."""

from __future__ import annotations

import html
import io
import re

from sqlalchemy import select

from marking.domain.definition import parse_session_definition
from marking.store.models import ExamSession
from tests.web.conftest import World


def _template(world: World) -> str:
    answer = world.client("office").get("/office/sessions/template.toml")
    assert answer.status_code == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="session.toml"'
    return answer.get_data(as_text=True)


def _stored(world: World, code: str) -> bool:
    with world.tx() as db:
        return db.scalar(select(ExamSession.id).where(ExamSession.code == code)) is not None


def _problem_lines(page: str) -> dict[int, str]:
    """The numbered listing's lines that carry a problem: line → its words."""
    found = re.findall(
        r'<tr id="line-(\d+)" class="problem"><th scope="row">\d+</th><td><code>.*?</code></td>\s*'
        r"<td>(.*?)</td></tr>",
        page,
        flags=re.S,
    )
    return {int(n): html.unescape(re.sub(r"<[^>]+>", "", words)).strip() for n, words in found}


def test_the_template_is_commented_in_chinese_and_valid_as_downloaded(world: World) -> None:
    world.session("BLD-0")  # the staff exist
    text = _template(world)
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert comments and any("场次编号" in line for line in text.splitlines())
    definition = parse_session_definition(text)
    assert definition.code == "2026-GD-0001" and definition.level == 3
    page = world.client("office").get("/office/sessions/new").get_data(as_text=True)
    assert "下载带注释的模板" in page and 'name="text"' in page


def test_a_definition_with_mistakes_comes_back_beside_its_lines_and_is_stored_once_fixed(
    world: World,
) -> None:
    world.session("BLD-1")
    office = world.client("office")
    good = _template(world).replace('code = "2026-GD-0001"', 'code = "BLD-NEW"')
    lines = good.splitlines()
    level_at = next(i for i, line in enumerate(lines, 1) if line.startswith("level = 3"))
    tolerance_at = next(i for i, line in enumerate(lines, 1) if line.startswith("tolerance = 2"))
    bad = good.replace("level = 3 ", "level = 9 ").replace("tolerance = 2 ", 'tolerance = "两分" ')

    refused = office.post("/office/sessions", data={"text": bad})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "场次定义未通过检查，未保存任何内容。发现问题：2 处" in page
    beside = _problem_lines(page)
    assert set(beside) == {level_at, tolerance_at}
    assert "等级 (level)：必须是 1（高级技师）到 5（初级）" in beside[level_at]
    assert "误差 (tolerance)：必须是数字，不能是文字" in beside[tolerance_at]
    kept = re.search(r'<textarea name="text"[^>]*>(.*?)</textarea>', page, flags=re.S)
    assert kept is not None and html.unescape(kept.group(1)) == bad  # kept for fixing
    assert not _stored(world, "BLD-NEW")

    made = office.post("/office/sessions", data={"text": good})
    assert made.status_code == 302
    assert made.headers["Location"].endswith("/office/sessions/BLD-NEW")
    assert _stored(world, "BLD-NEW")

    again = office.post("/office/sessions", data={"text": good})
    assert again.status_code == 422
    code_at = next(i for i, line in enumerate(lines, 1) if line.startswith("code = "))
    assert "编号为 'BLD-NEW' 的场次已存在" in _problem_lines(again.get_data(as_text=True))[code_at]


def test_a_file_that_is_not_toml_names_its_line_in_chinese(world: World) -> None:
    world.session("BLD-2")
    broken = _template(world).replace("[session]", "[session", 1)
    at = broken.splitlines().index("[session") + 1
    answer = world.client("office").post(
        "/office/sessions",
        data={"definition": (io.BytesIO(broken.encode()), "我的场次.toml")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    assert _problem_lines(answer.get_data(as_text=True)) == {at: "TOML 格式错误：表头末尾缺少“]”"}


def test_the_form_writes_a_session_and_sends_each_problem_back_beside_its_field(
    world: World,
) -> None:
    world.session("BLD-3")
    office = world.client("office")
    facts = {
        "code": "BLD-FORM",
        "occupation": "电工",
        "occupation_code": "6-31-01-03",
        "level": "4",
        "date": "2026-12-20",
        "station": "GD-0107",
    }
    questions = "\n".join(
        (
            "理论知识, 1, FM-0001, 单选, 1, B",
            "理论知识，41，FM-0041，简答，10，12",
            "操作技能, 1, FM-S001, 实操",
        )
    )

    short = office.post("/office/sessions/form", data={**facts, "code": "", "questions": questions})
    assert short.status_code == 422
    page = html.unescape(short.get_data(as_text=True))
    assert re.search(r'id="error-code">必填。<', page)
    assert (
        "第 3 行：需要 6 或 7 项（考核部分、题号、题库编号、题型、满分、标准答案或误差[、步长]），"
        "实际 4 项。" in page
    )
    assert 'value="GD-0107"' in page and questions in page  # the input kept
    assert not _stored(world, "BLD-FORM")

    questions = questions.replace("实操", "实操, 100, 5")
    wide = office.post("/office/sessions/form", data={**facts, "questions": questions})
    assert wide.status_code == 422  # the parser's refusal, put back on the form's line
    page = html.unescape(wide.get_data(as_text=True))
    assert "第 2 行：误差 (tolerance)：误差 12 大于满分 10" in page
    assert not _stored(world, "BLD-FORM")

    fixed = questions.replace("10，12", "10，2")
    made = office.post("/office/sessions/form", data={**facts, "questions": fixed})
    assert made.status_code == 302, html.unescape(made.get_data(as_text=True))
    with world.tx() as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.code == "BLD-FORM")).one()
        assert exam.level == 4
        assert [(c.name, len(c.questions)) for c in exam.components] == [
            ("理论知识", 2),
            ("操作技能", 1),
        ]
        assert sorted(g.name for g in exam.groups) == sorted(["简答题", "实操题"])


def test_an_unknown_time_zone_is_named_beside_its_line(world: World) -> None:
    world.session("BLD-4")
    text = _template(world).replace('# time_zone = "Asia/Shanghai"', 'time_zone = "Mars/Olympus"')
    at = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("time_zone"))
    answer = world.client("office").post("/office/sessions", data={"text": text})
    assert answer.status_code == 422
    assert _problem_lines(answer.get_data(as_text=True)) == {
        at: "时区 (time_zone)：无法识别的时区 'Mars/Olympus'（如 Asia/Shanghai）"
    }
