"""The lead's quality-control screens (DESIGN §13): a qualification set and seeds built from
a blind sample, the examiners of each group with their status, a suspension confirmed with
what it will do (the responses go back and others mark them), reinstatement, overrides and
the alarm inbox; the deputy and examiners decide nothing, another session's things are 404."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from marking.demo import synthetic
from marking.people.accounts import get_account
from marking.quality.items import add_item
from marking.queue import handles
from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.setup.assignment import assign, name_deputy
from marking.setup.sessions import get_session
from marking.store.models import (
    Account,
    AlarmKind,
    CheckAlarm,
    CheckItem,
    CheckMark,
    CheckPurpose,
    Exclusion,
    MarkingGroup,
    Response,
    ResponseState,
    Script,
)
from tests.integration.factory import ACTOR, TINY_TOML, certify, response_of
from tests.integration.test_blindness import find_leaks, needles
from tests.integration.test_marking_corrections import mark_as
from tests.web.conftest import World

HANDLE = re.compile(r'data-handle="([0-9A-HJKMNP-TV-Z]{26})"|<code>([0-9A-HJKMNP-TV-Z]{26})</code>')


def page(client, path: str) -> str:  # type: ignore[no-untyped-def]
    answer = client.get(path)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    return str(answer.get_data(as_text=True))


def sampled(text: str) -> list[str]:
    return [a or b for a, b in HANDLE.findall(text)]


def qualifying(world: World, code: str, *, n: int, size: int) -> int:
    """A session whose short-answer group asks for a qualification set of ``size``; the
    group's id."""
    world.session(code, n=n)
    with world.tx() as db:
        short = next(g for g in get_session(db, code).groups if g.key == "short")
        short.qualification_size = size
        return short.id


def test_the_lead_builds_a_set_and_seeds_from_a_blind_sample(world: World) -> None:
    qualifying(world, "LQ-1", n=3, size=1)
    lead = world.client("lead")
    session_page = page(lead, "/lead/sessions/LQ-1")
    assert "/lead/sessions/LQ-1/quality/" in session_page
    overview = page(lead, "/lead/sessions/LQ-1/quality/")
    assert "简答题" in overview and "资格测试中" in overview and "考评员e1" in overview
    assert "short" not in re.sub(r'(href|action|id)="[^"]*"', "", overview)  # names, not keys

    builder = page(lead, "/lead/sessions/LQ-1/quality/groups/short")
    picks = sampled(builder)
    assert len(picks) == 3 and "c1 theory" in builder and "每个要点 2 分" in builder
    bad = lead.post(
        "/lead/sessions/LQ-1/quality/groups/short/items",
        data={"response": picks[0], "purpose": "seed", "value": "4.3"},
    )
    assert bad.status_code == 422 and "4.3" in bad.get_data(as_text=True)
    for handle, purpose, value in ((picks[0], "seed", "4.5"), (picks[1], "qualification", "3")):
        done = lead.post(
            "/lead/sessions/LQ-1/quality/groups/short/items",
            data={"response": handle, "purpose": purpose, "value": value, "note": "要点齐全"},
        )
        assert done.status_code == 302, done.get_data(as_text=True)[:800]
    builder = page(lead, "/lead/sessions/LQ-1/quality/groups/short")
    assert "样卷" in builder and "资格测试" in builder and "仍在评分中" in builder
    # One item for a set of one, in use: a retry would repeat it, and it cannot be retired.
    assert 'id="add-items"' in builder and "测的是记忆" in builder
    kept = lead.post(
        f"/lead/sessions/LQ-1/quality/groups/short/items/{picks[1]}/qualification/retire"
    )
    text = kept.get_data(as_text=True)
    assert kept.status_code == 422 and "正在使用" in text and "请先添加一道" in text
    more = lead.post(
        "/lead/sessions/LQ-1/quality/groups/short/items",
        data={"response": picks[2], "purpose": "qualification", "value": "3"},
    )
    assert more.status_code == 302  # a set may hold more than one attempt takes
    builder = page(lead, "/lead/sessions/LQ-1/quality/groups/short")
    assert 'id="add-items"' not in builder  # two for a set of one: a retry draws a new one
    for handle, purpose in ((picks[0], "seed"), (picks[1], "qualification")):
        retired = lead.post(
            f"/lead/sessions/LQ-1/quality/groups/short/items/{handle}/{purpose}/retire"
        )
        assert retired.status_code == 302
    with world.tx() as db:
        rows = db.scalars(select(CheckItem).order_by(CheckItem.id)).all()
        assert [(r.value, r.retired_at is not None) for r in rows] == [
            (Decimal("4.5"), True),
            (Decimal(3), True),
            (Decimal(3), False),
        ]


