"""Violations, interview scores and absences entered in the browser (issue 12 items 4, 5,
9), the centre's approval of collective decisions, and what the pages may show before
publication: counts and record numbers, never an exam number or a score (R8)."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from marking.setup.sessions import get_session
from marking.store.models import Account, AccountRequest, LedgerEntry, SealedRecord
from tests.integration.factory import PASSPHRASE, Ex, add_examiners, mark_all
from tests.web.conftest import CONFIRMED, World

OCC = "6-31-01-03"


def level_two(world: World, code: str, n: int = 3):  # type: ignore[no-untyped-def]
    """A level-2 session, marked to the end, three senior examiners s1-s3 and a junior."""
    tiny = world.session(code, n=n, key_file=True, level=2)
    with world.tx() as db:
        known = set(db.scalars(select(Account.username).where(Account.username == "s1")))
        if not known:
            add_examiners(
                db,
                world.tmp / f"seniors-{code}",
                *(Ex(u, grade="senior", scope=f"{OCC}:2") for u in ("s1", "s2", "s3")),
                Ex("j1", scope=f"{OCC}:2"),
                Ex("old", grade="senior", expires="2020-06-30", scope="6-01-02-00:2"),
            )
        mark_all(db, get_session(db, code), ["e1", "e2", "e3"])
        world.passwords(db)
    return tiny


def text(answer) -> str:  # type: ignore[no-untyped-def]
    return answer.get_data(as_text=True)


def assert_blind(page: str, tiny, *also: str) -> None:  # type: ignore[no-untyped-def]
    for c in tiny.candidates:
        assert c.exam_no not in page and c.name not in page and c.id_number not in page
    for secret in also:
        if not re.fullmatch(r"[0-9.]+", secret):
            assert secret not in page
            continue
        # A score as a number: 58.5 or 58.50 shown, not the seconds of a timestamp
        # (…:58.539163) nor part of a longer number.
        pattern = rf"(?<![0-9.:]){re.escape(secret)}(?!0*[1-9])"
        assert not re.search(pattern, page), secret


def test_the_office_enters_violations_with_reasons_beside_the_fields(world: World) -> None:
    """R13 (第五条(二), 第七条(五)): a violation is entered with who decided; a refused form
    comes back on the same page, the reason beside the field and the input kept."""
    tiny = level_two(world, "WR-1")
    office = world.client("office")
    page = office.get("/office/sessions/WR-1/records")
    assert page.status_code == 200 and 'id="violation-form"' in text(page)
    c1, c2, _c3 = (c.exam_no for c in tiny.candidates)
    refused = office.post(
        "/office/sessions/WR-1/records/violations",
        data={"exam_no": f"{c1} {c2}", "component": "theory", "action": "void", "reason": "抄袭"},
    )
    assert refused.status_code == 422
    body = text(refused)
    assert 'data-field="collective"' in body and 'data-field="decided_by"' in body
    assert 'value="抄袭"' in body  # what was typed is kept
    done = office.post(
        "/office/sessions/WR-1/records/violations",
        data={
            "exam_no": f"{c1}, {c2}",
            "component": "theory",
            "action": "void",
            "reason": "集体作弊",
            "decided_by": "lead",
            "collective": "G-WR1",
        },
    )
    assert done.status_code == 302
    listed = text(office.get("/office/sessions/WR-1/records"))
    assert "G-WR1" in listed and "集体作弊" not in listed
    assert_blind(listed, tiny)
    session_page = text(office.get("/office/sessions/WR-1"))
    assert 'class="records"' in session_page
    assert_blind(session_page, tiny)
    checklist = text(office.get("/office/sessions/WR-1/publication"))
    assert 'id="collectives-check"' in checklist and "G-WR1" in checklist
    assert 'id="interview-check"' in checklist
    assert_blind(checklist, tiny)


def test_the_centre_approves_a_collective_decision_once_confirmed(world: World) -> None:
    """第七条(五): the guidance centre's approval, recorded; its screen lists what waits
    across sessions and names no candidate."""
    tiny = level_two(world, "WR-2")
    office, centre = world.client("office"), world.client("centre")
    c1, c2, _c3 = (c.exam_no for c in tiny.candidates)
    office.post(
        "/office/sessions/WR-2/records/violations",
        data={
            "exam_no": f"{c1} {c2}",
            "component": "skills",
            "action": "terminated",
            "reason": "集体喧哗",
            "decided_by": "lead",
            "collective": "G-WR2",
        },
    )
    home = text(centre.get("/centre/"))
    assert "G-WR2" in home and "WR-2" in home
    assert_blind(home, tiny, "集体喧哗")
    found = re.search(r'action="(/centre/sessions/WR-2/collectives/(\d+)/approve)"', home)
    assert found
    unconfirmed = centre.post(found[1], data={"note": "同意"})
    assert unconfirmed.status_code == 422 and "G-WR2" in text(unconfirmed)
    assert 'value="同意"' in text(unconfirmed)  # the note typed is kept beside the refusal
    assert world.client("director").post(found[1], data={"confirm": "1"}).status_code == 403
    assert centre.post(found[1], data={"confirm": "1", "note": "同意"}).status_code == 302
    assert 'data-collective="G-WR2"' not in text(centre.get("/centre/"))
    with world.tx() as db:
        entry = db.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "collective_approved")
        ).first()
        assert entry is not None and entry.actor == "centre"


def test_a_panel_member_enters_their_own_scores_sealed(world: World) -> None:
    """R7 (第七条(九)): each member enters their own score; the page shows only a count.
    A junior examiner, or a senior of another trade whose certificate expired in 2020, is
    refused with the reason."""
    tiny = level_two(world, "WR-3")
    c1 = tiny.candidates[0].exam_no
    s1 = world.client("s1")
    home = text(s1.get("/examiner/"))
    assert "/examiner/sessions/WR-3/interview" in home
    entered = s1.post("/examiner/sessions/WR-3/interview", data={"exam_no": c1, "score": "88.5"})
    assert entered.status_code == 302
    page = text(s1.get("/examiner/sessions/WR-3/interview"))
    assert "<strong>1</strong>" in page
    assert_blind(page, tiny, "88.5")
    bad = s1.post("/examiner/sessions/WR-3/interview", data={"exam_no": c1, "score": "101"})
    assert bad.status_code == 422 and 'data-field="score"' in text(bad)
    for who in ("j1", "old"):
        refused = world.client(who).post(
            "/examiner/sessions/WR-3/interview", data={"exam_no": c1, "score": "70"}
        )
        assert refused.status_code == 422, who
    assert "WR-3" not in text(world.client("j1").get("/examiner/"))
    with world.tx() as db:
        exam = get_session(db, "WR-3")
        records = db.scalars(select(SealedRecord).where(SealedRecord.session_id == exam.id)).all()
        assert [(r.kind.value, r.created_by, r.item_count) for r in records] == [
            ("interview", "s1", 1)
        ]


def test_publication_names_candidates_without_panel_scores_until_recorded_absent(
    world: World,
) -> None:
    """R7: a level 1-2 candidate without panel scores is named on the publication page, with
    the ways on; the office transcribes a signed sheet or records the absence, withdraws a
    wrong record, and publishes."""
    tiny = level_two(world, "WR-4", n=2)
    office = world.client("office")
    c1, c2 = (c.exam_no for c in tiny.candidates)
    for member in ("s1", "s2", "s3"):
        answer = office.post(
            "/office/sessions/WR-4/records/interview",
            data={"member": member, "exam_no": c1, "score": "75"},
        )
        assert answer.status_code == 302
    wrong = office.post(
        "/office/sessions/WR-4/records/interview",
        data={"member": "old", "exam_no": c1, "score": "75"},
    )
    assert wrong.status_code == 422 and 'data-field="member"' in text(wrong)
    office.post("/office/sessions/WR-4/records/absent", data={"exam_no": "000000000000"})
    assert (
        world.client("director")
        .post("/director/sessions/WR-4/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    assert tiny.keys.key_file is not None
    key = tiny.keys.key_file.read_bytes()

    def publish():  # type: ignore[no-untyped-def]
        return office.post(
            "/office/sessions/WR-4/publication",
            data={
                "key_file": (io.BytesIO(key), "s.key"),
                "passphrase": PASSPHRASE,
                "confirm": "yes",
            },
            content_type="multipart/form-data",
        )

    refused = publish()
    assert refused.status_code == 409
    body = text(refused)
    assert 'id="publication-refused"' in body and 'id="interview-check"' in body
    assert c2 in body and "000000000000" in body  # named now that publication unsealed
    found = re.search(r"缺考记录 (\d+) 第 1 行|record (\d+), row 1", body)
    assert found
    record = found[1] or found[2]
    confirm = office.post(
        f"/office/sessions/WR-4/records/{record}/withdraw", data={"reason": "号码录错"}
    )
    assert confirm.status_code == 422  # not ticked: nothing withdrawn
    withdrawn = office.post(
        f"/office/sessions/WR-4/records/{record}/withdraw",
        data={"reason": "号码录错", "confirm": "1"},
    )
    assert withdrawn.status_code == 302
    office.post("/office/sessions/WR-4/records/absent", data={"exam_no": c2, "reason": "缺考"})
    assert (
        world.client("director")
        .post("/director/sessions/WR-4/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    assert publish().status_code == 302
    results = text(office.get("/office/sessions/WR-4/results"))
    assert c1 in results and c2 in results


def test_an_admin_makes_a_centre_account_under_four_eyes(world: World) -> None:
    """The centre's approval has power over publication: its account needs a second admin."""
    world.session("WR-5")
    admin = world.client("admin")
    answer = admin.post(
        "/admin/accounts",
        data={"username": "centre2", "role": "centre", "name": "指导中心", "password": "x" * 20},
    )
    assert answer.status_code == 302
    with world.tx() as db:
        request = db.scalars(
            select(AccountRequest).where(AccountRequest.username == "centre2")
        ).one()
        assert request.role is not None and request.role.value == "centre"
        assert request.decision is None
        assert db.scalar(select(Account.id).where(Account.username == "centre2")) is None


