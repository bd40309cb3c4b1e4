"""Issue 14's screens over HTTP: the examiner's (the question as printed, hand back, logout,
closed sessions, a check's last mark), the lead's (arbitration one at a time, counts on the
session list, a scheme approval withdrawn) and the director's (what waits, the tick)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from marking.people.accounts import get_account
from marking.setup.sessions import get_session
from marking.store.models import (
    CheckCorrection,
    CheckMark,
    Lease,
    LeaseState,
    LedgerEntry,
    Response,
    Script,
    SessionState,
)
from tests.integration.factory import mark_all
from tests.web.conftest import CONFIRMED, World
from tests.web.test_checks_web import first_check, set_rates
from tests.web.test_examiner_and_lead import API, claim, mark


def text(answer: object) -> str:
    return answer.get_data(as_text=True)  # type: ignore[attr-defined]


def held_leases(world: World, code: str, username: str) -> int:
    """How many responses of the session the examiner holds (leases in force)."""
    with world.tx() as db:
        exam = get_session(db, code)
        return len(
            db.scalars(
                select(Lease.id)
                .join(Response, Response.id == Lease.response_id)
                .join(Script, Script.id == Response.script_id)
                .where(
                    Script.session_id == exam.id,
                    Lease.examiner_id == get_account(db, username).id,
                    Lease.state == LeaseState.HELD,
                )
            ).all()
        )


# --- the examiner ---------------------------------------------------------------------------


def test_the_response_comes_under_its_component_question_and_the_question_as_printed(
    world: World,
) -> None:
    world.session("RS-Q")
    e1 = world.client("e1")
    items = claim(e1, "RS-Q", size=10)
    short = next(i for i in items if i["component"] == "theory")
    assert short["component_name"] == "理论知识" and short["question"] == "2"
    assert short["question_text"] == "停电检修时应采取哪些安全技术措施？"
    practical = next(i for i in items if i["component"] == "skills")
    assert practical["question_text"] == ""  # not given in the definition: nothing shown
    page = text(e1.get("/examiner/sessions/RS-Q/mark"))
    assert 'id="question-text"' in page and "交回这份作答" in page and "全部交回并停止" in page


def test_hand_back_one_then_logging_out_hands_back_the_rest(world: World) -> None:
    world.session("RS-H")
    e1 = world.client("e1")
    items = claim(e1, "RS-H", size=3)
    assert len(items) == 3 and held_leases(world, "RS-H", "e1") == 3
    back = e1.post(f"{API}/RS-H/responses/{items[0]['response']}/release")
    assert back.status_code == 200 and held_leases(world, "RS-H", "e1") == 2
    home = text(e1.get("/examiner/"))
    assert "开始阅卷即知" in home and "开始阅卷" in home

    out = e1.post("/logout", follow_redirects=True)
    assert "您手中未评的答题已交回，由其他考评员接着评。" in text(out)
    assert held_leases(world, "RS-H", "e1") == 0
    ids = [world.response_id("RS-H", i["response"]) for i in items]
    with world.tx() as db:
        assert [db.get(Response, r).held for r in ids] == [0, 0, 0]  # type: ignore[union-attr]
    # Logged in again, the examiner takes them afresh: the same responses are there to take.
    again = world.client("e1")
    assert {i["response"] for i in claim(again, "RS-H", size=10)} >= {i["response"] for i in items}


def test_a_published_or_finished_session_is_not_shown_as_open(world: World) -> None:
    world.session("RS-P")
    with world.tx() as db:
        get_session(db, "RS-P").state = SessionState.RECONCILED
    page = text(world.client("e1").get("/examiner/"))
    section = page[page.index('data-session="RS-P"') :]
    section = section[: section.index("</section>")]
    assert "阅卷已结束" in section and "可阅卷" not in section
    assert "/examiner/sessions/RS-P/mark" not in section  # no "start marking"


def test_correct_my_last_mark_after_a_check_answers_as_after_live_work(world: World) -> None:
    world.session("RS-C", n=40, examiners=("e1", "e2"))
    set_rates(world, "RS-C", remark="0.5")
    e1 = world.client("e1")
    check, _live = first_check(world, e1, "RS-C")
    before = e1.get(f"{API}/RS-C/my-last-mark").json  # a live mark of theirs (marked "1")
    assert before["response"] != check["response"] and before["value"] == "1"
    assert mark(e1, "RS-C", check["response"], "2").status_code == 200

    last = e1.get(f"{API}/RS-C/my-last-mark").json
    assert last["response"] == check["response"]  # the check just marked, not an older one
    assert last["value"] == "2"
    assert last.keys() == before.keys()  # the same shape as a live mark's
    corrected = e1.post(
        f"{API}/RS-C/responses/{check['response']}/correct", json={"value": "3", "reason": "笔误"}
    )
    assert corrected.status_code == 200
    assert corrected.json == {"response": check["response"], "corrected": True, "value": "3"}
    assert e1.get(f"{API}/RS-C/my-last-mark").json["value"] == "3"
    unchanged = e1.post(
        f"{API}/RS-C/responses/{check['response']}/correct", json={"value": "3", "reason": "再改"}
    )
    assert unchanged.status_code == 422 and "已是 3" in unchanged.json["detail"]
    with world.tx() as db:
        stored = db.scalars(select(CheckCorrection)).one()
        first = db.get(CheckMark, stored.check_mark_id)
        assert first is not None and first.value == Decimal(2)  # never overwritten
        assert (stored.old_value, stored.value, stored.reason) == (Decimal(2), Decimal(3), "笔误")
        kinds = db.scalars(select(LedgerEntry.kind)).all()
        assert "check_corrected" in kinds

    # Marked on: the check stays correctable while the response it displaced is not final,
    # as the mark just given does (it closed at once, and a tester told the checks by it;
    # its closing: tests/integration/test_check_last_mark.py).
    nxt = next(i for i in claim(e1, "RS-C", size=5))
    assert mark(e1, "RS-C", nxt["response"], "1").status_code == 200
    for handle in (check["response"], nxt["response"]):
        late = e1.post(
            f"{API}/RS-C/responses/{handle}/correct", json={"value": "999", "reason": "再改"}
        )
        assert late.status_code == 422 and late.json["error"] == "invalid_mark", late.json


# --- the lead -------------------------------------------------------------------------------


def arbitrations_for(world: World, code: str) -> None:
    """Every response to a third mark and on to arbitration: 0, the max and the middle."""
    clients = {u: world.client(u) for u in ("e1", "e2", "e3")}
    values = {"e1": lambda i: "0", "e2": lambda i: i["max"], "e3": lambda i: "3"}
    for _round in range(3):
        for name, client in clients.items():
            for item in claim(client, code, size=20):
                assert mark(client, code, item["response"], values[name](item)).status_code == 200


def test_arbitration_one_at_a_time_with_scheme_names_and_what_is_left(world: World) -> None:
    world.session("RS-A")
    arbitrations_for(world, "RS-A")
    lead = world.client("lead")
    waiting = len(lead.get(f"{API}/RS-A/arbitrations").json)
    assert waiting >= 2

    home = text(lead.get("/lead/"))
    row = home[home.index('data-session="RS-A"') :]
    row = row[: row.index("</tr>")]
    assert (
        f'<td class="arbitrations"><a href="/lead/sessions/RS-A/arbitration">{waiting}</a>' in row
    )
    assert '<td class="anomalies">0</td>' in row

    page = text(lead.get("/lead/sessions/RS-A/arbitration"))
    assert page.count('class="split task"') == 1  # one response at a time
    assert f"等待您裁定：{waiting} 份" in page
    assert "参考答案" in page and "评分细则" in page
    assert '<th scope="row" class="marker">考评员e1</th>' in page  # names, not usernames
    assert '<th scope="row" class="marker">考评员e2</th>' in page
    handle = page.split('id="task-', 1)[1].split('"', 1)[0]

    refused = lead.post(
        f"/lead/sessions/RS-A/responses/{handle}/arbitrate", data={"value": "99", "reason": "x"}
    )
    assert refused.status_code == 422
    again = text(refused)
    assert 'value="99"' in again and 'value="x"' in again  # the input kept
    assert 'class="flash error refused"' in again and f'id="task-{handle}"' in again

    done = lead.post(
        f"/lead/sessions/RS-A/responses/{handle}/arbitrate", data={"value": "2", "reason": "细则"}
    )
    assert done.status_code == 302
    after = text(lead.get("/lead/sessions/RS-A/arbitration"))
    assert f"等待您裁定：{waiting - 1} 份" in after and f'id="task-{handle}"' not in after


def test_a_scheme_approval_is_withdrawn_while_nothing_is_marked_and_not_after(
    world: World,
) -> None:
    world.session("RS-W")
    lead = world.client("lead")
    e1 = world.client("e1")
    held = claim(e1, "RS-W", size=10)
    assert any(i["group"] == "short" for i in held)

    unticked = lead.post("/lead/sessions/RS-W/groups/short/withdraw", data={"reason": "改细则"})
    assert unticked.status_code == 422
    assert "请勾选确认" in text(unticked) and 'value="改细则"' in text(unticked)

    # No reason, or one too long: refused, in Chinese, beside the reason field.
    for reason, words in (
        ("  ", "请填写撤回批准的原因"),
        ("理" * 501, "原因共 501 个字符，最多 500 个"),
    ):
        refused = lead.post(
            "/lead/sessions/RS-W/groups/short/withdraw", data={"reason": reason, **CONFIRMED}
        )
        assert refused.status_code == 422
        card = text(refused).split('id="scheme-short"', 1)[1].split("</section>", 1)[0]
        field = card.split('name="reason"', 1)[1]
        assert words in field.split("</form>", 1)[0]
        assert 'aria-describedby="withdraw-reason-short"' in field.split(">", 1)[0]

    done = lead.post(
        "/lead/sessions/RS-W/groups/short/withdraw", data={"reason": "改细则", **CONFIRMED}
    )
    assert done.status_code == 302
    with world.tx() as db:
        exam = get_session(db, "RS-W")
        short = next(g for g in exam.groups if g.key == "short")
        assert short.approved_at is None and exam.state is SessionState.MARKING  # prac still open
        entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "scheme_withdrawn")).one()
        assert entry.actor == "lead" and entry.payload["reason"] == "改细则"
    # What e1 held of the group went back; the rest of their batch stays theirs.
    assert all(i["group"] != "short" for i in e1.get(f"{API}/RS-W/held").json)
    page = text(lead.get("/lead/sessions/RS-W"))
    assert "批准该细则并开放本组阅卷" in page  # approve again, when it is right

    # A group with a mark: refused, translated, beside the group, nothing changed.
    prac = next(i for i in e1.get(f"{API}/RS-W/held").json if i["group"] == "prac")
    assert mark(e1, "RS-W", prac["response"], "1").status_code == 200
    refused = lead.post(
        "/lead/sessions/RS-W/groups/prac/withdraw", data={"reason": "晚了", **CONFIRMED}
    )
    assert refused.status_code == 422
    assert "题组 实操题 已有 1 个评分" in text(refused)
    with world.tx() as db:
        prac_group = next(g for g in get_session(db, "RS-W").groups if g.key == "prac")
        assert prac_group.approved_at is not None
    # Read afresh, the page no longer offers that group a withdrawal it would refuse.
    page = text(lead.get("/lead/sessions/RS-W"))
    prac_card = page.split('id="scheme-prac"', 1)[1].split("</section>", 1)[0]
    assert "/groups/prac/withdraw" not in prac_card
    assert "本题组已开始评分：其评分细则的批准不能再撤回" in prac_card


# --- the director ---------------------------------------------------------------------------


def test_the_director_sees_what_waits_and_approves_only_with_the_tick(world: World) -> None:
    world.session("RS-D")
    with world.tx() as db:
        mark_all(db, get_session(db, "RS-D"), ["e1", "e2", "e3"])
    director = world.client("director")
    home = text(director.get("/director/"))
    waiting = home[home.index('id="waiting"') : home.index("</section>")]
    assert 'data-session="RS-D"' in waiting

    page = text(director.get("/director/sessions/RS-D"))
    assert page.index("您所批准的内容") < page.index("批准发布</button>")  # summary first
    assert "我批准按所示内容发布场次 RS-D：4 名考生" in page

    unticked = director.post("/director/sessions/RS-D/approval", data={"note": "已审阅"})
    assert unticked.status_code == 422
    assert "请勾选确认" in text(unticked) and 'value="已审阅"' in text(unticked)
    assert (
        director.post(
            "/director/sessions/RS-D/approval", data={"note": "已审阅", **CONFIRMED}
        ).status_code
        == 302
    )
    home = text(director.get("/director/"))
    waiting = home[home.index('id="waiting"') : home.index("</section>")]
    assert 'data-session="RS-D"' not in waiting


def test_an_examiner_chooses_the_group_to_mark_and_gets_only_its_work(world: World) -> None:
    world.session("RS-G")
    e1 = world.client("e1")
    home = text(e1.get("/examiner/"))
    assert "评这一组" in home and "/examiner/sessions/RS-G/mark?group=prac" in home
    page = text(e1.get("/examiner/sessions/RS-G/mark?group=prac"))
    assert 'data-group="prac"' in page and "您现在只评" in page
    # The claim the page makes: only that group's responses, though "short" comes first.
    answer = e1.post(f"{API}/RS-G/claim", json={"size": 10, "group": "prac"})
    assert answer.status_code == 200, answer.json
    assert answer.json and {item["group"] for item in answer.json} == {"prac"}
    # Without a choice, the examiner's groups in their order: "short" first.
    assert {item["group"] for item in claim(e1, "RS-G", size=1)} == {"short"}
    # A group the session does not have: refused by name, nothing held more.
    held = held_leases(world, "RS-G", "e1")
    answer = e1.post(f"{API}/RS-G/claim", json={"size": 10, "group": "nope"})
    assert answer.status_code == 404
    assert held_leases(world, "RS-G", "e1") == held
    assert e1.get("/examiner/sessions/RS-G/mark?group=nope").status_code == 404


def test_the_examiners_menu_and_start_button_offer_only_what_is_open_to_them(
    world: World,
) -> None:
    """An examiner who leads nothing is not offered the lead's pages; one suspended on every
    group of a session is not offered to start marking it; the lead is offered both."""
    from marking.quality.suspension import suspend

    world.session("RS-S", examiners=("e1", "e2"))
    home = text(world.client("e1").get("/examiner/"))
    assert "我负责的场次" not in home
    assert "RS-S · 电工 · 三级 ·" in home  # the level as certificates name it, not 等级 3
    section = home[home.index('data-session="RS-S"') :]
    assert "开始阅卷" in section[: section.index("</section>")]
    with world.tx() as db:
        exam = get_session(db, "RS-S")
        lead, e1 = get_account(db, "lead"), get_account(db, "e1")
        for group in exam.groups:
            suspend(db, exam, lead, examiner=e1, group=group, reason="偏严", keep_marks=True)
    home = text(world.client("e1").get("/examiner/"))
    section = home[home.index('data-session="RS-S"') :]
    section = section[: section.index("</section>")]
    assert "已暂停" in section and "开始阅卷" not in section
    assert "/examiner/sessions/RS-S/mark" not in section
    assert "我负责的场次" in text(world.client("lead").get("/lead/"))
    # The lead's session page, where examiners are added, says the groups are short now.
    lead_page = text(world.client("lead").get("/lead/sessions/RS-S"))
    assert "评分组 简答题 只有 1 位未被暂停的考评员" in lead_page


def test_switching_language_stays_on_the_page_and_logging_out_keeps_it(world: World) -> None:
    """The site sends no Referer, so the switch went to the home page; and logging out
    cleared the language chosen. A switch names the page, never another site."""
    e1 = world.client("e1")
    home = text(e1.get("/examiner/"))
    assert "/lang/en?next=/examiner/" in home
    back = e1.get("/lang/en?next=/examiner/")
    assert back.status_code == 302 and back.location.endswith("/examiner/")
    assert not e1.get("/lang/en?next=//evil.example/").location.startswith("//evil")
    out = text(e1.post("/logout", follow_redirects=True))
    assert "You are logged out." in out and 'lang="en"' in out