def test_others_and_other_sessions_get_nothing(world: World) -> None:
    world.session("LQ-2", n=1)
    world.session("LQ-3", n=1)
    with world.tx() as db:
        other = get_session(db, "LQ-3")
        foreign = handles.response_handle(
            other,
            db.scalars(select(Response.id).where(Response.group_id == other.groups[0].id)).first(),
        )
    e1, lead = world.client("e1"), world.client("lead")
    for path in (
        "/lead/sessions/LQ-2/quality/",
        "/lead/sessions/LQ-2/quality/groups/short",
        "/lead/sessions/LQ-2/quality/alarms",
    ):
        assert e1.get(path).status_code == 403
    assert (
        e1.post(
            "/lead/sessions/LQ-2/quality/groups/short/examiners/e2/suspend",
            data={"marks": "keep", "confirm": "1", "reason": "x"},
        ).status_code
        == 403
    )
    wrong = lead.post(
        "/lead/sessions/LQ-2/quality/groups/short/items",
        data={"response": foreign, "purpose": "seed", "value": "2"},
    )
    assert wrong.status_code == 404
    assert lead.get("/lead/sessions/LQ-2/quality/groups/nope").status_code == 404
    assert (
        lead.get("/lead/sessions/LQ-2/quality/groups/short/examiners/nobody/suspend").status_code
        == 404
    )


def test_the_lead_suspends_and_the_responses_go_back(world: World) -> None:
    tiny = world.session("LQ-4", n=2)
    with world.tx() as db:
        exam = get_session(db, "LQ-4")
        mark_as(db, exam, "e1", {"c1 theory": "5", "c2 theory": "1"})
        e1 = db.scalar(select(Account).where(Account.username == "e1"))
        assert e1 is not None
        short = next(g for g in exam.groups if g.key == "short")
        db.add(
            CheckAlarm(
                session_id=exam.id,
                group_id=short.id,
                examiner_id=e1.id,
                kind=AlarmKind.SEEDS_OFF,
                evidence={
                    "rule": "3 of the last 10 beyond tolerance",
                    "beyond": 3,
                    "seeds": [{"check": 1, "expected": "4", "given": "1", "deviation": "-3"}],
                },
            )
        )
    assert tiny
    lead = world.client("lead")
    assert "警报收件箱 (1)" in page(lead, "/lead/sessions/LQ-4")
    inbox = page(lead, "/lead/sessions/LQ-4/quality/alarms")
    assert "样卷偏差过多" in inbox and "考评员e1" in inbox and "超出允差的样卷" in inbox
    confirm = page(lead, "/lead/sessions/LQ-4/quality/groups/short/examiners/e1/suspend")
    assert "撤回 2 个评分" in confirm
    unsaid = lead.post(
        "/lead/sessions/LQ-4/quality/groups/short/examiners/e1/suspend",
        data={"reason": "样卷偏差", "confirm": "1"},
    )
    assert unsaid.status_code == 422 and "请说明" in unsaid.get_data(as_text=True)
    done = lead.post(
        "/lead/sessions/LQ-4/quality/groups/short/examiners/e1/suspend",
        data={"reason": "样卷偏差", "confirm": "1", "marks": "withdraw"},
    )
    assert done.status_code == 302
    overview = page(lead, "/lead/sessions/LQ-4/quality/")
    assert "已暂停" in overview and "样卷偏差" in overview
    assert "没有未关闭的警报" in page(lead, "/lead/sessions/LQ-4/quality/alarms")
    with world.tx() as db:
        exam = get_session(db, "LQ-4")
        opened = [response_of(db, exam, t) for t in ("c1 theory", "c2 theory")]
        assert {(r.state, r.marks_done) for r in opened} == {(ResponseState.OPEN, 0)}
        for name in ("e2", "e3"):
            who = db.scalar(select(Account).where(Account.username == name))
            assert who is not None
            for item in claim(db, exam, who, size=10):
                submit_mark(db, exam, who, response_id=item.response_id, value=Decimal(2))
        finals = [response_of(db, exam, t).state for t in ("c1 theory", "c2 theory")]
        assert finals == [ResponseState.FINAL] * 2
    back = lead.post(
        "/lead/sessions/LQ-4/quality/groups/short/examiners/e1/reinstate", data={"reason": ""}
    )
    assert back.status_code == 422
    back = lead.post(
        "/lead/sessions/LQ-4/quality/groups/short/examiners/e1/reinstate",
        data={"reason": "复核无误"},
    )
    assert back.status_code == 302
    assert "已暂停" not in page(lead, "/lead/sessions/LQ-4/quality/")


