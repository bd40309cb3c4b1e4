"""Issue 13's proof: quality control while marking, a whole day of one group in the browser,
in Chinese, each step by the person whose job it is.

Seeded (tests/integration/factory.py): the staff, four examiners and a session taken in and
assigned (简答题 to e1, e2, e3, e4, the lead named), its scheme not yet approved. The group asks
for a qualification set of 3 (2 of 3 within tolerance to pass), a seed in every 2 live
responses, a 回评 in every 10, and holds at most 4 responses per examiner at a time (so the
day's batches are small). Then, in the browser:

- the lead cannot approve the scheme without the qualification set; builds it from the blind
  sample (definitive marks and notes) and approves;
- e1 gets nothing live before qualifying, takes the set, fails (marks far off), sees the
  definitive marks with the notes, the reference answer and the scheme, retries, qualifies;
  e3 and e4 pass at the first attempt; the lead qualifies e2 by a recorded decision;
- e1 marks every response but the three of the set, whose definitive marks they saw (they
  never come to e1 live) with the keyboard (a 回评 of their own earlier work comes back to
  them among the later ones, blind to their first mark); e2 marks two batches;
- the lead makes seeds of responses whose marks are all in;
- e3 drifts: every mark 3 points above the true one (they cannot know which are seeds); the
  drift alarm (样卷偏差过多) is on the lead's screens with its evidence; the lead suspends e3
  after a confirmation page that says what will happen, withdrawing their marks;
- the lead's monitoring page shows e3's row with the alarm, their seeds (all 4, none within
  tolerance) and severity (+3) before the suspension, and 已暂停 with no mark in force after;
- e3 gets nothing more; e2 marks the responses that came back (and a 回评 of their own), and
  e4 those e2 has marked already;
  every response ends final at its true mark: no seed, 回评 or withdrawn mark counts; the
  monitoring page shows e1's 回评 consistent.

Throughout, the examiners' screens never tell a seed or a 回评 from live work: the same
elements, the same fields in what the browser receives (same handle format, same lease
expiry as the batch), and no word such as 样卷, 回评 or seed anywhere on their pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, select

from marking.people.accounts import get_account
from marking.read import monitoring
from marking.setup.assignment import assign
from marking.setup.sessions import get_session
from marking.store.models import (
    AlarmKind,
    CheckAlarm,
    CheckMark,
    CheckPurpose,
    CheckState,
    MarkWithdrawal,
    QualificationOverride,
    Response,
    ResponseState,
    Script,
)
from tests.browser.conftest import Person
from tests.browser.steps import ok, submit
from tests.integration.factory import (
    add_examiners,
    add_staff,
    new_session,
    people,
    take_in,
    tiny_rows,
    tiny_toml,
)
from tests.web.conftest import World

pytestmark = pytest.mark.sqlite  # chromium once, in the SQLite pass (tests/web covers PG)

CODE = "BR-QCD"
N = 18  # candidates: 18 answers to 理论知识 第 2 题 (group 简答题: max 6, step 0.5, tolerance 1)
GROUP_QC = """name = "简答题"
marks_required = 2
max_held = 4
qualification = { size = 3, within = 0.6 }
seed_rate = 0.5
remark_rate = 0.1"""
TOML = tiny_toml(CODE).replace('name = "简答题"\nmarks_required = 2', GROUP_QC)
# The true mark of each answer, by the text the screens show (tiny_rows: "c<i> theory").
TRUE = {f"c{i} theory": Decimal(1) + Decimal(i % 4) / 2 for i in range(1, N + 1)}
DRIFT = Decimal(3)  # e3's marks: 3 above the truth (the tolerance is 1)
NEVER_SHOWN = re.compile(r"样卷|回评|质控|seed|remark", re.IGNORECASE)
# What the examiner's browser holds of a response, read as the page itself would.
HELD_JS = """async () => {
  const root = document.getElementById('marking');
  const res = await fetch(root.dataset.heldUrl, {credentials: 'same-origin',
                                                 headers: {Accept: 'application/json'}});
  return await res.json();
}"""
# The marking screen's elements (the status line aside): tag, id, class, shown or not.
SHAPE_JS = """() => Array.from(document.querySelectorAll('#marking *'))
  .filter((e) => e.id !== 'message')
  .map((e) => [e.tagName, e.id, e.className, e.hidden, e.getClientRects().length > 0].join('|'))
