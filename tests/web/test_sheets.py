"""The office's answer sheets in the browser (DESIGN §12): the form in Chinese on the
session's page, the PDF with its serials recorded, the layout file, refusals in the
reader's language recording nothing, and no one but the office, and only through the
component's own session."""

from __future__ import annotations

import html
import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from marking.paper.layout import FORMAT
from marking.setup.sessions import get_session
from marking.store.models import IssuedSheet
from tests.integration.factory import new_session, tiny_toml
from tests.web.conftest import World

CODE = "SHEET-W"
THEORY_ONLY = (
    tiny_toml("SHEET-T")
    .split('\n[[components]]\nkey = "skills"', 1)[0]
    .replace('[[groups]]\nkey = "prac"\nname = "实操题"\nmarks_required = 2\n', "")
)


@pytest.fixture(scope="module", autouse=True)
def sessions(world: World) -> None:
    world.session(CODE)
    with world.tx() as db:
        new_session(db, world.tmp / "SHEET-T", THEORY_ONLY, key_file=True)


def issued(world: World, code: str) -> list[IssuedSheet]:
    with world.tx() as db:
        exam = get_session(db, code)
        return list(db.scalars(select(IssuedSheet).where(IssuedSheet.session_id == exam.id)))


def test_the_office_prints_sheets_and_gets_the_layout_file(world: World) -> None:
    office = world.client("office")
    page = office.get(f"/office/sessions/{CODE}").get_data(as_text=True)
    assert "答题卡" in page and "打印答题卡（PDF）" in page and "版式文件（JSON）" in page

    layout = office.get(f"/office/sessions/{CODE}/sheets/theory/layout")
    assert layout.status_code == 200 and layout.mimetype == "application/json"
    document = json.loads(layout.get_data())
    assert document["format"] == FORMAT and document["component"] == "theory"
    digest = layout.headers["Content-Disposition"].rsplit("-", 1)[1].split(".")[0]

    printed = office.post(
        f"/office/sessions/{CODE}/sheets", data={"component": "theory", "count": "2"}
    )
    assert printed.status_code == 200, printed.get_data(as_text=True)
    assert printed.mimetype == "application/pdf"
    assert printed.headers["Content-Disposition"].startswith("attachment;")
    pages = PdfReader(io.BytesIO(printed.get_data())).pages
    assert len(pages) == 2 * len(document["pages"])
    rows = issued(world, CODE)
    assert len(rows) == 2 and {(r.issued_by, r.layout) for r in rows} == {("office", digest)}


@pytest.mark.parametrize("count", ["0", "2001", "abc", ""])
def test_a_count_out_of_range_is_refused_in_chinese(world: World, count: str) -> None:
    before = len(issued(world, CODE))
    answer = world.client("office").post(
        f"/office/sessions/{CODE}/sheets", data={"component": "theory", "count": count}
    )
    assert answer.status_code == 422
    assert "每次可打印 1 至 2000 套答题卡" in answer.get_data(as_text=True)
    assert len(issued(world, CODE)) == before


def test_a_component_is_reached_only_through_its_own_session(world: World) -> None:
    office = world.client("office")
    # SHEET-T has no skills component, though SHEET-W has one.
    answer = office.post(
        "/office/sessions/SHEET-T/sheets", data={"component": "skills", "count": "1"}
    )
    assert answer.status_code == 404 and "场次 SHEET-T 没有科目 skills" in answer.get_data(
        as_text=True
    )
    assert office.get("/office/sessions/SHEET-T/sheets/skills/layout").status_code == 404
    assert office.get("/office/sessions/NOPE/sheets/theory/layout").status_code == 404
    assert issued(world, "SHEET-T") == []


@pytest.mark.parametrize("username", ["e1", "lead", "director", "admin"])
def test_no_one_but_the_office_prints_sheets(world: World, username: str) -> None:
    client = world.client(username)
    form = {"component": "theory", "count": "1"}
    assert client.post(f"/office/sessions/{CODE}/sheets", data=form).status_code == 403
    assert client.get(f"/office/sessions/{CODE}/sheets/theory/layout").status_code == 403
    assert "答题卡" not in client.get(f"/office/sessions/{CODE}").get_data(as_text=True)


def test_a_bad_sheet_hint_in_an_uploaded_definition_is_refused_naming_it(world: World) -> None:
    """As every problem of a session.toml: refused whole in the reader's language, each
    problem located by file, question and field; no session is made."""
    toml = tiny_toml("SHEET-BAD").replace('answer = "A"', 'answer = "E"\noptions = 4', 1)
    toml = toml.replace("[[groups]]", "[paper]\nexam_number_digits = 20\n\n[[groups]]", 1)
    answer = world.client("office").post(
        "/office/sessions",
        data={"definition": (io.BytesIO(toml.encode()), "session.toml")},
        content_type="multipart/form-data",
    )
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422
    assert "场次定义未通过检查，未保存任何内容。发现问题：2 处" in page
    assert (
        '<td translate="no">第 1 个考核部分的第 1 题（题号 1）</td>'
        '<td translate="no">选项数 (options)</td>'
        "<td>必须是 5 到 26 个选项（标准答案用到了 E）</td>" in page
    )
    assert (
        '<td translate="no">[paper]</td><td translate="no">准考证号位数 (exam_number_digits)</td>'
        "<td>必须是 1 到 14：" in page
    )
    assert "/office/sessions/SHEET-BAD" not in world.client("office").get("/office/").get_data(
        as_text=True
    )
