"""The office's session page (issue 14, item 4): the workflow first, in order, each step's
state with its counts and a link; assignment by ticking examiners shown by name, removable
before marking, with a warning while a group has fewer examiners than marks required; the
results searched, paged and with ID numbers masked; imported examiners pointed to their
invitation."""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from marking.audit.verify import verify
from marking.people.accounts import get_account
from marking.quality.checks import submit_check
from marking.quality.items import add_item
from marking.quality.qualification import start_qualification
from marking.setup.assignment import approve_scheme, assign
from marking.setup.sessions import get_session
from marking.store.models import CheckPurpose, LedgerEntry, Response
from tests.integration.factory import ACTOR, PASSPHRASE, mark_all
from tests.web.conftest import CONFIRMED, World
from web import office_results


def _steps(page: str) -> list[tuple[str, str, str]]:
    """(step, state, its words) in the order the page shows them."""
    found = re.findall(
        r'<li class="step step-(\w+)" data-step="(\w+)".*?>(.*?)</li>', page, flags=re.S
    )
    return [
        (key, state, html.unescape(re.sub(r"<[^>]+>|\s+", " ", words)))
        for state, key, words in found
    ]


def test_the_workflow_comes_first_and_names_the_step_to_do(world: World) -> None:
    world.session("WF-1", open_groups=False)
    office = world.client("office")
    page = office.get("/office/sessions/WF-1").get_data(as_text=True)
    assert page.index("工作流程") < page.index("实时进度")  # the first thing on the page
    steps = _steps(page)
    assert [s[0] for s in steps] == [
        "definition", "key", "intake", "examiners", "assignment", "marking", "approval",
        "publication", "reports",
    ]  # fmt: skip
    states = {key: state for key, state, _words in steps}
    assert [states[k] for k in ("definition", "key", "intake", "examiners")] == ["done"] * 4
    assert states["assignment"] == "current"
    assert all(states[k] == "waiting" for k in ("marking", "approval", "publication", "reports"))
    words = {key: text for key, _state, text in steps}
    assert "批次 1 个，考生 4 名" in words["intake"]
    assert "考评员人数足够的阅卷组：0 / 2；评分组长：尚未指定" in words["assignment"]
    assert 'href="/office/sessions/WF-1#assignment"' in page
    # The intake batches are listed; withdrawing one is confirmed, naming what happens.
    assert "我明白：该批次的 8 份试卷及其全部评分将移出本场次，发布时不含该批考生。" in page

    world.session("WF-2")  # assigned, schemes approved: marking is the step now
    steps = _steps(office.get("/office/sessions/WF-2").get_data(as_text=True))
    marking = next(s for s in steps if s[0] == "marking")
    assert marking[1] == "current" and "评分标准已批准：2 / 2；已定分答卷：0 / 8" in marking[2]


def test_examiners_are_ticked_by_name_removed_before_marking_and_short_groups_warned(
    world: World,
) -> None:
    world.session("WF-3", open_groups=False)
    office = world.client("office")
    page = office.get("/office/sessions/WF-3").get_data(as_text=True)
    assert 'name="examiners" value="e1"> 考评员e1 (e1)' in page

    nothing = office.post("/office/sessions/WF-3/groups/short/assign", data={"lead": "lead"})
    assert nothing.status_code == 422
    assert "请至少勾选一名要加入的考评员。" in nothing.get_data(as_text=True)
    assert 'value="lead"' in nothing.get_data(as_text=True)  # the input kept

    one = office.post("/office/sessions/WF-3/groups/short/assign", data={"examiners": ["e1"]})
    assert one.status_code == 302
    page = office.get("/office/sessions/WF-3").get_data(as_text=True)
    assert "简答题现有考评员 1 名，但每份答卷需要 2 名不同考评员评分（第七条(七)）" in page
    assert "将 考评员e1 移出简答题" in page  # removable, by name

    removed = office.post("/office/sessions/WF-3/groups/short/unassign", data={"username": "e1"})
    assert removed.status_code == 302
    page = office.get("/office/sessions/WF-3").get_data(as_text=True)
    assert "将 考评员e1 移出简答题" not in page
    with world.tx() as db:  # recorded: the ledger names the removal and still verifies
        exam = get_session(db, "WF-3")
        kinds = [
            e.kind for e in db.scalars(select(LedgerEntry).where(LedgerEntry.session_id == exam.id))
        ]
        assert kinds.count("unassignment") == 1 and verify(db, exam).ok

    world.session("WF-4")  # marking: the lead suspends instead
    refused = office.post("/office/sessions/WF-4/groups/short/unassign", data={"username": "e1"})
    assert refused.status_code == 422
    assert "只有在评分开始前才能把考评员移出阅卷组" in refused.get_data(as_text=True)
    assert "将 考评员e1 移出简答题" not in refused.get_data(as_text=True)


