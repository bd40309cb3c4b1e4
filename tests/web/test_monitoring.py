"""The monitoring page (DESIGN §13): the lead and the office see every examiner's figures by
name, the charts are SVG under the strict CSP, the sample shows handles; an examiner is
refused, an unknown session is not found, and nothing of a candidate is on the page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from marking.setup.sessions import get_session
from marking.store.models import Account, Response, Script
from tests.integration.monitoring_support import build
from tests.web.conftest import World

CODE = "MON-W"


@pytest.fixture(scope="module")
def marked(world: World) -> Iterator[None]:
    with world.tx() as db:
        build(db, world.tmp, CODE)
        world.passwords(db)
    world.session("MON-OTHER")  # a second session, led by the same lead
    yield


def page(world: World, who: str, path: str) -> tuple[int, str]:
    answer = world.client(who).get(path)
    return answer.status_code, answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("lead", f"/lead/sessions/{CODE}/monitoring"),
        ("office", f"/office/sessions/{CODE}/monitoring"),
        ("director", f"/director/sessions/{CODE}/monitoring"),
    ],
)
def test_the_lead_and_the_office_see_every_examiner_by_name(
    world: World, marked: None, who: str, path: str
) -> None:
    status, html = page(world, who, path)
    assert status == 200, html
    with world.tx() as db:
        names = {u: n for u, n in db.execute(select(Account.username, Account.name)).all()}
    for username in ("e1", "e2", "e3"):
        assert names[username] in html
    assert "简答题" in html and "实操题" in html  # group names, not keys
    assert html.count('<svg class="compare"') == 6
    assert "style=" not in html.split("<main", 1)[-1]  # the strict CSP: no inline style
    assert "<script>" not in html
    # e2's open alarms in words; prac's statuses.
    assert "样卷偏差过多" in html and "样卷系统性偏差" in html
    assert "资格测试中" in html and "已暂停" in html
    # QWK in words, with what it means on hover.
    assert re.search(
        r'<th scope="col"><abbr title="[^"]*1 [^"]*">加权 Kappa \(QWK\)</abbr></th>', html
    )


def csv_rows(world: World, who: str, lang: str = "zh_CN") -> list[list[str]]:
    client = world.client(who)
    client.get(f"/lang/{lang}")
    answer = client.get(f"/{who}/sessions/{CODE}/monitoring.csv")
    assert answer.status_code == 200
    return list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.mark.parametrize("who", ["lead", "office", "director"])
def test_the_browsers_csv_speaks_the_readers_language(world: World, marked: None, who: str) -> None:
    """Headings, groups, examiners, status and alarms in words (the command line's export
    keeps the contract's keys: tests/integration/test_monitoring.py)."""
    header, *rows = csv_rows(world, who)
    assert header[:4] == ["评分组", "考评员", "用户名", "评分"] and len(rows) == 6
    assert "加权 Kappa (QWK)" in header and header[-2:] == ["状态", "未关闭的警报"]
    assert {r[0] for r in rows} == {"简答题", "实操题"}
    assert "样卷偏差过多" in "".join(r[-1] for r in rows)
    assert {"资格测试中", "已暂停"} <= {r[-2] for r in rows}
    english, *_rows = csv_rows(world, who, "en")
    assert english[:3] == ["Group", "Examiner", "Username"]
    assert "Weighted kappa (QWK)" in english


def test_the_sample_shows_handles_and_nothing_of_a_candidate(world: World, marked: None) -> None:
    _status, html = page(world, "lead", f"/lead/sessions/{CODE}/monitoring")
    handles = re.findall(r"<code>([0-9A-Z]{26})</code>", html)
    assert len(handles) == 5
    shown = {world.response_id(CODE, h) for h in handles}
    with world.tx() as db:
        exam = get_session(db, CODE)
        assert shown <= set(
            db.scalars(
                select(Response.id)
                .join(Script, Script.id == Response.script_id)
                .where(Script.session_id == exam.id)
            )
        )
        codes = db.scalars(select(Script.code).where(Script.session_id == exam.id)).all()
        texts = db.scalars(
            select(Response.text)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.group_id.is_not(None))
        ).all()
    for secret in (*codes, *texts):
        assert secret not in html