"""


@dataclass(frozen=True)
class Seen:
    """One response as an examiner's screen showed it."""

    text: str
    shape: tuple[str, ...]  # the screen's elements
    fields: tuple[str, ...]  # the fields the browser received for it
    handle: str
    same_expiry: bool  # its lease expiry is its batch's


@pytest.fixture(scope="module")
def day(world: World) -> None:
    """Staff, examiners e1-e4, the session taken in, 简答题 assigned (lead named); the
    scheme waits for the lead. Jobs run in the request."""
    world.app.config["JOBS_IMMEDIATE"] = True
    world.app.extensions.pop("blindmark.jobs", None)
    folder = world.tmp / CODE
    with world.tx() as db:
        add_staff(db)
        add_examiners(db, folder, "e1", "e2", "e3", "e4")
        exam, _keys = new_session(db, folder, TOML, key_file=True)
        roster = people(N, seed=13)
        take_in(db, exam, folder / "batch", roster, tiny_rows(roster))
        short = next(g for g in exam.groups if g.key == "short")
        assign(db, exam, short, ["e1", "e2", "e3", "e4"], actor="office", lead="lead")
        world.passwords(db)


# --- the lead ---------------------------------------------------------------------------------


def build_qualification_set(lead: Person) -> list[str]:
    """The scheme cannot be approved without the set; the lead picks three answers from the
    blind sample, gives each its definitive mark and a note, and approves. Returns the
    texts of the set."""
    desk = lead.go(f"/lead/sessions/{CODE}")
    with desk.expect_navigation():
        desk.locator("form[action$='/groups/short/approve'] [type=submit]").click()
    expect(desk.locator("body")).to_contain_text("须先有 3 份给定标准分的资格测试卷")
    page = lead.go(f"/lead/sessions/{CODE}/quality/")
    expect(page.locator("#group-short")).to_contain_text("资格测试：已有 0 / 3 道题")
    page.locator("#group-short").get_by_role("link", name="资格测试与样卷").click()
    chosen: list[str] = []
    for n in range(3):
        card = page.locator("section.candidate").first
        text = card.locator(".answer").first.inner_text()
        card.locator("select[name=purpose]").select_option("qualification")
        card.locator("input[name=value]").fill(str(TRUE[text]))
        card.locator("input[name=note]").fill(f"要点{n + 1}：断电、验电须写全")
        with page.expect_navigation():
            card.get_by_role("button", name="添加").click()
        ok(page, "已添加资格测试，标准分")
        chosen.append(text)
    expect(page.locator("section.item")).to_have_count(3)
    lead.shot("87-lead-qualification-set")
    desk = lead.go(f"/lead/sessions/{CODE}")
    submit(desk, "form[action$='/groups/short/approve']")
    ok(desk, "评分组 简答题 的评分细则已批准")
    return chosen


def qualify_by_decision(lead: Person, username: str) -> None:
    page = lead.go(f"/lead/sessions/{CODE}/quality/")
    row = page.locator(f"#group-short tr[data-examiner={username}]")
    expect(row.locator(".status")).to_have_text("资格测试中")
    row.locator("input[name=reason]").fill("上一场次资格测试已通过，本场免测")
    with page.expect_navigation():
        row.get_by_role("button", name="由您决定授予资格").click()
    ok(page, f"经您决定，考评员{username} 已获 简答题 的评分资格。")
    expect(page.locator(f"#group-short tr[data-examiner={username}] .status")).to_have_text("在评")
    lead.shot("90-lead-qualifies-by-decision")


def make_seeds(lead: Person, count: int) -> dict[str, Decimal]:
    """Seeds of answers whose marks are all in, each with its definitive mark."""
    page = lead.go(f"/lead/sessions/{CODE}/quality/groups/short?complete=1")
    made: dict[str, Decimal] = {}
    for _n in range(count):
        card = page.locator("section.candidate").first
        expect(card.locator("h3")).to_contain_text("已完成：作为样卷可立即分发")
        text = card.locator(".answer").first.inner_text()
        card.locator("select[name=purpose]").select_option("seed")
        card.locator("input[name=value]").fill(str(TRUE[text]))
        with page.expect_navigation():
            card.get_by_role("button", name="添加").click()
        ok(page, "已添加样卷，标准分")
        made[text] = TRUE[text]
        assert "complete=1" in page.url  # still choosing among complete ones
    expect(page.locator("section.item")).to_have_count(3 + count)
    lead.shot("92-lead-seeds")
    return made


