"""Blindness of a scanned session over HTTP (DESIGN §12: examiners see only the answer box of
their question, never the header, the serial or another question's box).

A crawl as every examiner, the lead and the director of a scanned session (tests/web/
scan_world.py) while one of its scan batches is still open: every page and API answer they
can reach, every link on them, every claim, held list, anomaly and arbitration, and every
response image. Nothing they receive names a candidate, carries a sheet serial, a header
crop or a bubble-row crop; each image is exactly the cut box of that response, of a question
of the examiner's own group; a blank box says so. No scan or quarantine route answers them.
The log of the scan and the office's resolutions names no one, and once the last batch is
closed no identity is left in the database in clear.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from marking.paper.closing import close_batch
from marking.paper.quarantine import item_crop, list_quarantine
from marking.store.db import scrub_wal
from marking.store.models import ExamSession, Image, Response, ScanBatch
from tests.conftest import PG_URL
from tests.integration.factory import TINY_TOML
from tests.integration.scan_support import ScanRoom
from tests.integration.test_blindness import find_leaks, needles
from tests.integration.test_scan_blindness import dump_clear_columns
from tests.web.conftest import World
from tests.web.scan_world import GROUP_OF, TEAMS, Cut, Scanned, scanned_session

API = "/api/v1/sessions"
CODE = "SCAN-W"
EXAMINERS = ("e1", "e2", "e3", "e4")
VALUES = {"e1": "0", "e2": "0", "e3": "max", "e4": "3"}  # far apart: arbitration follows
BLANK_NOTE = 'class="flash blank"'

# Every way the web might offer a scan batch, a file, a quarantine item or its crop: for the
# office only. Patterns of the office scan screens (branch scan-web) and of a JSON API for
# them; the crawl adds every rule of the app whose path names scans, quarantine or crops, so
# a route added later is tried without editing this list. Extend it for new URL shapes.
SCAN_ROUTE_PATTERNS = (
    "/office/sessions/{code}/scans",
    "/office/sessions/{code}/scans/{batch}",
    "/office/sessions/{code}/scans/{batch}/files",
    "/office/sessions/{code}/scans/{batch}/quarantine",
    "/office/sessions/{code}/scans/{batch}/quarantine/{item}",
    "/office/sessions/{code}/scans/{batch}/quarantine/{item}/crop",
    "/office/sessions/{code}/scans/{batch}/close",
    "/office/sessions/{code}/quarantine",
    "/office/sessions/{code}/quarantine/{item}",
    "/office/sessions/{code}/quarantine/{item}/crop",
    "/api/v1/sessions/{code}/scans",
    "/api/v1/sessions/{code}/scans/{batch}",
    "/api/v1/sessions/{code}/scans/{batch}/tally",
    "/api/v1/sessions/{code}/scans/{batch}/quarantine",
    "/api/v1/sessions/{code}/scans/{batch}/close",
    "/api/v1/sessions/{code}/scan-batches",
    "/api/v1/sessions/{code}/scan-batches/{batch}",
    "/api/v1/sessions/{code}/quarantine",
    "/api/v1/sessions/{code}/quarantine/{item}",
    "/api/v1/sessions/{code}/quarantine/{item}/crop",
    "/api/v1/sessions/{code}/quarantine/{item}/resolve",
)
SCAN_RULE = re.compile(r"scan|quarantine|crop")
NOT_REACHED = (403, 404, 405)


@dataclass
class Seen:
    """What one user received: every body, and each response image beside its item."""

    bodies: list[bytes] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)
    images: list[tuple[dict[str, Any], bytes]] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)

    def get(self, client: FlaskClient, path: str, *, ok: bool = True) -> Any:
        answer = client.get(path)
        if ok:
            assert answer.status_code == 200, (path, answer.status_code)
        self.bodies.append(answer.data)
        if answer.mimetype == "text/html":
            self.pages[path] = answer.get_data(as_text=True)
        return answer

    def post(self, client: FlaskClient, path: str, payload: dict[str, Any]) -> Any:
        answer = client.post(path, json=payload)
        self.bodies.append(answer.data)
        return answer

    def shown(self, client: FlaskClient, items: list[dict[str, Any]]) -> None:
        """Responses as shown (claimed, held, flagged, to arbitrate) and their images."""
        for item in items:
            self.items.append(item)
            if item.get("image_url"):
                image = self.get(client, item["image_url"])
                self.images.append((item, image.data))

    @property
    def haystack(self) -> bytes:
        return b"\n".join(self.bodies)


@pytest.fixture(scope="module")
def scanned(world: World) -> Scanned:
    return scanned_session(world, CODE)


@pytest.fixture(scope="module")
def crawl(world: World, scanned: Scanned) -> dict[str, Seen]:
    """Examiners mark (one flags), the lead and the director look; every link followed."""
    clients = {u: world.client(u) for u in (*EXAMINERS, "lead", "director")}
    seen = {u: Seen() for u in clients}
    for _round in range(3):
        for user in EXAMINERS:
            _examiner_round(user, clients[user], seen[user], flag=_round == 0 and user == "e1")
    lead, s = clients["lead"], seen["lead"]
    for path in ("/lead/", f"/lead/sessions/{CODE}", f"/lead/sessions/{CODE}/anomalies",
                 f"/lead/sessions/{CODE}/arbitration", f"{API}/{CODE}/scheme",
                 f"{API}/{CODE}/progress", API, "/api/v1/me", "/account"):  # fmt: skip
        s.get(lead, path)
    s.shown(lead, s.get(lead, f"{API}/{CODE}/anomalies").json)
    s.shown(lead, s.get(lead, f"{API}/{CODE}/arbitrations").json)
    director, s = clients["director"], seen["director"]
    for path in ("/director/", f"/director/sessions/{CODE}", API, "/api/v1/me", "/account",
                 f"{API}/{CODE}/progress", f"{API}/{CODE}/publication"):  # fmt: skip
        s.get(director, path)
    s.get(director, f"/director/sessions/{CODE}/results", ok=False)
    for user, client in clients.items():  # links on the pages lead somewhere too
        links = {
            href.decode()
            for body in list(seen[user].bodies)
            for href in re.findall(rb'(?:href|src)="(/[^"]*)"', body)
            if not href.startswith((b"/static/", b"/lang/"))
        }
        for href in sorted(links):
            seen[user].get(client, href, ok=False)
    return seen


def _examiner_round(user: str, client: FlaskClient, s: Seen, *, flag: bool) -> None:
    for path in ("/examiner/", f"/examiner/sessions/{CODE}/mark", "/account", API,
                 "/api/v1/me", f"{API}/{CODE}/mine"):  # fmt: skip
        s.get(client, path)
    claimed = s.post(client, f"{API}/{CODE}/claim", {"size": 40}).json
    s.shown(client, claimed)
    s.shown(client, s.get(client, f"{API}/{CODE}/held").json)
    value = VALUES[user]
    for n, item in enumerate(claimed):
        if flag and n == 0:
            s.post(client, f"{API}/{CODE}/responses/{item['response']}/flag",
                   {"kind": "illegible", "note": "看不清"})  # fmt: skip
            continue
        mark = item["max"] if value == "max" else value
        done = s.post(client, f"{API}/{CODE}/responses/{item['response']}/mark", {"value": mark})
        assert done.status_code == 200, done.json


def _wanted(scanned: Scanned) -> dict[str, list[str]]:
    """Names, ID numbers, exam numbers (and the numbers read off the roster), serials."""
    public = TINY_TOML + "".join(f"考评员{u}" for u in EXAMINERS) + "看不清"
    wanted = needles(scanned.people, public)
    wanted["exam_no"] += ["99999999", "88888888"]
    wanted["serial"] = scanned.serials
    return wanted


def _crops(scanned: Scanned) -> list[bytes]:
    """The identity and office-only images: header crops, bubble-row crops, thumbnails."""
    return [*scanned.reader.headers, *scanned.reader.crops]


def test_the_crawl_met_the_scanned_work(crawl: dict[str, Seen], scanned: Scanned) -> None:
    for user in (*EXAMINERS, "lead"):
        assert crawl[user].images, f"{user} saw no response image"
    lead = crawl["lead"]
    assert any("anomaly" in i for i in lead.items) and any("marks" in i for i in lead.items)
    assert {i["component"] for i in crawl["e3"].items} == {"theory", "skills"}
    # room 1 theory, skills; room 2 (open); and the repeated page's, cut before its sheet is
    # looked up (pages are read outside the batch's lock) and then quarantined as repeated
    assert len(scanned.reader.boxes) == 6 + 6 + 3 + 1
    assert not crawl["director"].images


def test_nothing_reached_names_a_candidate_or_carries_a_serial_or_a_crop(
    crawl: dict[str, Seen], scanned: Scanned
) -> None:
    wanted = _wanted(scanned)
    crops = _crops(scanned)
    for user, s in crawl.items():
        haystack = s.haystack
        assert find_leaks(haystack, wanted) == [], user
        shown = [c[:40] for c in crops if c[8:] in haystack]
        assert not shown, (user, shown)
        assert b"HEADERCROP" not in haystack and b"ROWCROP" not in haystack, user


def test_an_examiners_images_are_the_boxes_of_their_own_groups_questions(
    world: World, crawl: dict[str, Seen], scanned: Scanned
) -> None:
    for user in EXAMINERS:
        s = crawl[user]
        groups = {g for g, team in TEAMS.items() if user in team}
        mine = {c for c, g in GROUP_OF.items() if g in groups}
        for item, data in s.images:
            cut = _cut_of(world, scanned, item, data)
            assert cut.component in mine, (user, cut)
        others = [png for png, cut in scanned.reader.boxes.items() if cut.component not in mine]
        assert not [png for png in others if png[8:] in s.haystack], user


def test_the_leads_images_are_the_boxes_of_those_responses(
    world: World, crawl: dict[str, Seen], scanned: Scanned
) -> None:
    for item, data in crawl["lead"].images:
        _cut_of(world, scanned, item, data)


def _cut_of(world: World, scanned: Scanned, item: dict[str, Any], data: bytes) -> Cut:
    """The one cut box ``data`` is, checked to be the stored image of the item's response,
    for its component and question; the blank flag shown agrees with the cut."""
    assert data in scanned.reader.boxes, data[:40]
    cut = scanned.reader.boxes[data]
    assert (cut.component, cut.question) == (item["component"], item["question"])
    assert item["blank"] is cut.blank, (item, cut)
    with world.tx() as db:
        response = db.get(Response, world.response_id(CODE, item["response"]))
        assert response is not None and response.image_sha256 is not None
        assert response.image_sha256 == hashlib.sha256(data).hexdigest()
        image = db.get(Image, response.image_sha256)
        assert image is not None and bytes(image.content) == data
    return cut


def test_a_blank_box_is_shown_as_blank_to_the_examiner_and_the_lead(
    crawl: dict[str, Seen], scanned: Scanned
) -> None:
    blank = {png for png, cut in scanned.reader.boxes.items() if cut.blank}
    assert len(blank) == 2  # theory c3 and skills c4
    for user in EXAMINERS:
        for item in crawl[user].items:
            assert isinstance(item["blank"], bool)
    claimed_blank = [i for u in EXAMINERS for i, d in crawl[u].images if d in blank]
    assert claimed_blank and all(i["blank"] for i in claimed_blank)
    lead = crawl["lead"]
    pages = (
        lead.pages[f"/lead/sessions/{CODE}/anomalies"]
        + lead.pages[f"/lead/sessions/{CODE}/arbitration"]
    )
    shown = [i for i in lead.items if i["blank"]]
    assert shown, "a blank box should be among the lead's anomalies or arbitrations"
    # The anomaly inbox lists every report; arbitration shows one response at a time, the
    # first of the list.
    anomalies = [i for i in lead.items if "anomaly" in i]
    arbitrations = [i for i in lead.items if "marks" in i]
    on_pages = sum(i["blank"] for i in anomalies) + sum(i["blank"] for i in arbitrations[:1])
    assert pages.count(BLANK_NOTE) == on_pages


def _scan_urls(world: World, scanned: Scanned) -> list[tuple[str, str]]:
    """(method, URL) for every scan route pattern and app rule, over every batch and item."""
    with world.tx() as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.code == CODE)).one()
        items = [r.id for r in list_quarantine(db, exam, settled=True)]
    batches = list(scanned.batches.values())
    shapes = {(m, p) for p in SCAN_ROUTE_PATTERNS for m in ("GET", "POST")}
    for rule in world.app.url_map.iter_rules():
        if SCAN_RULE.search(rule.rule):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            path = path.replace("{batch_id}", "{batch}").replace("{item_id}", "{item}")
            shapes |= {(m, path) for m in rule.methods or () if m in ("GET", "POST")}
    urls = []
    for method, shape in sorted(shapes):
        for batch in batches if "{batch}" in shape else [0]:
            for item in items if "{item}" in shape else [0]:
                values = {"code": CODE, "batch": batch, "item": item, "component": "theory"}
                urls.append((method, _fill(shape, values)))
    return urls


def _fill(shape: str, values: dict[str, object]) -> str:
    """A route shape's ``{name}`` parts filled in (``x`` for a name not known here)."""
    return re.sub(r"{(\w+)}", lambda m: str(values.get(m[1], "x")), shape)