def test_suspending_a_groups_only_examiners_says_the_office_must_assign(world: World) -> None:
    world.session("LQ-5", n=1, examiners=("e1", "e2"))
    lead = world.client("lead")
    confirm = page(lead, "/lead/sessions/LQ-5/quality/groups/short/examiners/e1/suspend")
    assert "考务须为该组增派考评员" in confirm
    done = lead.post(
        "/lead/sessions/LQ-5/quality/groups/short/examiners/e1/suspend",
        data={"reason": "x", "confirm": "1", "marks": "keep"},
    )
    assert done.status_code == 302
    assert "请考务为该组增派考评员" in page(lead, "/lead/sessions/LQ-5/quality/")


def test_qualification_override_and_closing_an_alarm(world: World) -> None:
    short = qualifying(world, "LQ-6", n=1, size=2)
    with world.tx() as db:
        e2 = db.scalar(select(Account).where(Account.username == "e2"))
        assert e2 is not None
        db.add(
            CheckAlarm(
                session_id=get_session(db, "LQ-6").id,
                group_id=short,
                examiner_id=e2.id,
                kind=AlarmKind.SEED_BIAS,
                evidence={"mean": "0.8", "seeds": []},
            )
        )
    lead = world.client("lead")
    done = lead.post(
        "/lead/sessions/LQ-6/quality/groups/short/examiners/e1/qualify", data={"reason": "资深"}
    )
    assert done.status_code == 302
    overview = page(lead, "/lead/sessions/LQ-6/quality/")
    assert "在评" in overview and "资格测试中" in overview and "样卷系统性偏差" in overview
    empty = lead.post("/lead/sessions/LQ-6/quality/alarms/short/e2/seed_bias/close", data={})
    assert empty.status_code == 422
    closed = lead.post(
        "/lead/sessions/LQ-6/quality/alarms/short/e2/seed_bias/close", data={"note": "已谈话"}
    )
    assert closed.status_code == 302
    again = lead.post(
        "/lead/sessions/LQ-6/quality/alarms/short/e2/seed_bias/close", data={"note": "x"}
    )
    assert again.status_code == 404