def read_alarm(lead: Person) -> None:
    """The alarm on the lead's session page and in the inbox, with its evidence."""
    desk = lead.go(f"/lead/sessions/{CODE}")
    inbox = desk.get_by_role("link", name=re.compile(r"警报收件箱 \(1\)"))
    with desk.expect_navigation():
        inbox.click()
    alarm = desk.locator("section.alarm")
    expect(alarm).to_have_count(1)
    expect(alarm.locator("h2")).to_have_text("样卷偏差过多 · 考评员e3 · 简答题")
    rows = alarm.locator("table.evidence tbody tr")
    expect(rows).to_have_count(3)
    rule = "规定最近 10 份样卷中至少 3 份超出该题允许误差。"
    expect(alarm.locator("dl.figures")).to_contain_text(rule)
    assert not re.search(r"[A-Za-z]{3,}", alarm.locator("dl.figures").inner_text())
    for row in rows.all():
        expected, given, deviation, *_beyond = row.locator("td").all_inner_texts()
        assert Decimal(given) - Decimal(expected) == Decimal(deviation) == DRIFT
    lead.shot("94-lead-alarm-evidence")


def monitoring_row(lead: Person, world: World, name: str, shot: str) -> Locator:
    """The examiner's row of 简答题 on the lead's monitoring page, reached from the
    session page. Figures computed slowly once (a busy machine) are brought up to date by
    the worker's minutely job, not by the page: if the page says so, the job runs here, as
    the worker would, and the lead reloads."""
    page = lead.go(f"/lead/sessions/{CODE}")
    with page.expect_navigation():
        page.get_by_role("link", name="考评员监控").click()
    expect(page.locator("h1")).to_have_text(f"{CODE} · 考评员监控")
    if page.locator("p.computed .stale").count():
        with world.tx() as db:
            monitoring.refresh(db, get_session(db, CODE))
        page.reload()
        expect(page.locator("p.computed .stale")).to_have_count(0)
    table = page.locator("section.monitoring-group[data-group=short] table.monitoring")
    row = table.locator("tbody tr", has=page.locator("th", has_text=name))
    expect(row).to_have_count(1)
    lead.shot(shot)
    return row


def suspend(lead: Person, marks: int) -> None:
    """From the alarm in the inbox, through the page saying what will happen."""
    page = lead.go(f"/lead/sessions/{CODE}/quality/alarms")
    with page.expect_navigation():
        page.locator("section.alarm").get_by_role("link", name="暂停…").click()
    expect(page.locator("h1")).to_have_text("暂停 考评员e3 在 简答题 的阅卷")
    then = page.locator(".consequences")
    expect(then).to_contain_text("在您恢复之前，其不能再在该组领取作答。")
    expect(then).to_contain_text("其在该组未关闭的 1 条警报随此决定关闭。")
    expect(then).to_contain_text(f"其在尚未定分作答上的评分：{marks} 个。撤回则这些作答由他人重评")
    page.locator("input[name=marks][value=withdraw]").check()
    page.locator("input[name=reason]").fill("样卷普遍偏高 3 分")
    page.locator("input[name=confirm]").check()
    lead.shot("96-lead-suspend-confirm")
    submit(page, "form.card", "暂停")
    ok(page, f"考评员e3 已在 简答题 被暂停；撤回 {marks} 个评分，由他人重评。")
    row = page.locator("#group-short tr[data-examiner=e3]")
    expect(row.locator(".status")).to_contain_text("已暂停")
    expect(row.locator(".status")).to_contain_text("样卷普遍偏高 3 分")
    lead.shot("97-lead-quality-suspended")


# --- the examiners --------------------------------------------------------------------------


