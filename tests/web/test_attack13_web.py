"""Attacks over HTTP on checks (issue 13): an examiner comparing what a claim returned with
what a reload shows, to find the item that moved."""

from __future__ import annotations

from tests.web.conftest import World
from tests.web.test_checks_web import is_check, set_rates
from tests.web.test_examiner_and_lead import API, claim, mark


def test_a_reload_shows_the_batch_in_the_order_the_claim_gave(world: World) -> None:
    """A check placed elsewhere on reload than in the claim is the one item that moved."""
    world.session("ATW-1", n=40, examiners=("e1", "e2"))
    set_rates(world, "ATW-1", remark="0.5")
    e1 = world.client("e1")
    checked = 0
    for _ in range(40):
        batch = claim(e1, "ATW-1", size=5)
        held = e1.get(f"{API}/ATW-1/held").json or []
        assert [h["response"] for h in held] == [b["response"] for b in batch]
        checked += any(is_check(world, "ATW-1", b["response"]) for b in batch)
        if checked >= 3:
            break
        for item in batch:
            assert mark(e1, "ATW-1", item["response"], "1").status_code == 200
    assert checked >= 3