def test_the_quality_pages_name_no_candidate(world: World) -> None:
    tiny = world.session("LQ-7", n=20, seed=78)
    wanted = needles(
        tiny.candidates,
        TINY_TOML + "考评员e1考评员e2考评员e3" + "".join(synthetic.SUBJECTIVE_SNIPPETS),
    )
    lead = world.client("lead")
    seen = [page(lead, "/lead/sessions/LQ-7/quality/")]
    for key in ("short", "prac"):
        builder = page(lead, f"/lead/sessions/LQ-7/quality/groups/{key}")
        seen.append(builder)
        handle = sampled(builder)[0]
        lead.post(
            f"/lead/sessions/LQ-7/quality/groups/{key}/items",
            data={"response": handle, "purpose": "seed", "value": "1"},
        )
        seen.append(page(lead, f"/lead/sessions/LQ-7/quality/groups/{key}?complete=1"))
        seen.append(page(lead, f"/lead/sessions/LQ-7/quality/groups/{key}"))
    seen.append(page(lead, "/lead/sessions/LQ-7/quality/groups/short/examiners/e1/suspend"))
    seen.append(page(lead, "/lead/sessions/LQ-7/quality/alarms?closed=1"))
    haystack = "\n".join(seen).encode()
    assert not find_leaks(haystack, wanted)
    assert re.search(rb"c\d+ (theory|skills)", haystack)  # their work, not who wrote it
    with world.tx() as db:
        exam = get_session(db, "LQ-7")
        codes = db.scalars(select(Script.code).where(Script.session_id == exam.id)).all()
    assert not [c for c in codes if c.encode() in haystack]  # nor which script it is


def test_the_deputy_sees_the_pages_and_decides_nothing(world: World) -> None:
    world.session("LQ-8", n=1, examiners=("e1", "e2", "e5"))
    with world.tx() as db:
        certify(db, "e5")
        name_deputy(db, get_session(db, "LQ-8"), "e5", actor="office")
    deputy = world.client("e5")
    overview = page(deputy, "/lead/sessions/LQ-8/quality/")
    assert "简答题" in overview and "/suspend" not in overview  # no decision offered
    assert page(deputy, "/lead/sessions/LQ-8/quality/alarms")
    refused = deputy.post(
        "/lead/sessions/LQ-8/quality/groups/short/examiners/e1/suspend",
        data={"reason": "x", "confirm": "1", "marks": "keep"},
    )
    assert refused.status_code == 403
    assert (
        deputy.get("/lead/sessions/LQ-8/quality/groups/short/examiners/e1/suspend").status_code
        == 403
    )


