"""Appeal revisions (复核) in the browser: the office opens one (confirmed; a refusal comes
back beside the form with the input kept), examiners re-mark on their usual screen without
seeing the script's published code, the director approves, the office publishes (confirmed),
and the results page, exports and reports say which revision they show.

Clauses: 第七条(七) (marked by two or more examiners, blind), 第七条(十) (results published
by the organising unit), R16 (the director reviews the score sheets before they go out).
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

from pypdf import PdfReader
from sqlalchemy import select

from marking.people.accounts import get_account
from marking.publication.publish import publish
from marking.setup.sessions import get_session
from marking.store.models import Script
from tests.integration.factory import approve, mark_all
from tests.web.conftest import World


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)


def test_a_revision_goes_through_the_browser(world: World) -> None:
    tiny = world.session("REV-1", examiners=("e1", "e2", "e3", "e4"))
    with world.tx() as db:
        exam = get_session(db, "REV-1")
        mark_all(db, exam, ["e1", "e2"])
        publish(db, exam, by="office", approved_by=approve(db, exam), key=tiny.keys.open(exam))
    office, director = world.client("office"), world.client("director")
    c1 = tiny.candidates[0]
    page = office.get("/office/sessions/REV-1/revisions").get_data(as_text=True)
    assert 'id="open-revision"' in page

    # Refused without the confirmation, and for an unknown exam number: same page, kept.
    unconfirmed = office.post(
        "/office/sessions/REV-1/revisions",
        data={"candidates": c1.exam_no, "reason": "申诉", "component": ["skills"]},
    )
    assert unconfirmed.status_code == 422
    text = unconfirmed.get_data(as_text=True)
    assert 'id="revision-refused"' in text and "申诉" in text and c1.exam_no in text
    unknown = office.post(
        "/office/sessions/REV-1/revisions",
        data={"candidates": "999", "reason": "申诉", "confirm": "yes"},
    )
    assert unknown.status_code == 422
    assert "没有准考证号 999 的已发布成绩" in unknown.get_data(as_text=True)

    opened = office.post(
        "/office/sessions/REV-1/revisions",
        data={"candidates": c1.exam_no, "reason": "考生申请复核", "confirm": "yes"},
    )
    assert opened.status_code == 302
    page = office.get("/office/sessions/REV-1/revisions").get_data(as_text=True)
    assert "第 2 次修订" in page and "考生申请复核" in page
    # More examiners can join a group while the revision is open (no revision wedges).
    session_page = office.get("/office/sessions/REV-1").get_data(as_text=True)
    assert "/office/sessions/REV-1/groups/short/assign" in session_page

    # Examiners who marked before get nothing; the others get the answers, code masked.
    e1, e3 = world.client("e1"), world.client("e3")
    assert e1.post("/api/v1/sessions/REV-1/claim", json={"size": 10}).json == []
    claimed = e3.post("/api/v1/sessions/REV-1/claim", json={"size": 10}).json
    assert len(claimed) == 2 and {r["script_code"] for r in claimed} == {"—"}
    published_codes = {p for p in re.findall(r"[0-9A-Z]{12}", page)}
    assert not published_codes & {r["script_code"] for r in claimed}
    # Blindness holds during the revision: the examiner's and the lead's screens name no
    # candidate and show none of the codes published beside the names.
    with world.tx() as db:
        codes = set(
            db.scalars(select(Script.code).where(Script.session_id == get_session(db, "REV-1").id))
        )
    secrets = {c.name for c in tiny.candidates} | {c.exam_no for c in tiny.candidates} | codes
    lead = world.client("lead")
    answers = [
        e3.get("/api/v1/sessions/REV-1/held"),
        e3.get("/examiner/sessions/REV-1/mark"),
        e3.get("/examiner/"),
        lead.get("/lead/sessions/REV-1"),
        lead.get("/lead/sessions/REV-1/anomalies"),
        lead.get("/lead/sessions/REV-1/arbitration"),
    ]
    assert [a.status_code for a in answers] == [200] * len(answers)
    screens = [a.get_data(as_text=True) for a in answers]
    assert len(screens[0]) > 100  # the held responses are there, their codes masked
    assert not [s for s in secrets if any(s in screen for screen in screens)]
    for r in claimed:
        sent = e3.post(f"/api/v1/sessions/REV-1/responses/{r['response']}/mark", json={"value": 1})
        assert sent.status_code == 200, sent.json
    with world.tx() as db:
        mark_all(db, get_session(db, "REV-1"), ["e4"], lambda _i, _u: Decimal(1))

    review = director.get("/director/sessions/REV-1/revision").get_data(as_text=True)
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', review)
    assert digest is not None
    assert (
        director.post(
            "/director/sessions/REV-1/revision/approval", data={"digest": digest.group(1)}
        ).status_code
        == 302
    )
    # The director may take it back (recorded), and approve again.
    withdrawn = director.post("/director/sessions/REV-1/revision/approval/withdraw")
    assert withdrawn.status_code == 302
    page = office.get("/office/sessions/REV-1/revisions").get_data(as_text=True)
    assert "/office/sessions/REV-1/revisions/publish" not in page
    again = director.post(
        "/director/sessions/REV-1/revision/approval", data={"digest": digest.group(1)}
    )
    assert again.status_code == 302
    assert office.post("/office/sessions/REV-1/revisions/publish", data={}).status_code == 422
    done = office.post("/office/sessions/REV-1/revisions/publish", data={"confirm": "yes"})
    assert done.status_code == 302 and "revision=2" in done.location

    latest = office.get("/office/sessions/REV-1/results").get_data(as_text=True)
    assert 'class="revision-shown"' in latest and "第 2 次修订" in latest
    first = office.get("/office/sessions/REV-1/results?revision=1").get_data(as_text=True)
    assert 'class="revision-shown"' not in first
    assert office.get("/office/sessions/REV-1/results?revision=7").status_code == 404
    old = office.get("/api/v1/sessions/REV-1/exports/results?revision=1").data.decode("utf-8-sig")
    new = office.get("/api/v1/sessions/REV-1/exports/results").data.decode("utf-8-sig")
    row = next(line for line in new.splitlines() if line.startswith(c1.exam_no))
    assert ",fail," in row and row != next(
        line for line in old.splitlines() if line.startswith(c1.exam_no)
    )
    register = office.get("/api/v1/sessions/REV-1/reports/register?lang=zh")
    assert "成绩册（第 2 次修订）" in pdf_text(register.data)
    assert "考生申请复核" in pdf_text(register.data)
    notices = office.get("/api/v1/sessions/REV-1/reports/notices?lang=en&revision=1")
    assert "revision" not in pdf_text(notices.data)
    with world.tx() as db:
        assert get_session(db, "REV-1").open_revision is None
        assert get_account(db, "office") is not None
