"""Intake batches in the browser (issue 9, item 2: no session the product cannot finish): a
candidate taken in twice stops publication until one batch is withdrawn, and the office
can do that on its session page and in the API, not only on the command line; a disabled
examiner is refused at assignment."""

from __future__ import annotations

import io

from sqlalchemy import select

from marking.audit.verify import verify
from marking.people.accounts import set_active
from marking.setup.sessions import get_session
from marking.store.models import IntakeBatch
from tests.integration.factory import PASSPHRASE, mark_all, tiny_rows
from tests.web.conftest import CONFIRMED, World
from tests.web.test_office_and_director import batch_zip

API = "/api/v1/sessions"


def publish(world: World, code: str, key: bytes) -> tuple[int, str]:
    answer = world.client("office").post(
        f"{API}/{code}/publication",
        data={"key_file": (io.BytesIO(key), "s.key"), "passphrase": PASSPHRASE},
        content_type="multipart/form-data",
    )
    return answer.status_code, answer.get_data(as_text=True)


def published(world: World, code: str) -> None:
    """A tiny session marked by e1-e3, approved by the director and published."""
    tiny = world.session(code, key_file=True)
    with world.tx() as db:
        mark_all(db, get_session(db, code), ["e1", "e2", "e3"])
    director = world.client("director")
    assert director.post(f"/director/sessions/{code}/approval", data=CONFIRMED).status_code == 302
    assert tiny.keys.key_file is not None
    assert publish(world, code, tiny.keys.key_file.read_bytes())[0] == 200


def test_a_batch_taken_in_twice_is_withdrawn_in_the_browser_and_the_session_publishes(
    world: World,
) -> None:
    tiny = world.session("BW-1", n=3, key_file=True)
    assert tiny.keys.key_file is not None
    key = tiny.keys.key_file.read_bytes()
    office, director = world.client("office"), world.client("director")
    again = tiny.candidates[:2]  # the same two candidates, scanned into a second batch
    rows = [(n, c, q, f"again {t}") for n, c, q, t in tiny_rows(again)]
    taken = office.post(
        f"{API}/BW-1/intake",
        data={"batch": (io.BytesIO(batch_zip(rows, again)), "again.zip"), "name": "补录批次"},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 201
    with world.tx() as db:
        mark_all(db, get_session(db, "BW-1"), ["e1", "e2", "e3"])
    assert (
        director.post(
            "/director/sessions/BW-1/approval", data={"note": "已审阅", **CONFIRMED}
        ).status_code
        == 302
    )

    status, text = publish(world, "BW-1", key)
    assert status == 409 and "taken in twice" in text
    assert "session page" in text  # the way out is in the product, not only a command

    listed = office.get(f"{API}/BW-1/batches").json
    assert [b["name"] for b in listed] == ["batch", "补录批次"]
    assert all(b["withdrawn_at"] is None for b in listed)
    page = office.get("/office/sessions/BW-1").get_data(as_text=True)
    assert "补录批次" in page and "撤回该批次" in page
    second = listed[1]["id"]
    no_reason = office.post(f"/office/sessions/BW-1/batches/{second}/withdraw", data={})
    assert no_reason.status_code == 422
    withdrawn = office.post(
        f"/office/sessions/BW-1/batches/{second}/withdraw",
        data={"reason": "重复收卷", "understood": "yes"},  # confirmed: it cannot be undone
    )
    assert withdrawn.status_code == 302
    assert "已撤回" in office.get("/office/sessions/BW-1").get_data(as_text=True)
    twice = office.post(f"{API}/BW-1/batches/{second}/withdraw", json={"reason": "再撤一次"})
    assert twice.status_code == 409

    # The withdrawal voided the approval; the director approves again and it publishes.
    assert (
        director.post(
            "/director/sessions/BW-1/approval", data={"note": "复审", **CONFIRMED}
        ).status_code
        == 302
    )
    status, text = publish(world, "BW-1", key)
    assert status == 200, text
    results = office.get(f"{API}/BW-1/results").json
    at = results["columns"].index("exam_no")
    assert sorted(r[at] for r in results["rows"]) == sorted(c.exam_no for c in tiny.candidates)
    with world.tx() as db:
        assert verify(db, get_session(db, "BW-1")).ok


def test_another_sessions_batch_cannot_be_withdrawn_through_this_one(world: World) -> None:
    world.session("BW-2", n=1)
    world.session("BW-3", n=1)
    with world.tx() as db:
        other = db.scalar(
            select(IntakeBatch.id).where(IntakeBatch.session_id == get_session(db, "BW-3").id)
        )
    office = world.client("office")
    crossed = office.post(f"{API}/BW-2/batches/{other}/withdraw", json={"reason": "x"})
    assert crossed.status_code in (404, 422)
    with world.tx() as db:
        batch = db.get(IntakeBatch, other)
        assert batch is not None and batch.withdrawn_at is None
    assert world.client("e1").get(f"{API}/BW-2/batches").status_code == 403


def test_a_disabled_examiner_is_not_assigned(world: World) -> None:
    world.session("BW-4", n=1, examiners=("e1", "e2", "e3"), open_groups=False)
    with world.tx() as db:
        set_active(db, "e3", False, actor="admin")
    office = world.client("office")
    refused = office.post(f"{API}/BW-4/groups/short/assign", json={"examiners": ["e1", "e2", "e3"]})
    assert refused.status_code == 422 and "e3：该账户已停用" in refused.json["detail"]
    with world.tx() as db:
        set_active(db, "e3", True, actor="admin")
