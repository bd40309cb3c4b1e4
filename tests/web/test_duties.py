"""Duties in the browser (issue 12, item 9): an examiner declares their own conflicts (seed
rules 第七条(四), 回避; DESIGN §3 "Recusal while blind"), the office imports a conflicts
file and withdraws a batch on the session page, the office and the director check the
ledger (DESIGN §7), the office asks for the notices of chosen candidates, and sets examiner
passwords or makes one-time invitations (examiner accounts only: the others stay with the
admins' four eyes, R16)."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, update
from werkzeug.test import TestResponse

from marking.audit import ledger
from marking.people.accounts import add_user
from marking.setup.sessions import get_session
from marking.store.models import (
    Account,
    Invitation,
    LedgerEntry,
    Mark,
    Response,
    Role,
    SealedKind,
    SealedRecord,
)
from tests.integration.factory import mark_all, people, run_cli, tiny_rows
from tests.web.conftest import CONFIRMED, World, csrf_of, login
from tests.web.test_batches import publish
from tests.web.test_office_and_director import batch_zip

API = "/api/v1/sessions"


def declare(client: FlaskClient, **form: str) -> TestResponse:
    return client.post("/account/conflicts", data=form)


def take_in(world: World, code: str, later: list[Any], name: str = "later.zip") -> None:
    rows = [(n, c, q, f"later {t}") for n, c, q, t in tiny_rows(later)]
    taken = world.client("office").post(
        f"{API}/{code}/intake",
        data={"batch": (io.BytesIO(batch_zip(rows, later)), name)},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 201, taken.get_data(as_text=True)


def marked_texts(world: World, code: str, username: str) -> set[str]:
    with world.tx() as db:
        account = db.scalar(select(Account).where(Account.username == username))
        assert account is not None
        return set(
            db.scalars(
                select(Response.text)
                .join(Mark, Mark.response_id == Response.id)
                .where(Mark.examiner_id == account.id)
            )
        )


def test_an_examiner_declares_before_intake_and_never_gets_that_candidates_script(
    world: World,
) -> None:
    """第七条(四) 回避: declared before the batch is taken in, the declaration becomes an
    exclusion at intake, and the queue never hands the examiner that candidate's script.
    The examiner sees where and when they declared, never whom (R1)."""
    world.session("DU-1", n=1)
    later = people(1, seed=41, prefix="2691")
    e1 = world.client("e1")
    page = e1.get("/account").get_data(as_text=True)
    assert "我的回避申报" in page and "DU-1" in page and "师徒" in page

    empty = declare(e1, session="DU-1", id_number="  ", relation="relative")
    assert empty.status_code == 422
    text = empty.get_data(as_text=True)
    assert "请输入考生的身份证号" in text and 'id="declare-refused"' in text
    bad = declare(e1, session="DU-1", id_number=later[0].id_number, relation="cousin")
    assert bad.status_code == 422
    kept = bad.get_data(as_text=True)
    assert "请选择关系" in kept and later[0].id_number in kept  # the input kept, to its author

    done = declare(e1, session="DU-1", id_number=later[0].id_number.lower(), relation="relative")
    assert done.status_code == 302
    shown = e1.get("/account").get_data(as_text=True)
    assert "回避声明已记录并密封于 1 个场次：DU-1" in shown
    assert re.search(r"<td>DU-1</td><td>1</td>", shown)
    for secret in (later[0].id_number, later[0].name, later[0].exam_no):
        assert secret not in shown
    with world.tx() as db:
        sealed = db.scalars(
            select(SealedRecord).where(
                SealedRecord.kind == SealedKind.CONFLICT, SealedRecord.created_by == "e1"
            )
        ).all()
        assert len(sealed) == 1 and later[0].id_number.encode() not in sealed[0].ciphertext

    take_in(world, "DU-1", later)
    with world.tx() as db:
        mark_all(db, get_session(db, "DU-1"), ["e1", "e2", "e3"])
    mine = marked_texts(world, "DU-1", "e1")
    assert not any(t.startswith("later c1") for t in mine)
    assert mine  # e1 marked the first batch
    assert any(t.startswith("later c1") for t in marked_texts(world, "DU-1", "e2"))


def test_a_declaration_after_intake_is_found_at_publication(world: World) -> None:
    """第七条(四) 回避, DESIGN §3: declared after intake, the conflict is checked when
    publication unseals; the examiner's marks on that candidate stop publication."""
    tiny = world.session("DU-2", n=2, examiners=("e1", "e2"), key_file=True)
    e2 = world.client("e2")
    done = declare(e2, session="", id_number=tiny.candidates[0].id_number, relation="other")
    assert done.status_code == 302  # every open session with a key: DU-2 among them
    with world.tx() as db:
        mark_all(db, get_session(db, "DU-2"), ["e1", "e2"])
    assert (
        world.client("director")
        .post("/director/sessions/DU-2/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    assert tiny.keys.key_file is not None
    status, text = publish(world, "DU-2", tiny.keys.key_file.read_bytes())
    assert status == 409 and "2 mark(s) by examiners with a late-declared conflict" in text


def test_a_lead_declares_too_and_the_office_and_director_may_not(world: World) -> None:
    """The lead is held to recusal like the examiners (DESIGN §14); the staff are not."""
    world.session("DU-3", n=1)
    form = {"session": "DU-3", "id_number": "X1", "relation": "relative"}
    assert declare(world.client("lead"), **form).status_code == 302
    assert declare(world.client("office"), **form).status_code == 403
    assert declare(world.client("director"), **form).status_code == 403


def test_the_office_sees_a_refused_conflicts_file_on_the_session_page(world: World) -> None:
    """A bad conflicts file is refused whole, its rows named (file, row, column, reason) in
    Chinese beside the form (DESIGN §11)."""
    world.session("DU-4", n=1)
    office = world.client("office")
    text = "username,id_number,relation\nnobody,110101199001011234,cousin\ne1,,relative\n"
    answer = office.post(
        "/office/sessions/DU-4/conflicts",
        data={"file": (io.BytesIO(text.encode()), "声明.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert 'id="conflicts-refused"' in page and "<h1>DU-4</h1>" in page
    assert "没有该用户名的考评员或考评组长" in page and "须为 relative（亲属）" in page
    assert "<td>声明.csv</td><td>2</td><td>用户名（username）</td>" in page
    assert "<td>3</td>" in page and "110101199001011234" not in page
    good = "username,id_number,relation\ne1,110101199001011234,relative\n"
    sealed = office.post(
        "/office/sessions/DU-4/conflicts",
        data={"file": (io.BytesIO(good.encode()), "conflicts.csv")},
        content_type="multipart/form-data",
    )
    assert sealed.status_code == 302


def test_a_batch_withdrawal_is_confirmed_first(world: World) -> None:
    """Withdrawing a batch is irreversible: without the "I understand" box it is refused on
    the session page, the reason kept; with it, it is done and recorded."""
    tiny = world.session("DU-5", n=1)
    office = world.client("office")
    page = office.get("/office/sessions/DU-5").get_data(as_text=True)
    assert "我明白：该批次的 2 份试卷及其全部评分将移出本场次" in page
    url = f"/office/sessions/DU-5/batches/{tiny.batch_id}/withdraw"
    refused = office.post(url, data={"reason": "重复收卷"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "请勾选确认：该批次的试卷和评分将移出本场次" in text and 'value="重复收卷"' in text
    no_reason = office.post(url, data={"reason": " ", "understood": "yes"})
    assert no_reason.status_code == 422 and "请填写撤回的原因" in no_reason.get_data(as_text=True)
    assert office.post(url, data={"reason": "重复收卷", "understood": "yes"}).status_code == 302
    assert "已撤回" in office.get("/office/sessions/DU-5").get_data(as_text=True)
    again = office.post(url, data={"reason": "再次", "understood": "yes"})
    assert again.status_code == 409 and "<h1>DU-5</h1>" in again.get_data(as_text=True)
    assert f"批次 {tiny.batch_id} 已经撤回过" in again.get_data(as_text=True)


def test_the_office_and_the_director_check_the_ledger(world: World) -> None:
    """DESIGN §7: `verify` in the browser: intact, with the head and the entry count; then a
    changed entry is named as the first broken one, in Chinese."""
    world.session("DU-6", n=1)
    with world.tx() as db:
        mark_all(db, get_session(db, "DU-6"), ["e1", "e2"])
        head = ledger.head(db, get_session(db, "DU-6"))
    office, director = world.client("office"), world.client("director")
    assert "/office/sessions/DU-6/verify" in office.get("/office/sessions/DU-6").get_data(
        as_text=True
    )
    assert "/director/sessions/DU-6/verify" in director.get("/director/sessions/DU-6").get_data(
        as_text=True
    )
    for client, url in ((office, "/office"), (director, "/director")):
        answer = client.post(f"{url}/sessions/DU-6/verify")
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        assert 'data-ok="yes"' in text and "账本完好" in text and head in text
    with world.tx() as db:
        exam = get_session(db, "DU-6")
        entry = db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.session_id == exam.id, LedgerEntry.kind == "mark")
            .order_by(LedgerEntry.id)
        ).first()
        assert entry is not None
        broken = (entry.lane, entry.seq, entry.id)
        db.execute(
            update(LedgerEntry)
            .where(LedgerEntry.id == entry.id)
            .values(payload={**entry.payload, "value": "99"})
        )
    text = director.post("/director/sessions/DU-6/verify").get_data(as_text=True)
    assert 'data-ok="no"' in text
    lane, seq, entry_id = broken
    assert f"第一处断裂的记录：链 {lane} 第 {seq} 条（记录 {entry_id}）：写入后内容被改动过" in text


def test_the_office_asks_for_the_notices_of_chosen_candidates(world: World) -> None:
    """After publication (R8) the office picks candidates by exam number (typed or ticked)
    and gets a notices PDF of those only; unknown exam numbers are refused, named."""
    world.app.config["JOBS_IMMEDIATE"] = True
    tiny = world.session("DU-7", n=3, key_file=True)
    with world.tx() as db:
        mark_all(db, get_session(db, "DU-7"), ["e1", "e2", "e3"])
    assert (
        world.client("director")
        .post("/director/sessions/DU-7/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    assert tiny.keys.key_file is not None
    assert publish(world, "DU-7", tiny.keys.key_file.read_bytes())[0] == 200
    office = world.client("office")
    results = office.get("/office/sessions/DU-7/results").get_data(as_text=True)
    first, second, third = (c.exam_no for c in tiny.candidates)
    assert f'name="exam_no" value="{first}"' in results

    unknown = office.post(
        "/office/sessions/DU-7/notices",
        data={"choice": "chosen", "exam_numbers": f"{first}, 999999", "lang": "zh"},
    )
    assert unknown.status_code == 422
    text = unknown.get_data(as_text=True)
    assert "场次 DU-7 中没有以下准考证号的已发布成绩：999999" in text
    assert f"{first}, 999999</textarea>" in text  # the input kept
    none = office.post("/office/sessions/DU-7/notices", data={"choice": "chosen"})
    assert none.status_code == 422 and "请至少选择一名考生" in none.get_data(as_text=True)

    asked = office.post(
        "/office/sessions/DU-7/notices",
        data={"choice": "chosen", "exam_numbers": f"{first}\n", "exam_no": [third], "lang": "en"},
    )
    assert asked.status_code == 302
    page = office.get(asked.headers["Location"]).get_data(as_text=True)
    assert f"仅限选定的考生（2 名）：{first}, {third}" in page
    found = re.search(r'href="([^"]+/pdf)"', page)
    assert found
    pdf = PdfReader(io.BytesIO(office.get(found.group(1)).data))
    assert len(pdf.pages) == 2
    words = "".join(p.extract_text() for p in pdf.pages)
    assert first in words and third in words and second not in words


def invitation_link(office: FlaskClient, username: str) -> str:
    answer = office.post(f"/office/examiners/{username}/invitation")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    found = re.search(r'<code id="invitation-link">([^<]+)</code>', answer.get_data(as_text=True))
    assert found
    return found.group(1).replace("http://localhost", "")


def test_the_office_invites_an_examiner_once(world: World) -> None:
    """An invitation link sets the examiner's own password once; a newer one voids it; an
    expired or used one sends them to the login page, told why; all in the account ledger."""
    world.session("DU-8", n=1, examiners=("e1", "e2", "e3", "e6"))
    office = world.client("office")
    assert "/office/examiners/e6/access" in office.get("/office/examiners").get_data(as_text=True)
    first = invitation_link(office, "e6")
    second = invitation_link(office, "e6")
    stranger = world.app.test_client()
    voided = stranger.get(first)
    assert voided.status_code == 302 and "invitation=voided" in voided.headers["Location"]
    told = stranger.get(voided.headers["Location"]).get_data(as_text=True)
    assert "此邀请链接已被新的链接取代" in told and "请向考务办公室索取新的邀请链接" in told

    form = stranger.get(second).get_data(as_text=True)
    assert "设置您的密码" in form and "e6" in form
    token = csrf_of(stranger)
    short = stranger.post(
        second, data={"password": "short", "password2": "short", "csrf_token": token}
    )
    assert short.status_code == 422 and "密码至少需要 10 个字符" in short.get_data(as_text=True)
    new = "e6-own-password-2026"
    done = stranger.post(second, data={"password": new, "password2": new, "csrf_token": token})
    assert done.status_code == 302 and "/login" in done.headers["Location"]
    login(world.app.test_client(), "e6", new)
    used = stranger.get(second)
    assert "invitation=used" in used.headers["Location"]
    assert "此邀请链接已被使用" in stranger.get(used.headers["Location"]).get_data(as_text=True)

    third = invitation_link(office, "e6")
    with world.tx() as db:
        db.execute(
            update(Invitation)
            .where(Invitation.used_at.is_(None), Invitation.voided_at.is_(None))
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
        stored = db.scalars(select(Invitation.token_sha256)).all()
        kinds = [
            e.kind
            for e in ledger.account_entries(db)
            if e.payload.get("username") == "e6" and e.kind.startswith(("invitation", "password"))
        ]
    assert "invitation=expired" in stranger.get(third).headers["Location"]
    assert third.rsplit("/", 1)[1] not in stored  # only the hash is kept
    assert kinds == ["invitation_made", "invitation_made", "password_set", "invitation_used",
                     "invitation_made"]  # fmt: skip


def test_the_office_sets_an_examiners_password_but_not_a_powerful_accounts(world: World) -> None:
    """Examiner accounts only; a lead's, director's or admin's password stays with the
    admins' four eyes (R16). Confirmed and checked like every password."""
    world.session("DU-9", n=1)
    with world.tx() as db:
        if db.scalar(select(Account.id).where(Account.username == "lead2")) is None:
            add_user(db, "lead2", role=Role.LEAD)
        world.passwords(db)
    office = world.client("office")
    for username in ("lead2", "director", "admin"):
        answer = office.get(f"/office/examiners/{username}/access")
        assert answer.status_code == 422 and "不是考评员账户" in answer.get_data(as_text=True)
        posted = office.post(
            f"/office/examiners/{username}/password",
            data={"password": "x" * 12, "password2": "x" * 12, "understood": "yes"},
        )
        assert posted.status_code == 422
        assert office.post(f"/office/examiners/{username}/invitation").status_code == 422
    url = "/office/examiners/e3/password"
    new = "e3-new-password-2026"
    differ = office.post(url, data={"password": new, "password2": new + "x", "understood": "yes"})
    assert differ.status_code == 422 and "两次输入的密码不一致" in differ.get_data(as_text=True)
    unticked = office.post(url, data={"password": new, "password2": new})
    assert unticked.status_code == 422 and "请勾选确认" in unticked.get_data(as_text=True)
    e3 = world.client("e3")
    confirmed = {"password": new, "password2": new, "understood": "yes"}
    assert office.post(url, data=confirmed).status_code == 302
    assert e3.get("/examiner/").status_code == 302  # their old login ended
    login(world.app.test_client(), "e3", new)
    with world.tx() as db:
        world.passwords(db)  # as the other tests of the module expect


def test_the_duties_answer_in_the_api_too(world: World) -> None:
    """The same actions for scripts: a declaration (where and when only, R1), the ledger
    check, notices refused before publication (R8), an invitation (examiners only, R16)."""
    world.session("DU-10", n=1)
    e2 = world.client("e2")
    declared = e2.post("/api/v1/me/conflicts", json={"id_number": "X9", "relation": "other",
                                                     "session": "DU-10"})  # fmt: skip
    assert declared.status_code == 201 and declared.json == {"sessions": ["DU-10"]}
    mine = e2.get("/api/v1/me/conflicts").json
    assert [(d["session"], d["count"]) for d in mine if d["session"] == "DU-10"] == [("DU-10", 1)]
    bad = e2.post("/api/v1/me/conflicts", json={"id_number": "X9", "relation": "cousin"})
    assert bad.status_code == 422 and bad.json["detail"].startswith("请选择关系")
    checked = world.client("director").get(f"{API}/DU-10/verify").json
    assert checked["ok"] is True and checked["entries"] > 0 and len(checked["head"]) == 64
    early = world.client("office").post(f"{API}/DU-10/notices", json={"exam_nos": ["1"]})
    assert early.status_code == 409
    invited = world.client("office").post("/api/v1/examiners/e2/invitation")
    assert invited.status_code == 201 and "/invitation/" in invited.json["url"]
    refused = world.client("office").post("/api/v1/examiners/lead/invitation")
    assert refused.status_code == 422 and "不是考评员账户" in refused.json["detail"]


def test_the_command_line_makes_an_invitation_the_browser_takes(world: World) -> None:
    """`blindmark examiners invite e2 --by office`: the same one-time link, by an office
    account only (an examiner is not one), used once in the browser."""
    world.session("DU-11", n=1)
    refused = run_cli(world.database.url, "examiners", "invite", "e2", "--by", "e1")
    assert refused.exit_code != 0 and "office account" in refused.output
    made = run_cli(
        world.database.url, "examiners", "invite", "e2", "--by", "office", "--url", "http://x/"
    )
    assert made.exit_code == 0, made.output
    link = next(line for line in made.output.splitlines() if line.startswith("http://x/"))
    path = link.removeprefix("http://x")
    browser = world.app.test_client()
    assert "设置您的密码" in browser.get(path).get_data(as_text=True)
    token, new = csrf_of(browser), "e2-cli-invited-2026"
    done = browser.post(path, data={"password": new, "password2": new, "csrf_token": token})
    assert done.status_code == 302
    login(world.app.test_client(), "e2", new)
    with world.tx() as db:
        world.passwords(db)


def test_a_mistyped_id_number_is_refused_unless_another_documents(world: World) -> None:
    """第七条(四) 回避: a resident ID number with a wrong check digit (or a digit short) would
    never match a candidate and recuse nobody, while the examiner believes they are recused:
    it is refused beside the field, the input kept; a passport's number is taken when the
    examiner says so, and one with letters is taken as it is."""
    world.session("DU-ID", n=1)
    right = people(1, seed=43, prefix="2699")[0].id_number
    wrong = right[:17] + ("0" if right[17] != "0" else "1")
    e1 = world.client("e1")
    for typed in (wrong, right[:17], "12345"):
        refused = declare(e1, session="DU-ID", id_number=typed, relation="relative")
        assert refused.status_code == 422
        page = refused.get_data(as_text=True)
        assert "不是有效的居民身份证号码" in page and 'id="declare-refused"' in page
        assert f'value="{typed}"' in page
    assert declare(e1, session="DU-ID", id_number=right, relation="relative").status_code == 302
    other = declare(
        e1, session="DU-ID", id_number="12345678", relation="other", other_document="yes"
    )
    assert other.status_code == 302
    assert declare(e1, session="DU-ID", id_number="E12345678", relation="other").status_code == 302
