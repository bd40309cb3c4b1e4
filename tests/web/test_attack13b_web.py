"""The group chosen to mark, over HTTP (issue 13): a key of another session's group is
not found on the API and on the marking screen, and nothing is held after the refusal."""

from __future__ import annotations

from sqlalchemy import update

from marking.store.models import MarkingGroup
from tests.web.conftest import World
from tests.web.test_examiner_and_lead import API


def test_another_sessions_group_key_is_not_found_and_nothing_is_held(world: World) -> None:
    world.session("GK-1", n=4)
    other = world.session("GK-2", n=4)
    with world.tx() as db:
        db.execute(
            update(MarkingGroup)
            .where(MarkingGroup.session_id == other.exam.id, MarkingGroup.key == "prac")
            .values(key="only-there")
        )
    e1 = world.client("e1")
    refused = e1.post(f"{API}/GK-1/claim", json={"group": "only-there", "size": 5})
    assert refused.status_code == 404
    assert e1.get(f"{API}/GK-1/held").json == []
    assert e1.get(f"{API}/GK-2/held").json == []
    assert e1.get("/examiner/sessions/GK-1/mark?group=only-there").status_code == 404
    # A key given as a list is refused as bad input, nothing claimed.
    assert e1.post(f"{API}/GK-1/claim", json={"group": ["short"]}).status_code == 422
    assert e1.get(f"{API}/GK-1/held").json == []
    # In its own session the key gives that group's work.
    got = e1.post(f"{API}/GK-2/claim", json={"group": "only-there", "size": 2}).json
    assert len(got) == 2 and {i["group"] for i in got} == {"only-there"}