def mark_on_screen(
    examiner: Person,
    value: Callable[[str], Decimal],
    *,
    path: str = f"/examiner/sessions/{CODE}/mark",
    stop_after: int | None = None,
    announced: bool = False,
    shots: Callable[[str], str | None] = lambda _text: None,
) -> list[Seen]:
    """Mark what the screen offers with the keyboard (``value`` of the text shown), until
    nothing is left or ``stop_after`` marks; what each response looked like (``announced``:
    the qualification set, which says what it is, and is not looked at; ``shots``: the
    screenshot's name to take of a text, if any)."""
    page = examiner.go(path)
    work, text, message = page.locator("#work"), page.locator("#text"), page.locator("#message")
    expect(page.locator("#work:not([hidden]), #empty:not([hidden])")).to_have_count(1)
    seen: list[Seen] = []
    while work.is_visible() and (stop_after is None or len(seen) < stop_after):
        shown = text.inner_text()
        seen.append(Seen(shown, (), (), "", True) if announced else look(page, shown))
        if name := shots(shown):
            examiner.shot(name)
        expect(page.locator("#mark")).to_be_focused()
        expect(page.locator("#mark")).to_have_value("")
        page.keyboard.type(str(value(shown)))
        page.keyboard.press("Enter")
        expect(message).to_have_text(
            re.compile(r"^(评分已记录。|目前没有需要您评分的作答。谢谢！|资格测试已全部评完.*)$")
        )
        page.wait_for_function(
            "() => document.getElementById('mark').value === ''"
            " || !document.getElementById('empty').hidden"
        )
    return seen


def look(page: Page, shown: str) -> Seen:
    """The screen and what the browser holds, as one response is shown."""
    assert not NEVER_SHOWN.search(page.content())
    visible = page.locator("body").inner_text()
    assert not NEVER_SHOWN.search(visible)
    assert "您的评分" not in visible  # no earlier mark of theirs on screen
    held = page.evaluate(HELD_JS)
    this = next(h for h in held if h["text"] == shown)
    return Seen(
        text=shown,
        shape=tuple(page.evaluate(SHAPE_JS)),
        fields=tuple(sorted(this)),
        handle=this["response"],
        same_expiry=len({h["expires_at"] for h in held}) == 1,
    )


def once(name: str) -> Callable[[str], str | None]:
    """``shots`` for mark_on_screen: this screenshot, of the first response shown."""
    taken: list[str] = []

    def shot(text: str) -> str | None:
        if taken:
            return None
        taken.append(text)
        return name

    return shot


def again(name: str) -> Callable[[str], str | None]:
    """``shots`` for mark_on_screen: this screenshot, of the first text shown a second time
    (a 回评 of the examiner's own earlier work)."""
    shown: set[str] = set()
    taken: list[str] = []

    def shot(text: str) -> str | None:
        if text not in shown:
            shown.add(text)
            return None
        if taken:
            return None
        taken.append(text)
        return name

    return shot


def truth(text: str) -> Decimal:
    return TRUE[text]


def drifting(text: str) -> Decimal:
    return TRUE[text] + DRIFT


def take_qualification(examiner: Person, value: Callable[[str], Decimal], *, first: bool) -> None:
    page = examiner.go(f"/examiner/sessions/{CODE}/groups/short/qualification")
    button = "开始资格测试" if first else "重新进行资格测试"
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    expect(page.locator("h1")).to_contain_text("资格测试 · 简答题")
    path = page.url.removeprefix(examiner.server.url)
    seen = mark_on_screen(examiner, value, path=path, announced=True)
    assert len(seen) == 3
    expect(page.locator("#message")).to_have_text("资格测试已全部评完，结果见资格测试页面。")


