"""Blindness (R1, R8) over issue 12's screens, crawled: a level-2 session marked to the end,
its violations (one on its own, one collective) and the panel's interview scores entered in
the browser, an examiner's own conflict declared; then every role follows every link it is
shown before publication. No page or API answer names a candidate (name, ID number, exam
number), and none shows a score or a violation's reason as it was entered."""

from __future__ import annotations

import re
from collections import deque

from flask.testing import FlaskClient

from tests.web.conftest import World
from tests.web.test_records_screens import assert_blind, level_two

CODE = "GOV-CRAWL"
HOMES = {
    "e1": "/examiner/",
    "s1": "/examiner/",
    "lead": "/lead/",
    "director": "/director/",
    "centre": "/centre/",
    "office": "/office/",
}
LINK = re.compile(r'href="(/[^"#]*)')


def _crawl(client: FlaskClient, start: str, limit: int = 80) -> dict[str, str]:
    """The pages (HTML and JSON) reached from ``start`` by following links, GET only."""
    seen, bodies, queue = {start}, {}, deque([start, "/account", "/api/v1/me"])
    while queue and len(bodies) < limit:
        path = queue.popleft()
        answer = client.get(path)
        if answer.mimetype not in ("text/html", "application/json"):
            continue
        body = answer.get_data(as_text=True)
        bodies[path] = body
        for link in LINK.findall(body):
            if link.startswith(("/static/", "/lang/")) or link in seen:
                continue
            seen.add(link)
            queue.append(link)
    return bodies


def test_no_governance_screen_names_a_candidate_before_publication(world: World) -> None:
    tiny = level_two(world, CODE, n=4)
    c1, c2, c3, c4 = (c.exam_no for c in tiny.candidates)
    office = world.client("office")
    for data in (
        {"exam_no": c1, "component": "theory", "action": "warning", "reason": "夹带纸条"},
        {"exam_no": f"{c2} {c3}", "component": "skills", "action": "void", "reason": "集体舞弊",
         "collective": "G-CRAWL"},
    ):  # fmt: skip
        entered = office.post(
            f"/office/sessions/{CODE}/records/violations", data={**data, "decided_by": "lead"}
        )
        assert entered.status_code == 302, entered.get_data(as_text=True)
    scores = {c1: "83.5", c2: "61.25", c3: "77.75", c4: "58.5"}
    for member in ("s1", "s2", "s3"):
        panel = world.client(member)
        for exam_no, score in scores.items():
            sent = panel.post(
                f"/examiner/sessions/{CODE}/interview", data={"exam_no": exam_no, "score": score}
            )
            assert sent.status_code == 302, member
    declared = world.client("e2").post(
        "/account/conflicts",
        data={"session": CODE, "id_number": tiny.candidates[0].id_number, "relation": "relative"},
    )
    assert declared.status_code in (200, 302)

    reached: dict[str, dict[str, str]] = {}
    for user, home in HOMES.items():
        reached[user] = _crawl(world.client(user), home)
        shown = "\n".join(reached[user].values())
        assert_blind(shown, tiny, "夹带纸条", "集体舞弊", *scores.values())
    # The crawl met the new screens: the panel's score page, the office's records, the
    # centre's waiting collective, the lead's corrections, the examiner's declarations.
    assert f"/examiner/sessions/{CODE}/interview" in reached["s1"]
    assert f"/office/sessions/{CODE}/records" in reached["office"]
    assert "G-CRAWL" in reached["centre"]["/centre/"]
    assert f"/lead/sessions/{CODE}/corrections" in reached["lead"]
    assert "回避" in reached["e1"]["/account"]