def test_the_office_uploads_a_violations_file_with_decided_by_and_collective(
    world: World,
) -> None:
    """DESIGN §14: violations.csv gains optional decided_by and collective; from the
    browser as from the command line, a bad file is refused whole, naming row and column."""
    tiny = level_two(world, "WR-6")
    office = world.client("office")
    c1, c2, c3 = (c.exam_no for c in tiny.candidates)
    header = "exam_no,component,action,reason,decided_by,collective\n"

    def upload(body: str):  # type: ignore[no-untyped-def]
        return office.post(
            "/office/sessions/WR-6/records/file",
            data={"kind": "violations", "file": (io.BytesIO(body.encode()), "violations.csv")},
            content_type="multipart/form-data",
        )

    bad = upload(header + f"{c1},theory,void,x,lead,G6\n{c2},theory,warning,x,lead,G6\n")
    assert bad.status_code == 422 and "collective" in text(bad)
    good = upload(
        header + f"{c1},theory,void,集体作弊,lead,G6\n{c2},theory,void,集体作弊,lead,G6\n"
        f"{c3},skills,advice,迟到,e1,\n"
    )
    assert good.status_code == 302
    page = text(office.get("/office/sessions/WR-6/records"))
    assert 'data-collective="G6"' in page
    assert_blind(page, tiny, "集体作弊", "迟到")