def e1_fails_then_qualifies(e1: Person, qualification: list[str]) -> None:
    page = e1.go("/examiner/")
    expect(page.locator("table")).to_contain_text("须先完成资格测试")
    page = e1.go(f"/examiner/sessions/{CODE}/mark")  # nothing live before qualifying
    expect(page.locator("#empty")).to_be_visible()
    page = e1.go("/examiner/")
    with page.expect_navigation():
        page.get_by_role("link", name="须先完成资格测试").click()
    e1.shot("88-examiner-qualification")
    far = {text: TRUE[text] + (DRIFT if n < 2 else 0) for n, text in enumerate(qualification)}
    take_qualification(e1, lambda text: far[text], first=True)
    page = e1.go(f"/examiner/sessions/{CODE}/groups/short/qualification")
    expect(page.locator("#standing .flash.error")).to_have_text(
        "第 1 次测试：3 份中有 1 份在允许误差之内，未达到通过要求。"
        "请对照下面的标准分，然后重新测试。"
    )
    review = page.locator("#review article.review-item")
    expect(review).to_have_count(3)
    for item in review.all():
        text = item.locator(".answer").first.inner_text()
        cells = item.locator("td").all_inner_texts()
        assert Decimal(cells[0]) == far[text] and Decimal(cells[1]) == TRUE[text]
        assert cells[2] == ("是" if far[text] == TRUE[text] else "否")
        assert cells[3].startswith("要点")
        expect(item).to_contain_text("断电、验电、挂接地线")  # the reference answer
        expect(item).to_contain_text("每个要点 2 分")  # the scheme
    e1.shot("89-examiner-review-after-a-failed-attempt")
    take_qualification(e1, truth, first=False)
    page = e1.go(f"/examiner/sessions/{CODE}/groups/short/qualification")
    expect(page.locator("#standing .flash.ok")).to_have_text("您已通过本组资格测试，可以正式评分。")
    expect(page.locator("#review")).to_have_count(0)


# --- the day ----------------------------------------------------------------------------------


