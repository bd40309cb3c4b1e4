"""The examiner's and the lead's work over HTTP: marking, refusals a person can act on,
anomalies, arbitration; and blindness: nothing they can reach names a candidate."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import update

from marking.demo import synthetic
from marking.store.models import Anomaly, Lease, LeaseState, Response, ResponseState
from tests.integration.factory import TINY_TOML
from tests.integration.test_blindness import find_leaks, needles
from tests.web.conftest import World

API = "/api/v1/sessions"
HANDLE = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def row_ids(data: Any, where: str = "") -> list[str]:
    """Where a JSON answer carries a row id (an ``id`` or ``..._id`` field)."""
    found = []
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "id" or key.endswith("_id"):
                found.append(f"{where}.{key}")
            found += row_ids(value, f"{where}.{key}")
    elif isinstance(data, list):
        for n, value in enumerate(data):
            found += row_ids(value, f"{where}[{n}]")
    return found


def claim(client: FlaskClient, code: str, size: int = 1) -> list[dict[str, Any]]:
    answer = client.post(f"{API}/{code}/claim", json={"size": size})
    assert answer.status_code == 200, answer.json
    items: list[dict[str, Any]] = answer.json
    return items


def mark(client: FlaskClient, code: str, handle: str, value: object) -> Any:
    return client.post(f"{API}/{code}/responses/{handle}/mark", json={"value": value})


def test_marking_over_http_with_refusals_a_person_can_act_on(world: World) -> None:
    world.session("EX-1")
    e1 = world.client("e1")
    page = e1.get("/examiner/").get_data(as_text=True)
    assert "EX-1" in page and "简答题" in page
    item = claim(e1, "EX-1")[0]
    assert {"text", "reference", "scheme", "max", "step", "script_code"} <= item.keys()

    refused = mark(e1, "EX-1", item["response"], "99")
    assert refused.status_code == 422
    assert refused.json["error"] == "invalid_mark"
    assert "须在 0 到" in refused.json["detail"]  # translated (zh-CN by default)
    off_step = mark(e1, "EX-1", item["response"], "0.3")
    assert off_step.status_code == 422 and "为一档" in off_step.json["detail"]
    assert mark(e1, "EX-1", item["response"], "abc").status_code == 422

    done = mark(e1, "EX-1", item["response"], "1")
    assert done.status_code == 200
    # The examiner learns that the mark was taken, and nothing of the reconciliation.
    assert done.json == {"response": item["response"], "recorded": True}
    again = mark(e1, "EX-1", item["response"], "1")
    assert again.status_code == 409 and again.json["error"] == "lease_lost"
    assert "已评过此答题" in again.json["detail"]  # the refusal in the reader's language

    # A lease that ran out: the mark is refused, saying so, and nothing is stored.
    nxt = claim(e1, "EX-1")[0]
    nxt_id = world.response_id("EX-1", nxt["response"])
    with world.tx() as db:
        db.execute(
            update(Lease)
            .where(Lease.response_id == nxt_id, Lease.state == LeaseState.HELD)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    lost = mark(e1, "EX-1", nxt["response"], "1")
    assert lost.status_code == 409 and lost.json["error"] == "lease_lost"
    assert "到期" in lost.json["detail"]  # expired, said in the reader's language


def test_flag_goes_to_the_lead_who_resolves_it(world: World) -> None:
    world.session("EX-2")
    e1, lead = world.client("e1"), world.client("lead")
    item = claim(e1, "EX-2")[0]
    bad = e1.post(f"{API}/EX-2/responses/{item['response']}/flag", json={"kind": "nonsense"})
    assert bad.status_code == 422 and "illegible" in bad.json["detail"]
    flagged = e1.post(
        f"{API}/EX-2/responses/{item['response']}/flag",
        json={"kind": "illegible", "note": "字迹模糊"},
    )
    assert flagged.status_code == 200
    inbox = lead.get(f"{API}/EX-2/anomalies").json
    assert [a["note"] for a in inbox] == ["字迹模糊"]
    page = lead.get("/lead/sessions/EX-2/anomalies").get_data(as_text=True)
    assert "字迹模糊" in page and item["text"] in page
    # The key correction names the objective question, not its key (theory/1).
    assert "理论知识 第 1 题" in page and ">theory/" not in page
    no_reason = lead.post(
        f"{API}/EX-2/anomalies/{inbox[0]['anomaly']}/resolve",
        json={"resolution": "final", "note": ""},
    )
    assert no_reason.status_code == 422
    # In the browser a refusal comes back on the inbox, in words, beside its report, with
    # what was typed kept; nothing is stored.
    no_mark = lead.post(
        f"/lead/sessions/EX-2/anomalies/{inbox[0]['anomaly']}/resolve",
        data={"resolution": "final", "value": "", "note": "图像模糊，给最终分"},
    )
    refused = no_mark.get_data(as_text=True)
    assert no_mark.status_code == 422 and "定为最终分需要分数" in refused
    assert 'value="图像模糊，给最终分"' in refused and '<option value="final" selected>' in refused
    assert lead.get(f"{API}/EX-2/anomalies").json[0]["note"] == "字迹模糊"  # still open
    no_key_reason = lead.post(
        "/lead/sessions/EX-2/key-corrections",
        data={"question": "theory/1", "answer": "C", "reason": " "},
    )
    refused = no_key_reason.get_data(as_text=True)
    assert no_key_reason.status_code == 422 and "更正标准答案需要填写理由" in refused
    assert 'value="C"' in refused and '<option value="theory/1" selected>' in refused
    resolved = lead.post(
        f"/lead/sessions/EX-2/anomalies/{inbox[0]['anomaly']}/resolve",
        data={"resolution": "final", "value": "2", "note": "看不清，按空白处理前先给分"},
    )
    assert resolved.status_code == 302
    assert lead.get(f"{API}/EX-2/anomalies").json == []
    # Sent again (a second tab): said on the inbox, though the report is listed no more.
    again = lead.post(
        f"/lead/sessions/EX-2/anomalies/{inbox[0]['anomaly']}/resolve",
        data={"resolution": "requeue", "note": "再次提交"},
    )
    assert again.status_code == 409 and "该异常报告已经处理过了" in again.get_data(as_text=True)
    anomaly_id = world.anomaly_id("EX-2", inbox[0]["anomaly"])
    with world.tx() as db:
        anomaly = db.get(Anomaly, anomaly_id)
        assert anomaly is not None
        assert anomaly.resolution is not None and str(anomaly.final_value) == "2"


def test_lead_arbitrates_seeing_the_marks_not_the_candidate(world: World) -> None:
    world.session("EX-3")
    clients = {u: world.client(u) for u in ("e1", "e2", "e3")}
    # Each examiner marks every response they get: 0, max and the middle, so the tiny
    # paper's responses go to a third mark and then to arbitration.
    values = {"e1": lambda i: "0", "e2": lambda i: i["max"], "e3": lambda i: "3"}
    for _round in range(3):
        for name, client in clients.items():
            for item in claim(client, "EX-3", size=20):
                assert mark(client, "EX-3", item["response"], values[name](item)).status_code == 200
    lead = world.client("lead")
    tasks = lead.get(f"{API}/EX-3/arbitrations").json
    assert tasks, "expected responses awaiting arbitration"
    task = tasks[0]
    assert len(task["marks"]) == 3
    page = lead.get("/lead/sessions/EX-3/arbitration").get_data(as_text=True)
    assert task["script_code"] in page
    refused = lead.post(
        f"/lead/sessions/EX-3/responses/{task['response']}/arbitrate",
        data={"value": "100", "reason": ""},
    )
    assert refused.status_code == 422
    done = lead.post(
        f"/lead/sessions/EX-3/responses/{task['response']}/arbitrate",
        data={"value": "2", "reason": "按评分细则"},
    )
    assert done.status_code == 302
    chosen = world.response_id("EX-3", task["response"])
    with world.tx() as db:
        response = db.get(Response, chosen)
        assert response is not None and response.state is ResponseState.FINAL
        assert str(response.final) == "2"


def test_nothing_an_examiner_or_the_lead_can_reach_names_a_candidate(world: World) -> None:
    tiny = world.session("BLIND-W", n=30, seed=77)
    wanted = needles(
        tiny.candidates,
        TINY_TOML + "考评员e1考评员e2考评员e3" + "".join(synthetic.SUBJECTIVE_SNIPPETS),
    )
    seen: list[bytes] = []

    def get(client: FlaskClient, path: str) -> Any:
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        seen.append(answer.data)
        return answer

    def post(client: FlaskClient, path: str, payload: dict[str, Any]) -> Any:
        answer = client.post(path, json=payload)
        seen.append(answer.data)
        return answer

    e1, e2, lead = world.client("e1"), world.client("e2"), world.client("lead")
    for client in (e1, e2):
        for path in ("/examiner/", "/examiner/sessions/BLIND-W/mark", "/lead/", "/account"):
            get(client, path)
        items = post(client, f"{API}/BLIND-W/claim", {"size": 8}).json
        get(client, f"{API}/BLIND-W/held")
        get(client, f"{API}/BLIND-W/mine")
        get(client, "/api/v1/sessions")
        get(client, "/api/v1/me")
        for n, item in enumerate(items):
            if n == 0:
                post(
                    client,
                    f"{API}/BLIND-W/responses/{item['response']}/flag",
                    {"kind": "other", "note": "?"},
                )
            elif n == 1:
                post(client, f"{API}/BLIND-W/responses/{item['response']}/release", {})
            else:
                post(
                    client,
                    f"{API}/BLIND-W/responses/{item['response']}/mark",
                    {"value": "0" if client is e1 else item["max"]},
                )
        # "Correct my last mark" (R6): what it shows, and a correction.
        last = get(client, f"{API}/BLIND-W/my-last-mark").json
        if last:
            post(
                client,
                f"{API}/BLIND-W/responses/{last['response']}/correct",
                {"value": "0.5", "reason": "笔误"},
            )
    for path in (
        "/lead/",
        "/lead/sessions/BLIND-W",
        "/lead/sessions/BLIND-W/anomalies",
        "/lead/sessions/BLIND-W/arbitration",
        "/lead/sessions/BLIND-W/corrections",
        f"/lead/sessions/BLIND-W/corrections?handle={items[-1]['response']}",
        f"{API}/BLIND-W/response-marks?handle={items[-1]['response']}",
        f"{API}/BLIND-W/scheme",
        f"{API}/BLIND-W/anomalies",
        f"{API}/BLIND-W/arbitrations",
        f"{API}/BLIND-W/progress",
        "/api/v1/sessions",
    ):
        get(lead, path)
    # Links found on the pages lead somewhere too: follow every same-site one.
    links = {
        href
        for body in list(seen)
        for href in re.findall(rb'href="(/[^"]*)"', body)
        if not href.startswith((b"/static/", b"/lang/"))
    }
    for client in (e1, lead):
        for href in links:
            answer = client.get(href.decode())
            seen.append(answer.data)
    haystack = b"\n".join(seen)
    assert len(haystack) > 10_000
    leaks = find_leaks(haystack, wanted)
    assert not leaks, leaks[:5]
    # The crawl did see candidates' work, just not who wrote it.
    assert re.search(rb"c\d+ (theory|skills)", haystack)
    # Blind means unlinkable too: responses and anomaly reports are addressed by opaque
    # handles; no sequential row id reaches an examiner or the lead, in JSON or on a page.
    for body in seen:
        try:
            data = json.loads(body)
        except ValueError:
            continue
        assert not row_ids(data), (row_ids(data), body[:300])
    addresses = re.findall(rb'/(?:responses|anomalies)/([^/"\s]+)/', haystack)
    anchors = re.findall(rb'id="(?:task|anomaly)-([^"]+)"', haystack)
    assert addresses and anchors, "the crawl should have met response and anomaly addresses"
    assert all(HANDLE.fullmatch(a.decode()) for a in addresses + anchors), addresses + anchors


def test_an_examiners_progress_does_not_tell_whether_their_mark_agreed(world: World) -> None:
    """Before, the examiner's page counted the group's final responses: it went up the moment
    a second examiner's mark agreed with theirs, and so told them how the other marked."""
    world.session("PROG-1", n=1)
    e1, e2 = world.client("e1"), world.client("e2")
    for item in claim(e1, "PROG-1", size=20):
        if item["group"] == "short":
            handle = item["response"]
            assert mark(e1, "PROG-1", handle, "2").status_code == 200
        else:
            e1.post(f"{API}/PROG-1/responses/{item['response']}/release", json={})

    def progress() -> tuple[Any, str]:
        mine = e1.get(f"{API}/PROG-1/mine").json["groups"]
        page = e1.get("/examiner/").get_data(as_text=True)
        table = re.search(r"<table>.*?</table>", page, re.S)
        assert table is not None
        return mine, table.group(0)

    before = progress()
    assert [(g["key"], g["my_marks"]) for g in before[0]] == [("short", 1), ("prac", 0)]
    for item in claim(e2, "PROG-1", size=20):
        if item["response"] == handle:  # the same answer, marked the same: it is final now
            assert mark(e2, "PROG-1", handle, "2").status_code == 200
        else:
            e2.post(f"{API}/PROG-1/responses/{item['response']}/release", json={})
    row = world.response_id("PROG-1", handle)
    with world.tx() as db:
        final = db.get(Response, row)
        assert final is not None and final.state is ResponseState.FINAL
    assert progress() == before


