"""Checks over HTTP (DESIGN §13): a seed or 回评 comes in the examiner's batch and is marked
on the same screen, indistinguishable from live work; the qualification set and its review."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from marking.quality.items import add_item
from marking.queue import handles
from marking.queue.handles import Kind
from marking.setup.assignment import approve_scheme, assign
from marking.setup.sessions import get_session
from marking.store.models import Account, Response, Script
from marking.store.models.checks import CheckPurpose
from tests.integration.factory import ACTOR
from tests.web.conftest import World
from tests.web.test_examiner_and_lead import API, HANDLE, claim, mark, row_ids


def set_rates(world: World, code: str, *, remark: str) -> None:
    with world.tx() as db:
        exam = get_session(db, code)
        for g in exam.groups:
            g.seed_rate, g.remark_rate = Decimal(0), Decimal(remark)


def is_check(world: World, code: str, handle: str) -> bool:
    """Whether a handle names a check: only the test, holding the key, can tell."""
    with world.tx() as db:
        exam = get_session(db, code)
        return handles.decode(exam.handle_key, Kind.CHECK, exam.id, handle) is not None


def first_check(world: World, client: FlaskClient, code: str) -> tuple[dict[str, Any], dict]:
    """Mark live work until a check comes; returns (the check, a live item of the batch)."""
    live: dict[str, Any] = {}
    for _ in range(40):
        batch = claim(client, code, size=5)
        for item in batch:
            if is_check(world, code, item["response"]):
                return item, live
            live = item
            assert mark(client, code, item["response"], "1").status_code == 200
    raise AssertionError("no check came")


def test_a_check_comes_and_is_marked_as_live_work(world: World) -> None:
    world.session("CKW-1", n=40, examiners=("e1", "e2"))
    set_rates(world, "CKW-1", remark="0.5")
    e1 = world.client("e1")
    check, live = first_check(world, e1, "CKW-1")
    # Same shape, same handle format, no row id: nothing says it is a check.
    assert check.keys() == live.keys()
    assert HANDLE.fullmatch(check["response"]) and not row_ids(check)
    held = e1.get(f"{API}/CKW-1/held").json
    assert check["response"] in {h["response"] for h in held}
    page = e1.get("/examiner/sessions/CKW-1/mark").get_data(as_text=True)
    assert "资格测试" not in page  # the ordinary marking screen

    # Another examiner gets what a live response of e1's gets them (409: they never claimed
    # it), not a 404 that would single the check out; through another session, 404. Nothing
    # is stored.
    e2 = world.client("e2")
    assert mark(e2, "CKW-1", check["response"], "1").status_code == 409
    assert mark(e2, "CKW-1", live["response"], "1").status_code == 409
    world.session("CKW-2", n=1, examiners=("e1", "e2"))
    assert mark(e1, "CKW-2", check["response"], "1").status_code == 404

    refused = mark(e1, "CKW-1", check["response"], "99")
    assert refused.status_code == 422 and refused.json["error"] == "invalid_mark"
    done = mark(e1, "CKW-1", check["response"], "1")
    assert done.status_code == 200
    assert done.json == {"response": check["response"], "recorded": True}
    again = mark(e1, "CKW-1", check["response"], "1")
    assert again.status_code == 409 and again.json["error"] == "lease_lost"
    assert "已评过此答题" in again.json["detail"]  # word for word a live response's refusal
    # Handing back and flagging answer as for live work too.
    other, _live = first_check(world, e1, "CKW-1")
    flagged = e1.post(
        f"{API}/CKW-1/responses/{other['response']}/flag", json={"kind": "other", "note": "?"}
    )
    assert flagged.status_code == 200 and HANDLE.fullmatch(flagged.json["anomaly"])


def qualification_ready(world: World, code: str) -> None:
    """Group short with a set of two (definitive mark 2, a note each), approved."""
    world.session(code, n=4, examiners=("e1", "e2"), open_groups=False)
    with world.tx() as db:
        exam = get_session(db, code)
        short = next(g for g in exam.groups if g.key == "short")
        assign(db, exam, short, ["e1", "e2"], actor=ACTOR, lead="lead")
        short.qualification_size, short.qualification_within = 2, Decimal("1")
        lead = db.scalar(select(Account).where(Account.username == "lead"))
        assert lead is not None
        rids = db.scalars(
            select(Response.id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.group_id == short.id)
            .order_by(Response.id)
            .limit(2)
        ).all()
        for n, rid in enumerate(rids):
            add_item(
                db,
                exam,
                lead,
                response_id=rid,
                purpose=CheckPurpose.QUALIFICATION,
                value=Decimal(2),
                note=f"要点齐全 {n}",
            )
        db.flush()
        approve_scheme(db, exam, short, by="lead")


def test_an_examiner_takes_the_qualification_set_fails_reviews_and_qualifies(
    world: World,
) -> None:
    qualification_ready(world, "CKW-3")
    e1 = world.client("e1")
    home = e1.get("/examiner/").get_data(as_text=True)
    assert "须先完成资格测试" in home
    refused = e1.post(f"{API}/CKW-3/claim", json={"size": 5})
    assert refused.status_code == 409 and "资格测试" in refused.json["detail"]

    url = "/examiner/sessions/CKW-3/groups/short/qualification"
    assert "开始资格测试" in e1.get(url).get_data(as_text=True)
    started = e1.post(url)
    assert started.status_code == 302 and started.location.endswith(url + "/mark")
    screen = e1.get(url + "/mark").get_data(as_text=True)
    assert "资格测试" in screen and "/qualification/held" in screen
    # Once the set is marked, the way on is the result page, not a claim of live work.
    assert f'id="result" href="{url}"' in screen and "查看我的结果" in screen
    items = e1.get(f"{API}/CKW-3/groups/short/qualification/held").json
    assert len(items) == 2 and all(HANDLE.fullmatch(i["response"]) for i in items)
    # The screen's "claim" on this page resumes the attempt and starts nothing.
    assert e1.post(f"{API}/CKW-3/groups/short/qualification/held").json == items
    for item in items:
        assert mark(e1, "CKW-3", item["response"], "6").status_code == 200
    state = e1.get(f"{API}/CKW-3/groups/short/qualification").json
    assert (state["last_passed"], state["within"], state["of"]) == (False, 0, 2)
    assert [r["definitive"] for r in state["review"]] == ["2", "2"]
    assert not row_ids(state)
    page = e1.get(url).get_data(as_text=True)
    assert "要点齐全 0" in page and "标准分" in page and "重新进行资格测试" in page
    # e2 sees no review: they have not failed.
    assert "review" not in world.client("e2").get(f"{API}/CKW-3/groups/short/qualification").json

    again = e1.post(f"{API}/CKW-3/groups/short/qualification").json
    for item in again:
        assert mark(e1, "CKW-3", item["response"], "2").status_code == 200
    assert e1.get(f"{API}/CKW-3/groups/short/qualification").json["qualified"] is True
    assert "您已通过本组资格测试" in e1.get(url).get_data(as_text=True)
    assert claim(e1, "CKW-3", size=5)


def test_a_report_s_overlong_note_is_refused_alike_for_a_check_and_live_work(
    world: World,
) -> None:
    """A note over 2,000 characters was cut without a word; now it is refused, in the
    examiner's language, and the response stays held: alike for a check and live work."""
    world.session("CKW-N", n=40, examiners=("e1", "e2"))
    set_rates(world, "CKW-N", remark="0.5")
    e1 = world.client("e1")
    check, _marked = first_check(world, e1, "CKW-N")
    live = next(
        i for i in claim(e1, "CKW-N", size=5) if not is_check(world, "CKW-N", i["response"])
    )
    answers = []
    for item in (check, live):
        url = f"{API}/CKW-N/responses/{item['response']}/flag"
        refused = e1.post(url, json={"kind": "other", "note": "字" * 2001})
        answers.append((refused.status_code, refused.json["error"], refused.json["detail"]))
        held = {h["response"] for h in e1.get(f"{API}/CKW-N/held").json}
        assert item["response"] in held  # nothing moved
        assert e1.post(url, json={"kind": "other", "note": "字" * 2000}).status_code == 200
    assert answers[0] == answers[1]
    assert answers[0][0] == 422 and "最多 2000 个字" in answers[0][2]


def test_correcting_an_unmarked_check_is_refused_as_an_unmarked_live_response_is(
    world: World,
) -> None:
    """A tester asked "correct" of each item held, unmarked: a check answered "not in this
    session", live work "you gave no mark", so one request named every check. Now alike."""
    world.session("CKW-C", n=40, examiners=("e1", "e2"))
    set_rates(world, "CKW-C", remark="0.5")
    e1 = world.client("e1")
    check, _live = first_check(world, e1, "CKW-C")
    held = [h["response"] for h in e1.get(f"{API}/CKW-C/held").json]
    held += [i["response"] for i in claim(e1, "CKW-C", size=3)]  # live work held beside it
    live = next(h for h in held if not is_check(world, "CKW-C", h))
    answers = [
        e1.post(f"{API}/CKW-C/responses/{h}/correct", json={"value": "1", "reason": "看错了"})
        for h in (check["response"], live)
    ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].json == answers[1].json
    assert answers[0].json["code"] == "correction_no_mark"