def test_a_refused_choice_stays_beside_its_form(world: World) -> None:
    world.session("LQ-9", n=12)
    lead = world.client("lead")
    handles_seen = sampled(page(lead, "/lead/sessions/LQ-9/quality/groups/short"))
    refused = lead.post(
        "/lead/sessions/LQ-9/quality/groups/short/items",
        data={"response": handles_seen[0], "purpose": "seed", "value": "99", "note": "留着"},
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    card = body[body.index(f'id="pick-{handles_seen[0]}"') :]
    card = card[: card.index("</section>")]
    assert 'role="alert"' in card and 'value="99"' in card and "留着" in card


def test_the_office_is_told_a_register_reinstatement_leaves_the_leads_suspension(
    world: World,
) -> None:
    world.session("LQ-10", n=1, examiners=("e1", "e2", "e6"))
    lead, office = world.client("lead"), world.client("office")
    done = lead.post(
        "/lead/sessions/LQ-10/quality/groups/short/examiners/e6/suspend",
        data={"reason": "偏差", "confirm": "1", "marks": "keep"},
    )
    assert done.status_code == 302
    for kind in ("suspension", "reinstatement"):
        answer = office.post(
            "/office/examiners/e6/record", data={"kind": kind, "reason": "调查", "confirm": "yes"}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    shown = page(office, "/office/examiners")
    assert "e6 在场次 LQ-10 的评分组 简答题 仍处于暂停状态" in shown
    overview = page(lead, "/lead/sessions/LQ-10/quality/")
    row = overview[overview.index('id="group-short"') :]
    row = row[row.index('data-examiner="e6"') :]
    assert "已暂停" in row[: row.index("</tr>")]


def test_the_inbox_words_the_drift_rules_evidence_in_chinese(world: World) -> None:
    """The evidence is stored as the drift rule writes it (English rule text, its own figure
    names); the inbox words the rule and names every figure in the reader's language."""
    from marking.domain.rules import drift

    world.session("LQ-11", n=1)
    seeds = [
        drift.SeedMark(n, Decimal("6.5"), Decimal("1.5"), Decimal("2"), Decimal("0.5"))
        for n in range(6)
    ]
    with world.tx() as db:
        exam = get_session(db, "LQ-11")
        short = next(g for g in exam.groups if g.key == "short")
        e1 = db.scalar(select(Account).where(Account.username == "e1"))
        assert e1 is not None
        for alarm in drift.alarms(seeds):
            db.add(
                CheckAlarm(
                    session_id=exam.id,
                    group_id=short.id,
                    examiner_id=e1.id,
                    kind=AlarmKind(alarm.kind),
                    evidence=alarm.evidence,
                )
            )
    inbox = page(world.client("lead"), "/lead/sessions/LQ-11/quality/alarms")
    shown = re.sub(r"<[^>]+>", " ", inbox)
    assert "最近 10 份样卷中至少 3 份超出该题允许误差" in shown
    assert "平均有向偏差" in shown and "超出允差" in shown
    for english in ("seeds beyond", "mean signed", "mean_in_tolerances", "-5.0"):
        assert english not in shown


def test_rates_and_the_pass_mark_read_as_percentages(world: World) -> None:
    """session.toml's fractions (0.05, 0.67) are shown as 5 %, 67 %, to the lead and to the
    examiner about to take the set, who is told what it takes to qualify."""
    world.session("LQ-12", n=1)
    with world.tx() as db:
        exam = get_session(db, "LQ-12")
        short = next(g for g in exam.groups if g.key == "short")
        short.qualification_size = 3
        short.qualification_within = Decimal("0.67")
    overview = re.sub(r"<[^>]+>", "", page(world.client("lead"), "/lead/sessions/LQ-12/quality/"))
    assert "允差内比例达 67% 即通过" in overview and "样卷比例 5%" in overview
    assert "回评比例 1%" in overview and "0.05" not in overview
    taking = page(world.client("e1"), "/examiner/sessions/LQ-12/groups/short/qualification")
    assert "共 3 份作答" in taking and "至少达到 67%" in taking


def test_after_marking_the_pages_are_a_record_without_forms(world: World) -> None:
    """Once the session is reconciled every decision is refused; the pages say so up front
    instead of offering forms that answer '状态为 reconciled'."""
    from marking.store.models import SessionState

    world.session("LQ-13", n=1)
    with world.tx() as db:
        get_session(db, "LQ-13").state = SessionState.RECONCILED
    lead = world.client("lead")
    for path in ("/", "/alarms", "/groups/short"):
        shown = page(lead, "/lead/sessions/LQ-13/quality" + path)
        assert "场次 LQ-13 已核定" in shown and "本页现仅作记录" in shown, path
        for action in ("/suspend", "/qualify", "/items", "/close", "/retire"):
            assert action not in shown, (path, action)


def test_the_lead_is_asked_for_items_when_recusal_leaves_a_set_short(world: World) -> None:
    qualifying(world, "LQ-REC", n=3, size=1)
    lead = world.client("lead")
    (pick, *_rest) = sampled(page(lead, "/lead/sessions/LQ-REC/quality/groups/short"))
    done = lead.post(
        "/lead/sessions/LQ-REC/quality/groups/short/items",
        data={"response": pick, "purpose": "qualification", "value": "3"},
    )
    assert done.status_code == 302
    assert 'id="set-short"' not in page(lead, "/lead/sessions/LQ-REC/quality/groups/short")
    with world.tx() as db:
        exam = get_session(db, "LQ-REC")
        response = db.get(Response, handles.response_id(exam, pick))
        e1 = db.scalar(select(Account).where(Account.username == "e1"))
        assert response is not None and e1 is not None
        db.add(Exclusion(script_id=response.script_id, examiner_id=e1.id))
    builder = page(lead, "/lead/sessions/LQ-REC/quality/groups/short")
    # One examiner cannot be given a whole attempt; who it is stays unsaid (recusal is blind).
    assert 'id="set-short"' in builder and "有 1 名" in builder and "须回避" in builder
    assert "考评员e1" not in builder.split('id="set-short"')[1].split("</p>")[0]


def test_approving_a_set_no_bigger_than_an_attempt_is_warned_against(world: World) -> None:
    """Before the lead approves a group whose qualification set a retry would have to repeat,
    the scheme page says what it costs (responses nobody is left to mark) and how many items
    to add; a set twice an attempt's size needs no warning."""
    world.session("LQ-SET", n=6, open_groups=False)
    with world.tx() as db:
        exam = get_session(db, "LQ-SET")
        short = next(g for g in exam.groups if g.key == "short")
        assign(db, exam, short, ["e1", "e2", "e3"], actor=ACTOR, lead="lead")
        short.qualification_size = 2
        rids = db.scalars(
            select(Response.id).where(Response.group_id == short.id).order_by(Response.id).limit(4)
        ).all()
        lead = get_account(db, "lead")
        for rid in rids[:2]:
            add_item(db, exam, lead, response_id=rid, purpose=CheckPurpose.QUALIFICATION, value=2)
    lead_client = world.client("lead")
    card = page(lead_client, "/lead/sessions/LQ-SET").split('id="scheme-short"', 1)[1]
    card = card.split("</section>", 1)[0]
    assert "简答题的资格测试题集只有 2 道题，每次测试需 2 道" in card
    assert "需要两个评分的答卷可能无人可评" in card and "补足到 4 道" in card
    assert "/lead/sessions/LQ-SET/quality/groups/short" in card
    with world.tx() as db:
        exam = get_session(db, "LQ-SET")
        lead = get_account(db, "lead")
        for rid in rids[2:]:
            add_item(db, exam, lead, response_id=rid, purpose=CheckPurpose.QUALIFICATION, value=2)
    card = page(lead_client, "/lead/sessions/LQ-SET").split('id="scheme-short"', 1)[1]
    assert "资格测试题集只有" not in card.split("</section>", 1)[0]


def test_a_report_on_a_seed_shows_on_the_item_in_the_lead_s_words(world: World) -> None:
    from tests.integration.test_checks import finals_of, finish_some, make_seeds, rates
    from tests.web.test_checks_web import is_check
    from tests.web.test_examiner_and_lead import API
    from tests.web.test_examiner_and_lead import claim as claim_over_http

    world.session("LQ-R", n=20)
    with world.tx() as db:
        exam = get_session(db, "LQ-R")
        rates(db, exam)
        finish_some(db, exam, ("e1", "e2"), "short", 1)
        source = finals_of(db, exam, "short")[0]
        make_seeds(db, exam, "short", [source])
        next(g for g in exam.groups if g.key == "short").seed_rate = Decimal(1)
        seed = handles.response_handle(exam, source)
    e3 = world.client("e3")
    shown = next(
        i for i in claim_over_http(e3, "LQ-R", size=3) if is_check(world, "LQ-R", i["response"])
    )
    check = shown["response"]
    flagged = e3.post(
        f"{API}/LQ-R/responses/{check}/flag", json={"kind": "illegible", "note": "图像看不清"}
    )
    assert flagged.status_code == 200

    lead = world.client("lead")
    overview = page(lead, "/lead/sessions/LQ-R/quality/")
    assert "有 1 条样卷与回评的异常报告待您" in overview
    # Counted where every open report is: the inbox points to it, the progress and the
    # lead's list of sessions count it with the live ones.
    assert "另有 1 条针对样卷或回评的异常报告" in page(lead, "/lead/sessions/LQ-R/anomalies")
    progress = lead.get("/api/v1/sessions/LQ-R/progress").json
    assert progress["open_anomalies"] == 1
    assert {g["key"]: g["anomaly"] for g in progress["groups"]}["short"] == 1
    home = page(lead, "/lead/")
    row = home[home.index('data-session="LQ-R"') :]
    assert '/lead/sessions/LQ-R/anomalies">1</a>' in row[: row.index("</tr>")]
    builder = page(lead, "/lead/sessions/LQ-R/quality/groups/short")
    assert "样卷与回评的异常报告" in builder
    # Named by the script code the examiner saw, as their report would name it.
    assert f"试卷 <code>{shown['script_code']}</code>" in builder
    heading = builder[: builder.index(f"<code>{shown['script_code']}</code>")]
    assert "理论知识 第" in heading[heading.rindex("<h3>") :]  # its component by name
    item = builder[builder.index(f'id="item-seed-{seed}"') :]
    item = item[: item.index("</section>")]
    assert "考评员e3 报告为“字迹无法辨认”：图像看不清" in item
    closed = lead.post(f"/lead/sessions/LQ-R/quality/groups/short/reports/{seed}/seed/close")
    assert closed.status_code == 302
    after = page(lead, "/lead/sessions/LQ-R/quality/groups/short")
    assert "报告已关闭：继续使用。" in after and "图像看不清" not in after
    assert f'id="item-seed-{seed}"' in after  # kept in use
    again = lead.post(f"/lead/sessions/LQ-R/quality/groups/short/reports/{seed}/seed/close")
    assert again.status_code == 404


def test_a_report_on_a_remark_shows_the_answer_and_closes_only_by_its_own_kind(
    world: World,
) -> None:
    """A 回评's response has no item card, so its report shows the answer itself; a close
    naming the other kind closes nothing and says so (404), and the report stays."""
    from marking.queue.handles import Kind
    from tests.web.test_checks_web import first_check, set_rates
    from tests.web.test_examiner_and_lead import API

    world.session("LQ-RR", n=40, examiners=("e1", "e2"))
    set_rates(world, "LQ-RR", remark="0.5")
    e1 = world.client("e1")
    check, _live = first_check(world, e1, "LQ-RR")
    flagged = e1.post(f"{API}/LQ-RR/responses/{check['response']}/flag", json={"kind": "other"})
    assert flagged.status_code == 200
    with world.tx() as db:
        exam = get_session(db, "LQ-RR")
        rid = handles.decode(exam.handle_key, Kind.CHECK, exam.id, check["response"])
        assert rid is not None
        checked = db.get(CheckMark, rid)
        assert checked is not None and checked.purpose is CheckPurpose.REMARK
        source = db.get(Response, checked.response_id)
        assert source is not None and source.group_id is not None
        group_key = db.get(MarkingGroup, source.group_id).key  # type: ignore[union-attr]
        handle, text = handles.response_handle(exam, source.id), source.text
    assert text
    lead = world.client("lead")
    builder = page(lead, f"/lead/sessions/LQ-RR/quality/groups/{group_key}")
    card = builder[builder.index('class="card check-report"') :]
    card = card[: card.index("</section>")]
    assert text in card and "关闭报告" in card and "继续使用" not in card
    assert "）：" not in card  # no note: no colon left hanging
    base = f"/lead/sessions/LQ-RR/quality/groups/{group_key}/reports/{handle}"
    assert lead.post(f"{base}/seed/close").status_code == 404
    assert 'class="card check-report"' in page(
        lead, f"/lead/sessions/LQ-RR/quality/groups/{group_key}"
    )
    assert lead.post(f"{base}/remark/close").status_code == 302
    assert 'class="card check-report"' not in page(
        lead, f"/lead/sessions/LQ-RR/quality/groups/{group_key}"
    )