def test_an_examiner_holds_at_most_a_groups_limit_over_http(world: World) -> None:
    world.session("HOLD-1", n=25)  # 25 responses in each group; the limit is 20 a group
    e1 = world.client("e1")
    first = claim(e1, "HOLD-1", size=100)
    assert [sum(1 for i in first if i["group"] == g) for g in ("short", "prac")] == [20, 20]
    again = e1.post(f"{API}/HOLD-1/claim", json={"size": 100})
    assert again.status_code == 409 and again.json["error"] == "hold_limit"
    # In the examiner's language, the groups by the names they know, not by key.
    detail = again.json["detail"]
    assert "简答题 (20)、实操题 (20)" in detail and "请先评完或退回" in detail
    assert "short" not in detail and "hold" not in detail
    assert len(e1.get(f"{API}/HOLD-1/held").json) == 40


def test_the_one_group_marking_page_resumes_only_that_groups_work(world: World) -> None:
    world.session("HELD-G", n=6)
    e1 = world.client("e1")
    taken = e1.post(f"{API}/HELD-G/claim", json={"size": 3, "group": "prac"})
    assert taken.status_code == 200 and {i["group"] for i in taken.json} == {"prac"}
    page = e1.get("/examiner/sessions/HELD-G/mark?group=short").get_data(as_text=True)
    assert "您现在只评 简答题" in page
    found = re.search(r'data-held-url="([^"]+)"', page)
    assert found is not None
    # The page says "marking only 简答题": it resumes none of the 实操题 held.
    assert e1.get(found.group(1).replace("&amp;", "&")).json == []
    assert len(e1.get(f"{API}/HELD-G/held?group=prac").json) == 3
    assert len(e1.get(f"{API}/HELD-G/held").json) == 3  # all groups' page: all of it
    assert e1.get(f"{API}/HELD-G/held?group=nope").status_code == 404