def test_results_are_searched_paged_and_id_numbers_masked(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    tiny = world.session("WF-5", n=5, key_file=True)
    assert tiny.keys.key_file is not None
    with world.tx() as db:
        mark_all(db, get_session(db, "WF-5"), ["e1", "e2", "e3"])
    director, office = world.client("director"), world.client("office")
    assert (
        director.post(
            "/director/sessions/WF-5/approval", data={"note": "已审阅", **CONFIRMED}
        ).status_code
        == 302
    )
    approval = next(
        s
        for s in _steps(office.get("/office/sessions/WF-5").get_data(as_text=True))
        if s[0] == "approval"
    )
    assert approval[1] == "done" and "已由 director (director) 审批" in approval[2]
    published = office.post(
        "/api/v1/sessions/WF-5/publication",
        data={"key_file": (io.BytesIO(tiny.keys.key_file.read_bytes()), "s.key"),
              "passphrase": PASSPHRASE},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert published.status_code == 200, published.get_data(as_text=True)
    steps = _steps(office.get("/office/sessions/WF-5").get_data(as_text=True))
    assert [s[1] for s in steps] == ["done"] * 8 + ["current"]

    monkeypatch.setattr(office_results, "PER_PAGE", 2)
    first = office.get("/office/sessions/WF-5/results").get_data(as_text=True)
    assert "共 5 名考生；第 1 / 3 页。" in first and "下一页" in first
    for c in tiny.candidates:
        assert c.id_number not in first
    shown = [c for c in tiny.candidates if c.exam_no in first]
    assert len(shown) == 2
    masked = shown[0].id_number[:4] + "*" * 10 + shown[0].id_number[-4:]
    assert masked in first

    last = office.get("/office/sessions/WF-5/results?page=3").get_data(as_text=True)
    assert sum(c.exam_no in last for c in tiny.candidates) == 1

    wanted = tiny.candidates[3]
    found = office.get("/office/sessions/WF-5/results", query_string={"q": wanted.name})
    text = found.get_data(as_text=True)
    assert "共 1 名考生" in text and wanted.exam_no in text
    by_id = office.get("/office/sessions/WF-5/results", query_string={"q": wanted.id_number[-6:]})
    assert wanted.exam_no in by_id.get_data(as_text=True)

    # The director's results page: the same search and pages.
    first = director.get("/director/sessions/WF-5/results").get_data(as_text=True)
    assert "共 5 名考生；第 1 / 3 页。" in first and "下一页" in first
    assert sum(c.exam_no in first for c in tiny.candidates) == 2
    assert 'href="/director/sessions/WF-5/results?page=2"' in first
    last = director.get("/director/sessions/WF-5/results?page=3").get_data(as_text=True)
    assert sum(c.exam_no in last for c in tiny.candidates) == 1
    found = director.get("/director/sessions/WF-5/results", query_string={"q": wanted.name})
    text = found.get_data(as_text=True)
    assert "共 1 名考生" in text and wanted.exam_no in text


def test_imported_examiners_without_a_password_are_pointed_to_their_invitation(
    world: World,
) -> None:
    world.session("WF-6", open_groups=False)
    office = world.client("office")
    csv = (
        "username,name,certificate_no,certificate_expires,grade,scope,institution\n"
        "newcomer,李新来,C-NEW,2029-12-31,examiner,6-31-01-03:3,某站\n"
    )
    done = office.post(
        "/office/examiners",
        data={"file": (io.BytesIO(csv.encode()), "examiners.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "有 1 名考评员还不能登录：尚未设置密码" in page
    row = re.search(r'<tr id="examiner-newcomer".*?</tr>', page, flags=re.S)
    assert row is not None and "尚未设置密码" in row.group(0)
    assert 'href="/office/examiners/newcomer/access">发送邀请或设置密码' in row.group(0)


def test_the_office_sees_responses_no_examiner_on_the_group_can_finish(world: World) -> None:
    """A qualification set of exactly its size: two examiners who failed once were shown its
    responses and are held out of them, so each needs two marks and only one examiner is left
    to give them. The examiner count alone (three for two marks) says nothing is wrong."""
    world.session("WF-Q", open_groups=False)
    with world.tx() as db:
        exam = get_session(db, "WF-Q")
        short, prac = (next(g for g in exam.groups if g.key == k) for k in ("short", "prac"))
        for g in (short, prac):
            assign(
                db, exam, g, ["e1", "e2", "e3"], actor=ACTOR, lead="lead" if g is short else None
            )
        short.qualification_size, short.qualification_within = 2, Decimal(1)
        rids = db.scalars(
            select(Response.id).where(Response.group_id == short.id).order_by(Response.id).limit(2)
        ).all()
        lead = get_account(db, "lead")
        for rid in rids:
            add_item(db, exam, lead, response_id=rid, purpose=CheckPurpose.QUALIFICATION, value=2)
        approve_scheme(db, exam, short, by="lead")
        approve_scheme(db, exam, prac, by="lead")
        for username in ("e1", "e2"):  # both fail: 6 is off the definitive 2 beyond tolerance
            who = get_account(db, username)
            for item in start_qualification(db, exam, who, group=short):
                assert item.check_id is not None
                submit_check(db, exam, who, check_id=item.check_id, value="6")
    page = world.client("office").get("/office/sessions/WF-Q").get_data(as_text=True)
    card = page.split('id="assign-short"', 1)[1].split("</section>", 1)[0]
    assert "简答题有 2 份答卷无法由组内现有考评员评完" in card
    assert "请为简答题增派考评员" in card
    assert "但每份答卷需要" not in card  # three examiners for two marks: enough by count
    prac_card = page.split('id="assign-prac"', 1)[1].split("</section>", 1)[0]
    assert "无法由组内现有考评员评完" not in prac_card