def test_a_day_of_quality_control(world: World, day: None, people: dict[str, Person]) -> None:
    lead, e1, e2, e3, e4 = (people[u] for u in ("lead", "e1", "e2", "e3", "e4"))
    for person, username in ((lead, "lead"), (e1, "e1"), (e2, "e2"), (e3, "e3"), (e4, "e4")):
        person.log_in(username)

    # Standardisation: the set, the scheme; e1 fails once and qualifies, e3 passes, e2 by
    # the lead's decision.
    qualification = build_qualification_set(lead)
    e1_fails_then_qualifies(e1, qualification)
    take_qualification(e3, truth, first=True)
    take_qualification(e4, truth, first=True)
    qualify_by_decision(lead, "e2")

    # Live marking: e1 marks every answer, e2 two batches (holding a third).
    live: dict[str, set[str]] = {"e1": set(), "e2": set(), "e3": set(), "e4": set()}
    seen_by: dict[str, list[Seen]] = {"e1": [], "e2": [], "e3": [], "e4": []}
    seen_by["e1"] += mark_on_screen(e1, truth, shots=again("91-examiner-a-remark-blind"))
    seen_by["e2"] += mark_on_screen(e2, truth, stop_after=8)

    # Seeds from answers whose marks are all in; e3 drifts and raises the alarm.
    seeds = make_seeds(lead, 4)
    before_seeds = {username: len(shown) for username, shown in seen_by.items()}
    shown_seed = once("93-examiner-a-seed-as-any-response")
    seen_by["e3"] += mark_on_screen(
        e3, drifting, shots=lambda t: shown_seed(t) if t in seeds else None
    )
    read_alarm(lead)
    row = monitoring_row(lead, world, "考评员e3", "95-lead-monitoring-alarm")
    expect(row.locator(".status")).to_have_text("在评")
    expect(row.locator(".alarms")).to_have_text("样卷偏差过多")
    e3_live = len([s for s in seen_by["e3"] if s.text not in seeds])
    assert e3_live >= 6  # what e1 and e2 left; at least the set's three, which e1 cannot take
    expect(row.locator(".marks")).to_have_text(str(e3_live))
    # All four seeds: at one in every 2 places, e3's live answers and the seeds share them.
    expect(row.locator(".seeds")).to_have_text("4")
    expect(row.locator(".seed-within")).to_have_text("0.0%")
    expect(row.locator(".severity")).to_have_text("+3.00")  # against e1 on the same answers
    suspend(lead, e3_live)
    row = monitoring_row(lead, world, "考评员e3", "98-lead-monitoring-suspended")
    expect(row.locator(".status")).to_have_text("已暂停")
    expect(row.locator(".alarms")).to_have_text("")  # closed by the suspension
    expect(row.locator(".marks")).to_have_text("0")  # withdrawn

    # e3 gets nothing more; e2 marks the answers that came back.
    page = e3.go(f"/examiner/sessions/{CODE}/mark")
    expect(page.locator("#empty")).to_be_visible()
    expect(page.locator("#work")).to_be_hidden()
    seen_by["e2"] += mark_on_screen(e2, truth)
    seen_by["e4"] += mark_on_screen(e4, truth)  # what came back that e2 had marked already
    for examiner in (e1, e2, e3, e4):  # their home pages say nothing of seeds or 回评 either
        page = examiner.go("/examiner/")
        assert not NEVER_SHOWN.search(page.content())
    expect(e3.page.locator("table")).to_contain_text("已暂停")
    row = monitoring_row(lead, world, "考评员e1", "99-lead-monitoring-at-the-end")
    expect(row.locator(".marks")).to_have_text(str(N - len(qualification)))
    expect(row.locator(".consistency")).to_have_text("100.0%")  # 回评: the same marks again
    assert int(row.locator(".remarks").inner_text()) >= 1

    # What each examiner was shown: live work, seeds, 回评, by the test's own bookkeeping.
    kinds: dict[str, list[Seen]] = {"live": [], "seed": [], "回评": []}
    for username, shown in seen_by.items():
        for n, s in enumerate(shown):
            if s.text in live[username]:
                kinds["回评"].append(s)
            elif s.text in seeds and n >= before_seeds[username]:  # never its markers'
                kinds["seed"].append(s)
            else:
                kinds["live"].append(s)
                live[username].add(s.text)
    assert len([s for s in seen_by["e3"] if s.text in seeds]) == 4, seen_by["e3"]
    assert kinds["回评"], "no 回评 came back to e1 or e2"
    # e1: every answer but the set's, whose definitive marks they saw; none of those live.
    assert len(live["e1"]) == N - 3 and not live["e1"] & set(qualification)
    assert len(live["e3"]) == e3_live
    everything = [s for group in kinds.values() for s in group]
    assert {s.shape for s in everything} == {everything[0].shape}  # the same screen
    assert {s.fields for s in everything} == {everything[0].fields}  # the same fields
    assert {(len(s.handle), s.handle.isalnum()) for s in everything} == {
        (len(everything[0].handle), everything[0].handle.isalnum())
    }
    assert all(s.same_expiry for s in everything)

    with world.tx() as db:
        exam = get_session(db, CODE)
        short = next(g for g in exam.groups if g.key == "short")
        responses = db.scalars(
            select(Response)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.group_id == short.id)
        ).all()
        # Every answer final at its true mark: no seed, 回评 or withdrawn mark counted.
        assert {r.text: (r.state, r.final) for r in responses} == {
            t: (ResponseState.FINAL, v) for t, v in TRUE.items()
        }
        e3_id = get_account(db, "e3").id
        assert db.scalar(select(func.count()).select_from(MarkWithdrawal)) == e3_live
        alarm = db.scalars(select(CheckAlarm).where(CheckAlarm.session_id == exam.id)).one()
        assert (alarm.kind, alarm.examiner_id) == (AlarmKind.SEEDS_OFF, e3_id)
        assert alarm.closed_at is not None  # closed by the suspension
        checks = db.scalars(select(CheckMark).where(CheckMark.session_id == exam.id)).all()
        remarks = [c for c in checks if c.purpose is CheckPurpose.REMARK]
        assert remarks and all(
            c.state is CheckState.SUBMITTED and c.value == c.expected for c in remarks
        )  # consistent: the same mark again, without seeing the first
        deviations = {
            (c.examiner_id == e3_id, c.value - c.expected)
            for c in checks
            if c.purpose is CheckPurpose.SEED
        }
        # e3's four seeds 3 above; the seeds e2 and e4 met later, at the definitive mark.
        assert deviations <= {(True, DRIFT), (False, Decimal(0))}
        assert [c for c in checks if c.purpose is CheckPurpose.SEED and c.examiner_id == e3_id]
        attempts = {
            (get_account(db, u).id, a) for u, a in (("e1", 1), ("e1", 2), ("e3", 1), ("e4", 1))
        }
        assert {
            (c.examiner_id, c.attempt) for c in checks if c.purpose is CheckPurpose.QUALIFICATION
        } == attempts
        override = db.scalars(select(QualificationOverride)).one()
        assert override.examiner_id == get_account(db, "e2").id