def test_the_same_actions_through_the_api(world: World) -> None:
    """The JSON API: a collective violation, the centre's approval, a panel member's own
    score, a withdrawal; answers carry record numbers and counts only."""
    tiny = level_two(world, "WR-7")
    office, centre, s1 = world.client("office"), world.client("centre"), world.client("s1")
    c1, c2, _c3 = (c.exam_no for c in tiny.candidates)
    refused = office.post("/api/v1/sessions/WR-7/violations", json={"exam_no": c1})
    assert refused.status_code == 422 and refused.json["error"] == "refused"
    made = office.post(
        "/api/v1/sessions/WR-7/violations",
        json={
            "exam_no": f"{c1} {c2}",
            "component": "theory",
            "action": "void",
            "reason": "集体作弊",
            "decided_by": "lead",
            "collective": "G7",
        },
    )
    assert made.status_code == 201 and made.json["count"] == 2
    [waiting] = [c for c in centre.get("/api/v1/collectives").json if c["session"] == "WR-7"]
    assert (waiting["label"], waiting["candidates"]) == ("G7", 2)
    approved = centre.post(f"/api/v1/sessions/WR-7/collectives/{waiting['id']}/approve", json={})
    assert approved.status_code == 200 and approved.json["collective"] == "G7"
    mine = s1.post("/api/v1/sessions/WR-7/interview/mine", json={"exam_no": c1, "score": "87.25"})
    assert mine.status_code == 201
    listed = office.get("/api/v1/sessions/WR-7/records").json
    assert listed["counts"] == {"violation": 2, "interview": 1, "interview_absent": 0}
    gone = office.post(
        f"/api/v1/sessions/WR-7/records/{mine.json['record']}/withdraw", json={"reason": "重录"}
    )
    assert gone.status_code == 200
    assert_blind(str(listed) + str(waiting), tiny, "集体作弊", "87.25")