@pytest.mark.parametrize("user", [*EXAMINERS, "lead", "director"])
def test_no_scan_or_quarantine_route_answers_examiners_the_lead_or_the_director(
    world: World, scanned: Scanned, user: str
) -> None:
    client = world.client(user)
    crops = _crops(scanned)
    urls = _scan_urls(world, scanned)
    assert len(urls) > 40
    for method, url in urls:
        answer = client.open(url, method=method, json={} if method == "POST" else None)
        assert answer.status_code in NOT_REACHED, (user, method, url, answer.status_code)
        assert not [c for c in crops if c[8:] in answer.data], (user, url)
        assert not find_leaks(answer.data, _wanted(scanned)), (user, url)


def test_while_a_batch_is_open_only_the_office_has_its_header_crops(
    world: World, scanned: Scanned
) -> None:
    """Room 2's batch is open: its two exam-number items hold header crops, which the
    office's quarantine (and its crop route, where the web offers one) shows."""
    open_batch = scanned.batches["theory-2"]
    with world.tx() as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.code == CODE)).one()
        rows = list_quarantine(db, exam, batch_id=open_batch)
        assert sorted(r.kind for r in rows) == ["exam_number", "off_roster"]
        crops = [item_crop(db, exam, r.id) for r in rows]
    assert all(c in scanned.reader.headers for c in crops), "the office decides from the header"
    assert all(scanned.reader.headers[c] in scanned.serials for c in crops if c)
    office = world.client("office")
    crop_rules = [r for r in world.app.url_map.iter_rules() if r.rule.endswith("/crop")]
    for rule in crop_rules:  # present once the office's scan screens are merged
        for row, crop in zip(rows, crops, strict=True):
            url = rule.build({"code": CODE, "batch_id": open_batch, "item_id": row.id})[1]
            answer = office.get(url)
            assert answer.status_code == 200 and answer.data == crop, url
    clear = dump_clear_columns(_room(world))
    # the reader sees each file under the engine's own name for its copy, scan-<file id>:
    # room 2's pile is the third file queued in the world (scan_world._scan)
    room_2 = {spec["serial"] for (name, _n), spec in scanned.reader.specs.items()
              if name == "scan-3"}  # fmt: skip
    headers = scanned.reader.headers
    open_headers = [c for c, serial in headers.items() if serial in room_2]
    assert len(open_headers) == 3 and all(c in clear for c in open_headers)
    closed_headers = [c for c, serial in headers.items() if serial not in room_2]
    assert len(closed_headers) == 12 and not [c for c in closed_headers if c in clear]
    for person in scanned.rooms[0]:  # room 1's batches are closed: sealed and erased
        assert person.exam_no.encode() not in clear and person.id_number.encode() not in clear


