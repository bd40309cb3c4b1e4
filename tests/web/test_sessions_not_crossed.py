"""Sessions cannot be crossed over HTTP: a response, lease, anomaly or arbitration of session B
addressed through session A's URL is not found (404), nothing is stored, and both
sessions' ledgers still verify. The same call through B's own URL works."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update

from marking.audit.verify import verify
from marking.setup.sessions import get_session
from marking.store.models import (
    Image,
    Response,
)
from tests.integration.factory import stored_state
from tests.web.conftest import World

API = "/api/v1/sessions"
A, B = "XS-A", "XS-B"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(scope="module")
def sessions(world: World) -> Iterator[None]:
    world.session(A)
    world.session(B)
    yield


def stored(world: World) -> tuple[Any, ...]:
    with world.tx() as db:
        return stored_state(db)


def assert_both_verify(world: World) -> None:
    with world.tx() as db:
        for code in (A, B):
            report = verify(db, get_session(db, code))
            assert report.ok, (code, report.problems)


def claim_in_b(client: FlaskClient) -> dict[str, Any]:
    answer = client.post(f"{API}/{B}/claim", json={"size": 1})
    assert answer.status_code == 200 and answer.json, answer.json
    item: dict[str, Any] = answer.json[0]
    return item


def refused_through_a(world: World, call: Any) -> None:
    """``call(code)`` through A answers 404 and stores nothing; through B it works."""
    before = stored(world)
    crossed = call(A)
    assert crossed.status_code == 404, (crossed.status_code, crossed.get_data(as_text=True))
    assert crossed.json["error"] == "not_found"
    assert stored(world) == before
    assert_both_verify(world)
    own = call(B)
    assert own.status_code in (200, 302), (own.status_code, own.get_data(as_text=True))
    assert_both_verify(world)


EXAMINER_CALLS = {
    "mark": lambda c, code, h: c.post(f"{API}/{code}/responses/{h}/mark", json={"value": "2"}),
    "release": lambda c, code, h: c.post(f"{API}/{code}/responses/{h}/release", json={}),
    "flag": lambda c, code, h: c.post(
        f"{API}/{code}/responses/{h}/flag", json={"kind": "illegible", "note": "看不清"}
    ),
}


@pytest.mark.parametrize("operation", EXAMINER_CALLS, ids=list(EXAMINER_CALLS))
def test_an_examiner_cannot_act_through_one_session_on_what_they_hold_in_another(
    world: World, sessions: None, operation: str
) -> None:
    e1 = world.client("e1")
    handle = claim_in_b(e1)["response"]
    refused_through_a(world, lambda code: EXAMINER_CALLS[operation](e1, code, handle))
    # Nor through A by the row id the old URLs used.
    row = world.response_id(B, handle)
    assert EXAMINER_CALLS[operation](e1, A, str(row)).status_code == 404


def test_an_image_is_shown_only_through_its_own_session(world: World, sessions: None) -> None:
    e1, lead = world.client("e1"), world.client("lead")
    handle = claim_in_b(e1)["response"]
    digest, row = hashlib.sha256(PNG).hexdigest(), world.response_id(B, handle)
    with world.tx() as db:  # as intake would have stored a scanned answer
        db.add(Image(sha256=digest, media_type="image/png", size=len(PNG), content=PNG))
        db.flush()
        db.execute(update(Response).where(Response.id == row).values(image_sha256=digest))
    for client in (e1, lead):
        crossed = client.get(f"{API}/{A}/responses/{handle}/image")
        assert crossed.status_code == 404 and PNG not in crossed.data
        own = client.get(f"{API}/{B}/responses/{handle}/image")
        assert own.status_code == 200 and own.data == PNG
    assert_both_verify(world)


def test_the_lead_cannot_resolve_through_one_session_an_anomaly_of_another(
    world: World, sessions: None
) -> None:
    e1, lead = world.client("e1"), world.client("lead")
    handle = claim_in_b(e1)["response"]
    flagged = e1.post(f"{API}/{B}/responses/{handle}/flag", json={"kind": "blank", "note": ""})
    assert flagged.status_code == 200
    anomaly = flagged.json["anomaly"]

    def resolve(code: str) -> Any:
        return lead.post(
            f"{API}/{code}/anomalies/{anomaly}/resolve",
            json={"resolution": "final", "value": "0", "note": "空白卷"},
        )

    refused_through_a(world, resolve)


def test_the_lead_cannot_arbitrate_through_one_session_what_awaits_in_another(
    world: World, sessions: None
) -> None:
    lead = world.client("lead")
    values = {"e1": lambda i: "0", "e2": lambda i: i["max"], "e3": lambda i: "3"}
    clients = {u: world.client(u) for u in values}
    for _round in range(3):
        for name, client in clients.items():
            for item in client.post(f"{API}/{B}/claim", json={"size": 20}).json:
                client.post(
                    f"{API}/{B}/responses/{item['response']}/mark",
                    json={"value": values[name](item)},
                )
    tasks = lead.get(f"{API}/{B}/arbitrations").json
    assert tasks, "expected a response awaiting arbitration in B"
    handle = tasks[0]["response"]

    def arbitrate(code: str) -> Any:
        return lead.post(
            f"{API}/{code}/responses/{handle}/arbitrate", json={"value": "2", "reason": "按细则"}
        )

    refused_through_a(world, arbitrate)
    # The page's form posts to the same check.
    assert (
        lead.post(
            f"/lead/sessions/{A}/responses/{handle}/arbitrate", data={"value": "2"}
        ).status_code
        == 404
    )