def test_each_chart_has_labelled_ticked_axes_and_names_examiner_and_group(
    world: World, marked: None
) -> None:
    _status, html = page(world, "lead", f"/lead/sessions/{CODE}/monitoring")
    with world.tx() as db:
        e1 = db.scalars(select(Account.name).where(Account.username == "e1")).one()
    charts = re.findall(
        r'<svg class="compare"[^>]*aria-label="([^"]*)"[^>]*>(.*?)</svg>', html, re.S
    )
    assert len(charts) == 6
    label, svg = next((a, s) for a, s in charts if a.startswith(f"{e1} 在简答题"))
    assert svg.startswith(f"<title>{label}</title>")
    assert re.findall(r'<text class="x-tick"[^>]*>([^<]*)</text>', svg) == ["0", "50%", "100%"]
    y_ticks = re.findall(r'<text class="y-tick"[^>]*>([^<]*)</text>', svg)
    assert y_ticks[0] == "0" and re.fullmatch(r"\d+\.\d%", y_ticks[1]), y_ticks
    assert '<text class="x-axis"' in svg and ">分数（占满分的比例）</text>" in svg
    assert '<text class="y-axis"' in svg and ">占比</text>" in svg
    assert "style" not in svg  # presentation attributes only: the strict CSP holds


def test_the_sample_names_each_question_with_its_component(world: World, marked: None) -> None:
    _status, html = page(world, "lead", f"/lead/sessions/{CODE}/monitoring")
    rows = re.findall(r"<tr><td><code>[0-9A-Z]{26}</code></td><td>([^<]*)</td>", html)
    assert rows and set(rows) <= {"理论知识 第 2 题", "操作技能 第 2 题"}, rows


@pytest.mark.parametrize(
    "path", [f"/lead/sessions/{CODE}/monitoring", f"/lead/sessions/{CODE}/monitoring.csv"]
)
def test_an_examiner_is_refused(world: World, marked: None, path: str) -> None:
    status, _html = page(world, "e2", path)
    assert status == 403


@pytest.mark.parametrize(
    "path", ["/office/sessions/{code}/monitoring", "/lead/sessions/{code}/monitoring"]
)
def test_an_unknown_session_is_not_found(world: World, marked: None, path: str) -> None:
    who = "office" if path.startswith("/office") else "lead"
    status, _html = page(world, who, path.format(code="NO-SUCH"))
    assert status == 404


def test_the_director_is_refused_the_office_page_and_has_a_page_of_their_own(
    world: World, marked: None
) -> None:
    status, _html = page(world, "director", f"/office/sessions/{CODE}/monitoring")
    assert status == 403
    status, _html = page(world, "office", f"/director/sessions/{CODE}/monitoring")
    assert status == 403


def test_the_session_pages_link_to_it(world: World, marked: None) -> None:
    _s, lead = page(world, "lead", f"/lead/sessions/{CODE}")
    assert f"/lead/sessions/{CODE}/monitoring" in lead
    _s, office = page(world, "office", f"/office/sessions/{CODE}")
    assert f"/office/sessions/{CODE}/monitoring" in office
    _s, director = page(world, "director", f"/director/sessions/{CODE}")
    assert f"/director/sessions/{CODE}/monitoring" in director


def test_a_stale_snapshot_of_a_large_session_is_shown_and_said_to_be(
    world: World, marked: None
) -> None:
    from sqlalchemy import update

    from marking.store.models import MonitoringSnapshot

    page(world, "lead", f"/lead/sessions/{CODE}/monitoring")  # the snapshot is stored
    with world.tx() as db:
        exam = get_session(db, CODE)
        db.execute(
            update(MonitoringSnapshot)
            .where(MonitoringSnapshot.session_id == exam.id)
            .values(last_mark_id=0, took_ms=60_000)  # as if slow: left to the background job
        )
    _status, html = page(world, "office", f"/office/sessions/{CODE}/monitoring")
    assert "此后又有新的评分" in html