def test_the_log_of_the_scan_and_its_resolutions_names_no_one(scanned: Scanned) -> None:
    text = "\n".join(f"{r.name} {r.getMessage()}" for r in scanned.logs)
    assert find_leaks(text.encode(), _wanted(scanned)) == [], text[:2000]


def test_no_identity_is_left_in_clear_once_the_last_batch_is_closed(
    world: World, scanned: Scanned, crawl: dict[str, Seen]
) -> None:
    """Run last in the module: it closes room 2's batch, which the other tests need open."""
    with world.tx() as db:
        exam = db.scalars(select(ExamSession).where(ExamSession.code == CODE)).one()
        batch = db.get(ScanBatch, scanned.batches["theory-2"])
        assert batch is not None
        close_batch(db, exam, batch, actor="office", note="room 2: left to the office")
    scrub_wal(world.database.engine)
    clear = dump_clear_columns(_room(world))
    wanted = _wanted(scanned)
    del wanted["serial"]  # serials are not identity: they stay, on the office's side
    assert find_leaks(clear, wanted) == []
    assert not [c for c in _crops(scanned) if c in clear]
    if not PG_URL:
        world.database.engine.dispose()
        data = b"".join(p.read_bytes() for p in world.tmp.rglob("blindmark.db*"))
        assert data, "the SQLite file is searched"
        for person in scanned.people:
            assert person.exam_no.encode() not in data and person.id_number.encode() not in data
        assert b"HEADERCROP" not in data and b"ROWCROP" not in data


@dataclass
class _Engine:
    engine: Any


def _room(world: World) -> ScanRoom:
    """``dump_clear_columns`` reads only the room's ``engine``."""
    return cast(ScanRoom, _Engine(world.database.engine))
