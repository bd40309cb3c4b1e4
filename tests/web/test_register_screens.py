"""The examiner register and R10's team rules in the browser (issue 12, items 1-3): the
office's register page and its records, the lead dividing the work, the director's
override; refused forms come back on their page with the reason and the input kept."""

from __future__ import annotations

from sqlalchemy import select

from marking.people.accounts import add_user
from marking.setup.sessions import get_session
from marking.store.models import Assignment, Examiner, ExaminerStatus, Role, TeamOverride
from tests.integration.factory import Ex, add_examiners
from tests.web.conftest import World


def test_the_register_page_shows_certificates_cards_status_and_scope(world: World) -> None:
    """第三条 (void a year after expiry), 第六条(三) (card), 第七条(一) (category shown by
    the component's name)."""
    world.session("RS-1")
    with world.tx() as db:
        add_examiners(
            db,
            world.tmp / "rs1",
            Ex("old1", expires="2024-01-31"),
            Ex("cat1", scope="6-31-01-03:3:theory", issued="2027-01-01", card="lost"),
        )
        world.passwords(db)
    page = world.client("office").get("/office/examiners").get_data(as_text=True)
    row = page[page.index('id="examiner-old1"') :]
    row = row[: row.index("</tr>")]
    assert "已失效（过期一年或以上）" in row
    row = page[page.index('id="examiner-cat1"') :]
    row = row[: row.index("</tr>")]
    assert "理论知识" in row and "已报遗失" in row and "2027" in row
    assert '<td class="validity">尚未生效</td>' in row  # issued after today
    # A lead account without a certificate shows as such (it cannot lead until it has one).
    with world.tx() as db:
        add_user(db, "bare-lead", role=Role.LEAD)
    page = world.client("office").get("/office/examiners").get_data(as_text=True)
    row = page[page.index('id="examiner-bare-lead"') :]
    assert '<td class="validity">无证书</td>' in row[: row.index("</tr>")]


def test_the_office_records_absences_and_a_confirmed_suspension(world: World) -> None:
    """第八条: the office records absences (the third unexcused in a row brings a warning)
    and suspends only when confirmed; the refused form keeps its input."""
    for code in ("RS-A1", "RS-A2", "RS-A3"):
        world.session(code, examiners=("a1", "e2"))
    office = world.client("office")
    for code in ("RS-A1", "RS-A2"):
        done = office.post("/office/examiners/a1/absence", data={"session": code, "note": ""})
        assert done.status_code == 302
    done = office.post(
        "/office/examiners/a1/absence",
        data={"session": "RS-A3", "note": "没来"},
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "连续第三次无故缺席" in page
    assert "自动记录" in page  # the warning, on the record

    refused = office.post(
        "/office/examiners/a1/record", data={"kind": "suspension", "reason": "屡次缺席"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "请勾选确认" in page and 'value="屡次缺席"' in page
    with world.tx() as db:
        examiner = db.scalars(select(Examiner).where(Examiner.certificate_no == "C-a1")).one()
        assert examiner.status is ExaminerStatus.ACTIVE
    done = office.post(
        "/office/examiners/a1/record",
        data={"kind": "suspension", "reason": "屡次缺席", "confirm": "yes"},
    )
    assert done.status_code == 302
    page = office.get("/office/examiners").get_data(as_text=True)
    row = page[page.index('id="examiner-a1"') :]
    row = row[: row.index("</tr>")]
    assert 'class="status-suspended"' in page and "暂停考评" in row
    # A suspended examiner is refused by the assignment, named.
    refused = office.post(
        "/office/sessions/RS-A3/groups/short/assign", data={"examiner_list": "a1"}
    )
    assert refused.status_code == 422
    assert "a1：该考评员已被暂停考评（第八条）" in refused.get_data(as_text=True)


def test_the_lead_divides_the_work_in_the_browser(world: World) -> None:
    """第七条(六): the lead organises the examiners' division of work, by the same checks
    as the office's assignment (第七条(一): out of scope is refused, named)."""
    world.session("RS-L1", open_groups=False, examiners=("e1", "e2"))
    with world.tx() as db:
        add_examiners(db, world.tmp / "rsl", Ex("plumb1", scope="6-29-03-01:3"))
        exam = get_session(db, "RS-L1")
        exam.lead_id = db.scalar(
            select(Examiner.account_id).where(Examiner.certificate_no == "C-lead")
        )
        world.passwords(db)
    lead = world.client("lead")
    page = lead.get("/lead/sessions/RS-L1").get_data(as_text=True)
    assert "考评分工" in page and "/lead/sessions/RS-L1/groups/short/assign" in page

    refused = lead.post(
        "/lead/sessions/RS-L1/groups/short/assign", data={"examiner_list": "e1, plumb1"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "plumb1：证书核准范围（6-29-03-01:3）不含 6-31-01-03 3 级" in page
    assert 'value="e1, plumb1"' in page
    done = lead.post("/lead/sessions/RS-L1/groups/short/assign", data={"examiner_list": "e1,e2"})
    assert done.status_code == 302
    with world.tx() as db:
        exam = get_session(db, "RS-L1")
        count = len(db.scalars(select(Assignment.id).where(Assignment.session_id == exam.id)).all())
    assert count == 2
    # An examiner of the session is not its lead: no such form for them.
    assert (
        world.client("e1")
        .post("/lead/sessions/RS-L1/groups/short/assign", data={"examiner_list": "e2"})
        .status_code
        == 403
    )


def test_the_director_records_an_override_and_the_office_sees_it(world: World) -> None:
    """第七条(四): rotation below a third is shown while the team is built and needs a
    director's recorded, confirmed override with a reason."""
    world.session("RS-R1", examiners=("r1", "r2", "r3"))
    with world.tx() as db:
        for code in ("RS-R1",):
            get_session(db, code).station = "S-SHARED"
    world.session("RS-R2", examiners=("r1", "r2", "r3"), open_groups=False)
    with world.tx() as db:
        exam = get_session(db, "RS-R2")
        exam.station = "S-SHARED"
        exam.date = exam.date.replace(day=28)
    office = world.client("office")
    office.post(
        "/office/sessions/RS-R2/groups/short/assign",
        data={"examiner_list": "r1,r2,r3", "lead": "lead"},
    )
    page = office.get("/office/sessions/RS-R2").get_data(as_text=True)
    assert "每次轮换不得少于三分之一" in page and "请调整考评组，或请主任记录" in page

    director = world.client("director")
    page = director.get("/director/sessions/RS-R2").get_data(as_text=True)
    assert "记录准予例外的决定" in page
    refused = director.post(
        "/director/sessions/RS-R2/team-overrides",
        data={"rule": "rotation", "reason": "本工种考评员不足"},
    )
    assert refused.status_code == 422
    assert 'value="本工种考评员不足"' in refused.get_data(as_text=True)
    done = director.post(
        "/director/sessions/RS-R2/team-overrides",
        data={"rule": "rotation", "reason": "本工种考评员不足", "confirm": "yes"},
    )
    assert done.status_code == 302
    with world.tx() as db:
        recorded = db.scalars(select(TeamOverride)).all()
        assert [(o.director, o.reason) for o in recorded] == [("director", "本工种考评员不足")]
    page = office.get("/office/sessions/RS-R2").get_data(as_text=True)
    assert "本工种考评员不足" in page and "考评组符合轮换和连续考评次数的规定" in page
