"""Four eyes in the browser and the API (issue 9 items 5 and 14): the director approves the
session as it stands and a later change voids it; one admin alone cannot make a director,
office or admin account."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from marking.audit.verify import verify, verify_accounts
from marking.intake.records import record_violations
from marking.people.accounts import add_user
from marking.setup.sessions import get_session
from marking.store.models import Role
from tests.integration.factory import PASSPHRASE, mark_all, people, tiny_rows
from tests.web.conftest import CONFIRMED, PASSWORD, World, csrf_of
from tests.web.test_office_and_director import batch_zip


def logs_in(world: World, username: str, password: str) -> bool:
    client = world.app.test_client()
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(client)},
    )
    return answer.status_code == 302


def role_of(admin: FlaskClient, username: str) -> str | None:
    found = [a for a in admin.get("/api/v1/accounts").json if a["username"] == username]
    return found[0]["role"] if found else None


def test_one_admin_alone_cannot_make_a_director_office_or_admin_account(world: World) -> None:
    world.session("FE-W1")
    with world.tx() as db:
        add_user(db, "admin2", role=Role.ADMIN)
        world.passwords(db)
    admin, admin2 = world.client("admin"), world.client("admin2")

    asked = admin.post(
        "/api/v1/accounts", json={"username": "dir2", "role": "director", "password": PASSWORD}
    )
    assert asked.status_code == 202, asked.json
    assert asked.json["pending"] is True and asked.json["requested_by"] == "admin"
    request_id = asked.json["id"]
    assert role_of(admin, "dir2") is None and not logs_in(world, "dir2", PASSWORD)
    own = admin.post(f"/api/v1/account-requests/{request_id}/approve")
    assert own.status_code == 422 and "a second admin must approve" in own.json["detail"]
    assert "由另一位系统管理员决定" in admin.get("/admin/").get_data(as_text=True)
    assert f"/admin/requests/{request_id}/approve" in admin2.get("/admin/").get_data(as_text=True)

    assert admin2.post(f"/admin/requests/{request_id}/approve").status_code == 302
    assert role_of(admin, "dir2") == "director" and logs_in(world, "dir2", PASSWORD)

    # A lead is made at once; promoting it to office waits, and a rejection leaves it a lead.
    lead = admin.post(
        "/admin/accounts", data={"username": "lead9", "role": "lead", "password": PASSWORD}
    )
    assert lead.status_code == 302 and role_of(admin, "lead9") == "lead"
    assert admin.post("/admin/accounts/lead9", data={"role": "office"}).status_code == 302
    assert role_of(admin, "lead9") == "lead"
    [waiting] = [r for r in admin2.get("/api/v1/account-requests").json if r["username"] == "lead9"]
    assert (waiting["change"], waiting["role"]) == ("role", "office")
    rejected = admin2.post(f"/api/v1/account-requests/{waiting['id']}/reject")
    assert rejected.status_code == 200 and rejected.json["decision"] == "rejected"
    assert role_of(admin, "lead9") == "lead"

    # Taking a director over with a new password waits for a second admin as well.
    reset = admin.post("/api/v1/accounts/director", json={"password": "a-new-password-9"})
    assert reset.status_code == 200 and [r["change"] for r in reset.json["pending"]] == ["password"]
    assert logs_in(world, "director", PASSWORD)
    assert not logs_in(world, "director", "a-new-password-9")
    admin2.post(f"/api/v1/account-requests/{reset.json['pending'][0]['id']}/reject")
    with world.tx() as db:
        assert verify_accounts(db).ok


def test_the_directors_page_shows_an_approval_void_after_a_later_intake(world: World) -> None:
    tiny = world.session("FE-W2", key_file=True)
    assert tiny.keys.key_file is not None
    key_bytes = tiny.keys.key_file.read_bytes()
    world.session("FE-W3")  # nothing marked yet
    with world.tx() as db:
        mark_all(db, get_session(db, "FE-W2"), ["e1", "e2", "e3"])
    director, office = world.client("director"), world.client("office")

    open_work = director.post("/api/v1/sessions/FE-W3/publication/approval")
    assert open_work.status_code == 409, open_work.json
    assert "cannot be approved while work is open" in open_work.json["detail"]

    page = director.get("/director/sessions/FE-W2").get_data(as_text=True)
    assert "您所批准的内容" in page and '<dd class="candidates">4</dd>' in page
    assert director.post("/director/sessions/FE-W2/approval", data=CONFIRMED).status_code == 302
    approved = office.get("/api/v1/sessions/FE-W2/publication").json
    assert approved["approved_by"] == "director" and approved["approval"]["current"]

    later = people(2, seed=5, prefix="2697")
    taken = office.post(
        "/api/v1/sessions/FE-W2/intake",
        data={"batch": (io.BytesIO(batch_zip(tiny_rows(later), later)), "later.zip")},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 201, taken.json
    with world.tx() as db:
        mark_all(db, get_session(db, "FE-W2"), ["e1", "e2", "e3"])

    page = director.get("/director/sessions/FE-W2").get_data(as_text=True)
    assert "director 的批准已失效" in page and "收卷批次" in page
    assert "/director/sessions/FE-W2/approval" in page  # the form to approve again
    state = office.get("/api/v1/sessions/FE-W2/publication").json
    assert state["approved_by"] is None and not state["approval"]["current"]
    assert "intake" in state["approval"]["changed"]
    assert {c["item"]: c["ok"] for c in state["checklist"]}["approved"] is False

    key = {"key_file": (io.BytesIO(key_bytes), "s.key"), "passphrase": PASSPHRASE}
    refused = office.post(
        "/api/v1/sessions/FE-W2/publication", data=key, content_type="multipart/form-data"
    )
    assert refused.status_code == 409
    assert (
        "the approval by director no longer matches: the intake batches" in (refused.json["detail"])
    )
    with world.tx() as db:
        assert verify(db, get_session(db, "FE-W2")).ok

    assert director.post("/api/v1/sessions/FE-W2/publication/approval").status_code == 200
    key = {"key_file": (io.BytesIO(key_bytes), "s.key"), "passphrase": PASSPHRASE}
    published = office.post(
        "/api/v1/sessions/FE-W2/publication", data=key, content_type="multipart/form-data"
    )
    assert published.status_code == 200 and published.json["candidates"] == 6


def test_the_director_approves_only_what_the_review_page_showed(world: World) -> None:
    tiny = world.session("FE-W4")
    with world.tx() as db:
        mark_all(db, get_session(db, "FE-W4"), ["e1", "e2", "e3"])
    director = world.client("director")
    page = director.get("/director/sessions/FE-W4").get_data(as_text=True)
    shown = re.search(r'name="digest" value="([0-9a-f]{64})"', page)
    assert shown is not None and f'class="review-digest">{shown[1]}<' in page
    reviewed = shown[1]
    assert director.get("/api/v1/sessions/FE-W4/publication").json["digest"] == reviewed

    # While the director reads, the office records a violation: the results change.
    violations = world.tmp / "FE-W4-violations.csv"
    violations.write_text(
        f"exam_no,component,action,reason\n{tiny.candidates[0].exam_no},theory,void,携带资料\n",
        encoding="utf-8",
    )
    with world.tx() as db:
        record_violations(db, get_session(db, "FE-W4"), violations, actor="office")

    form = {"digest": reviewed, "note": "已审阅"}
    refused = director.post("/director/sessions/FE-W4/approval", data={**form, **CONFIRMED})
    assert refused.status_code == 409
    assert "您所审阅的页面显示之后，场次已有变动；未作任何批准" in refused.get_data(as_text=True)
    stale = director.post("/api/v1/sessions/FE-W4/publication/approval", json=form)
    assert stale.status_code == 409 and "未作任何批准" in stale.json["detail"]
    state = director.get("/api/v1/sessions/FE-W4/publication").json
    assert state["approval"] is None and state["digest"] != reviewed
    with world.tx() as db:
        assert verify(db, get_session(db, "FE-W4")).ok

    again = director.post(
        "/api/v1/sessions/FE-W4/publication/approval", json={"digest": state["digest"]}
    )
    assert again.status_code == 200 and again.json["digest"] == state["digest"]
