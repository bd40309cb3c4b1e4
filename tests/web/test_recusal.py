"""Recusal over HTTP (issue 9, items 3 and 4): the office names a deputy lead and imports
declarations of examiners and of the lead, a later batch is excluded from as the first,
and the lead and the deputy each see and rule on exactly their own responses."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update

from marking.people.accounts import add_user
from marking.queue import handles
from marking.queue.lead import arbitration_tasks
from marking.setup.sessions import get_session
from marking.store.models import Account, Image, Response, Role
from tests.integration.factory import certify, people, tiny_rows
from tests.integration.test_recusal import flag_as, mark_as
from tests.web.conftest import World
from tests.web.test_office_and_director import batch_zip

API = "/api/v1/sessions"


def declarations(client: FlaskClient, url: str, rows: list[tuple[str, str]]) -> Any:
    text = "username,id_number,relation\n" + "".join(f"{u},{i},relative\n" for u, i in rows)
    return client.post(
        url,
        data={"file": (io.BytesIO(text.encode()), "conflicts.csv")},
        content_type="multipart/form-data",
    )


def with_deputy(world: World) -> None:
    with world.tx() as db:
        if db.scalar(select(Account.id).where(Account.username == "deputy")) is None:
            add_user(db, "deputy", role=Role.LEAD, name="副组长")
            certify(db, "deputy")
        world.passwords(db)


def test_the_office_names_a_deputy_lead_and_imports_a_leads_declarations(world: World) -> None:
    world.session("RC-1", examiners=("e1", "e2", "e3"))
    with_deputy(world)
    office = world.client("office")

    refused = office.post(f"{API}/RC-1/deputy", json={"deputy": "lead"})
    assert refused.status_code == 422
    assert "the deputy must be another person" in refused.json["detail"]
    refused = office.post(f"{API}/RC-1/deputy", json={"deputy": "e1"})
    assert refused.status_code == 422 and "副组长须为高级考评员" in refused.json["detail"]
    named = office.post("/office/sessions/RC-1/deputy", data={"deputy": "deputy"})
    assert named.status_code == 302
    page = office.get("/office/sessions/RC-1").get_data(as_text=True)
    assert "副组长 (deputy)" in page and "已指定副组长 deputy" in page

    later = people(2, seed=31, prefix="2677")
    form = declarations(office, "/office/sessions/RC-1/conflicts", [("lead", later[0].id_number)])
    assert form.status_code == 302
    api = declarations(office, f"{API}/RC-1/conflicts", [("e2", later[1].id_number)])
    assert api.status_code == 200 and api.json == {"declarations": 1}
    unknown = declarations(office, f"{API}/RC-1/conflicts", [("nobody", later[1].id_number)])
    assert unknown.status_code == 422
    assert later[1].id_number not in unknown.get_data(as_text=True)

    rows = [(n, c, q, f"later {t}") for n, c, q, t in tiny_rows(later)]
    taken = office.post(
        f"{API}/RC-1/intake",
        data={"batch": (io.BytesIO(batch_zip(rows, later)), "later.zip")},
        content_type="multipart/form-data",
    )

    assert taken.status_code == 201 and taken.json["exclusions"] == 4


def test_the_lead_and_the_deputy_each_see_and_rule_on_their_own_responses(world: World) -> None:
    world.session("RC-2", n=2, examiners=("e1", "e2", "e3", "e4"))
    with_deputy(world)
    office = world.client("office")
    assert office.post(f"{API}/RC-2/deputy", json={"deputy": "deputy"}).status_code == 200
    # The lead declares a conflict with a candidate of a second batch, taken in during marking.
    later = people(1, seed=32, prefix="2688")
    declarations(office, f"{API}/RC-2/conflicts", [("lead", later[0].id_number)])
    rows = [(n, c, q, f"later {t}") for n, c, q, t in tiny_rows(later)]
    office.post(
        f"{API}/RC-2/intake",
        data={"batch": (io.BytesIO(batch_zip(rows, later)), "later.zip")},
        content_type="multipart/form-data",
    )
    with world.tx() as db:
        exam = get_session(db, "RC-2")
        for who, mark in (("e1", "0"), ("e2", "8"), ("e3", "4")):
            mark_as(db, exam, who, {"later c1 skills": mark, "c1 skills": mark})
        flag_as(db, exam, "e4", "later c1 theory")
        excluded = {
            t.text: handles.response_handle(exam, t.response_id)
            for t in arbitration_tasks(db, exam)
        }
    lead, deputy = world.client("lead"), world.client("deputy")

    lead_list = lead.get(f"{API}/RC-2/arbitrations").json
    deputy_list = deputy.get(f"{API}/RC-2/arbitrations").json
    assert [t["text"] for t in lead_list] == ["c1 skills"]
    assert [t["text"] for t in deputy_list] == ["later c1 skills"]
    assert [a["text"] for a in lead.get(f"{API}/RC-2/anomalies").json] == []
    assert [a["text"] for a in deputy.get(f"{API}/RC-2/anomalies").json] == ["later c1 theory"]
    assert "later c1 skills" not in lead.get("/lead/sessions/RC-2/arbitration").get_data(
        as_text=True
    )
    assert "later c1 skills" in deputy.get("/lead/sessions/RC-2/arbitration").get_data(as_text=True)
    assert "RC-2" in deputy.get("/lead/").get_data(as_text=True)

    theirs = excluded["later c1 skills"]
    refused = lead.post(f"{API}/RC-2/responses/{theirs}/arbitrate", json={"value": "4"})
    assert refused.status_code == 404
    done = deputy.post(f"{API}/RC-2/responses/{theirs}/arbitrate", json={"value": "4"})
    assert done.status_code == 200 and done.json["final"] == "4"
    mine = excluded["c1 skills"]
    assert (
        deputy.post(f"{API}/RC-2/responses/{mine}/arbitrate", json={"value": "4"}).status_code
        == 404
    )
    assert (
        lead.post(f"{API}/RC-2/responses/{mine}/arbitrate", json={"value": "4"}).status_code == 200
    )

    # Recusal covers the answer's image too: the lead cannot open the excluded one.
    png = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32
    digest = hashlib.sha256(png).hexdigest()
    with world.tx() as db:
        db.add(Image(sha256=digest, media_type="image/png", size=len(png), content=png))
        db.flush()
        for handle in (theirs, mine):
            row = handles.response_id(get_session(db, "RC-2"), handle)
            db.execute(update(Response).where(Response.id == row).values(image_sha256=digest))
    hidden = lead.get(f"{API}/RC-2/responses/{theirs}/image")
    assert hidden.status_code == 404 and png not in hidden.data
    assert deputy.get(f"{API}/RC-2/responses/{theirs}/image").data == png
    assert lead.get(f"{API}/RC-2/responses/{mine}/image").data == png
    assert deputy.get(f"{API}/RC-2/responses/{mine}/image").status_code == 404


def test_a_stations_declarations_file_is_not_held_to_the_form_limit(world: World) -> None:
    world.session("RC-3", n=1, examiners=("e1", "e2", "e3"))
    many = people(600, seed=37, prefix="2688")  # ~30 KB of declarations: over the 16 KB of forms
    rows = [("e1", p.id_number) for p in many]
    assert len("".join(f"e1,{i},relative\n" for _u, i in rows)) > 16 * 1024
    answer = declarations(world.client("office"), f"{API}/RC-3/conflicts", rows)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.json == {"declarations": 600}
