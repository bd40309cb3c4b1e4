"""Input cannot hurt (issue 9) over HTTP: marks are short exact text."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from marking.models import Anomaly, Arbitration, LedgerEntry, Mark
from marking.sessions import get_session
from marking.verify import verify
from tests.integration.factory import mark_all
from tests.web.conftest import World

API = "/api/v1/sessions"


def raw_json(client: FlaskClient, url: str, text: str) -> Any:
    """A JSON body exactly as written (a number such as 1e-1000030 stays as it is)."""
    return client.post(url, data=text, content_type="application/json")


def ledger_is_sound(world: World, code: str) -> None:
    with world.tx() as db:
        report = verify(db, get_session(db, code))
        assert report.ok, report.problems


# --- 6. marks -----------------------------------------------------------------------------------

BAD_MARKS = [
    '"1e-1000030"',  # was taken: stored 0, a 1 MB ledger entry, verify broken
    "1e-1000030",  # the same as a JSON number: was read as 0.0 and taken
    '"1e9999999"',  # was refused with a 10 MB message (1e999999999: 1 GB)
    "1" + "0" * 4000,  # a JSON integer of 4001 digits: a 4 KB message
    "1e400",  # beyond any float
    '"NaN"',
    '"-1"',
    '"+5"',
    '"5.0001"',
    '"５ ５"',
    '"' + "9" * 5000 + '"',
]


def test_a_mark_that_is_not_short_plain_decimal_text_is_refused_in_a_few_words(
    world: World,
) -> None:
    world.session("IN-1")
    e1 = world.client("e1")
    item = e1.post(f"{API}/IN-1/claim", json={"size": 1}).json[0]
    url = f"{API}/IN-1/responses/{item['response_id']}/mark"
    for value in BAD_MARKS:
        refused = raw_json(e1, url, '{"value": ' + value + "}")
        assert refused.status_code == 422, (value[:20], refused.json)
        assert refused.json["error"] == "invalid_mark"
        assert len(refused.data) < 600, value[:20]
        assert "分数" in refused.json["detail"]  # the reason, in the reader's language
    with world.tx() as db:
        stored = db.scalar(select(func.count()).where(Mark.response_id == item["response_id"]))
        assert stored == 0
    ledger_is_sound(world, "IN-1")

    # The same claim is still held: a plain mark goes in, and the ledger records exactly
    # the text of what is stored.
    assert e1.post(url, json={"value": " 5.50 "}).status_code == 200
    with world.tx() as db:
        mark = db.scalars(select(Mark).where(Mark.response_id == item["response_id"])).one()
        entry = db.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "mark", LedgerEntry.actor == "e1")
        ).one()
        assert entry.payload["value"] == f"{mark.value:f}" == "5.5"
    ledger_is_sound(world, "IN-1")


def test_a_refused_mark_says_why_in_english_too(world: World) -> None:
    world.session("IN-2")
    e1 = world.client("e1")
    e1.get("/lang/en")
    item = e1.post(f"{API}/IN-2/claim", json={"size": 1}).json[0]
    url = f"{API}/IN-2/responses/{item['response_id']}/mark"
    assert raw_json(e1, url, '{"value": "1e5"}').json["detail"] == (
        "A mark is a plain number such as 7, 7.5 or 0.125; “1e5” is not one."
    )
    assert raw_json(e1, url, '{"value": "99"}').json["detail"] == (
        f"A mark lies between 0 and {item['max']}; 99 is outside."
    )


def test_the_lead_cannot_record_a_final_mark_that_is_no_mark(world: World) -> None:
    world.session("IN-3")
    e1, lead = world.client("e1"), world.client("lead")
    flagged = e1.post(f"{API}/IN-3/claim", json={"size": 1}).json[0]["response_id"]
    e1.post(f"{API}/IN-3/responses/{flagged}/flag", json={"kind": "illegible", "note": "?"})
    with world.tx() as db:
        exam = get_session(db, "IN-3")
        spread = {"e1": lambda _i: Decimal(0), "e2": lambda i: i.max, "e3": lambda _i: Decimal(3)}
        mark_all(db, exam, ["e1", "e2", "e3"], lambda item, user: spread[user](item))
    disputed = lead.get(f"{API}/IN-3/arbitrations").json[0]["response_id"]
    anomaly = lead.get(f"{API}/IN-3/anomalies").json[0]["id"]

    page = lead.post(
        f"/lead/sessions/IN-3/responses/{disputed}/arbitrate",
        data={"value": "1e-1000030", "reason": "按评分细则"},
    )
    assert page.status_code == 422 and "分数须为普通数字" in page.get_data(as_text=True)
    api = raw_json(
        lead,
        f"{API}/IN-3/responses/{disputed}/arbitrate",
        '{"value": 1e-1000030, "reason": "按评分细则"}',
    )
    assert api.status_code == 422 and api.json["error"] == "invalid_mark"
    final = raw_json(
        lead,
        f"{API}/IN-3/anomalies/{anomaly}/resolve",
        '{"resolution": "final", "note": "看不清", "value": 1e-1000030}',
    )
    assert final.status_code == 422 and final.json["error"] == "invalid_mark"
    with world.tx() as db:
        assert db.scalar(select(func.count()).where(Arbitration.response_id == disputed)) == 0
        open_anomaly = db.get(Anomaly, anomaly)
        assert open_anomaly is not None and open_anomaly.resolution is None
    ledger_is_sound(world, "IN-3")
