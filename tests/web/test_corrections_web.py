"""Corrections over HTTP (R6, 第七条(八)): "correct my last mark" for the examiner, the lead's
correction page and API; refusals in the reader's language, beside their field."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from marking.store.models import Response, ResponseState
from tests.web.conftest import World
from tests.web.test_examiner_and_lead import API, claim, mark, row_ids


def mark_theory_2(world: World, client: FlaskClient, code: str, value: str) -> dict[str, Any]:
    """The examiner claims until they hold a theory question 2 and marks it; hands back
    nothing else (the rest stays held: tests only look at this one)."""
    for item in claim(client, code, size=20):
        if item["component"] == "theory" and item["question"] == "2":
            assert mark(client, code, item["response"], value).status_code == 200
            return item
    raise AssertionError("no theory question 2 to mark")


def test_an_examiner_corrects_their_last_mark_until_it_is_final(world: World) -> None:
    """R6, 第七条(八): the examiner's own correction before the final, refused after it."""
    world.session("CO-1", n=1)
    e1, e2 = world.client("e1"), world.client("e2")
    item = mark_theory_2(world, e1, "CO-1", "1")
    last = e1.get(f"{API}/CO-1/my-last-mark").json
    assert last["response"] == item["response"]
    assert (last["question"], last["value"], last["component_name"]) == ("2", "1", "理论知识")
    # The paper is named as the marking screen named it: the mark corrected need not be the
    # one just given (a mark whose response is final is the lead's to correct).
    assert last["script_code"] == item["script_code"]
    assert not row_ids(last)

    url = f"{API}/CO-1/responses/{item['response']}/correct"
    no_reason = e1.post(url, json={"value": "3", "reason": " "})
    assert no_reason.status_code == 422 and "更正须填写原因" in no_reason.json["detail"]
    off_step = e1.post(url, json={"value": "3.2", "reason": "笔误"})
    assert off_step.status_code == 422 and "为一档" in off_step.json["detail"]
    not_mine = e2.post(url, json={"value": "3", "reason": "笔误"})
    assert not_mine.status_code == 404  # e2 gave no mark there: nothing tells them more
    done = e1.post(url, json={"value": "3", "reason": "笔误"})
    assert done.status_code == 200
    # Told it was recorded, not what the response's state became (R3).
    assert done.json == {"response": item["response"], "corrected": True, "value": "3"}

    mark_theory_2(world, e2, "CO-1", "3")  # agrees with the corrected 3: final
    assert e1.get(f"{API}/CO-1/my-last-mark").json is None
    late = e1.post(url, json={"value": "2", "reason": "笔误"})
    assert late.status_code == 409 and "只有考评组长可以更正" in late.json["detail"]
    page = e1.get("/examiner/sessions/CO-1/mark").get_data(as_text=True)
    assert "更正我的上一个评分" in page and "F4" in page


def test_the_lead_corrects_on_the_correction_page_and_over_the_api(world: World) -> None:
    """DESIGN §14: after the final only the lead corrects; the form is confirmed, a refusal
    comes back beside its field with the input kept; the final is recomputed."""
    world.session("CO-2", n=1)
    e1, e2, lead = world.client("e1"), world.client("e2"), world.client("lead")
    item = mark_theory_2(world, e1, "CO-2", "3")
    mark_theory_2(world, e2, "CO-2", "3")
    code = item["script_code"]
    # Typed by hand, in lower case: found all the same (codes are upper case).
    page = lead.get(f"/lead/sessions/CO-2/corrections?script={code.lower()}&question=theory/2")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "已定分" in text and "e1" in text and "两评相符" in text
    missing = lead.get(f"/lead/sessions/CO-2/corrections?script={code}&question=theory/9")
    assert "理论知识 第 9 题" in missing.get_data(as_text=True)  # the name, not theory/9
    form = {"handle": item["response"], "examiner": "e1", "value": "4", "reason": "复核"}
    unconfirmed = lead.post("/lead/sessions/CO-2/corrections", data=form)
    assert unconfirmed.status_code == 422
    assert "请勾选确认" in unconfirmed.get_data(as_text=True)
    bad = lead.post("/lead/sessions/CO-2/corrections", data={**form, "value": "9", "confirm": "1"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'id="value-error"' in body and 'value="9"' in body and 'value="复核"' in body
    done = lead.post("/lead/sessions/CO-2/corrections", data={**form, "confirm": "1"})
    assert done.status_code == 302
    chosen = world.response_id("CO-2", item["response"])
    with world.tx() as db:
        response = db.get(Response, chosen)
        assert response is not None and response.state is ResponseState.FINAL
        assert str(response.final) == "3.5"

    seen = lead.get(f"{API}/CO-2/response-marks", query_string={"handle": item["response"]}).json
    assert [(m["examiner"], m["given"], m["value"]) for m in seen["marks"]] == [
        ("e1", "3", "4"),
        ("e2", "3", "3"),
    ]
    assert not row_ids(seen)
    api = lead.post(
        f"{API}/CO-2/responses/{item['response']}/corrections",
        json={"examiner": "e2", "value": "6", "reason": "复核"},
    )
    assert api.status_code == 200
    assert api.json == {"response": item["response"], "state": "open", "final": None}
    assert world.client("e1").get("/lead/sessions/CO-2/corrections").status_code == 403
