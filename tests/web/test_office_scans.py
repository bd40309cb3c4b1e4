"""The office's scan screens (DESIGN §12) through the Flask test client, with the scan
engine's fake page reader: a room's roster and a bundle uploaded, the tally and files'
progress shown, each doubt settled in the browser (a refused resolution comes back on the
same page, input kept, the reason beside it), the batch closed; all in Chinese; office
only, and every batch and item only through its own session. The header crop (identity)
is served to the office alone, never cached, and is gone once the batch closes."""

from __future__ import annotations

import html
import io
import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from marking.paper.quarantine import list_quarantine
from marking.store.models import ScanBatch, ScanBatchState, ScanSheet
from tests.integration.factory import people
from tests.integration.scan_support import PNG, ScanRoom, scan_room
from tests.web.conftest import World

CODE, OTHER = "SCAN-W", "SCAN-X"
ROSTER = people(4, seed=11, prefix="2655")  # not on the fixture's own batch "room-1"


@pytest.fixture(scope="module")
def rooms(world: World) -> tuple[ScanRoom, ScanRoom]:
    """Two keyed sessions with issued serials; the other one's batch has an item."""
    room = scan_room(world.database.engine, world.tmp / CODE, CODE)
    other = scan_room(world.database.engine, world.tmp / OTHER, OTHER)
    other.scan("other.pdf", [{"unreadable": "no QR code found on the page"}])
    world.session("SCAN-STAFF")  # examiners and every account's password
    world.app.config["SCAN_READER"] = room.reader
    world.app.config["JOBS_IMMEDIATE"] = True  # the upload's jobs run in the request
    world.app.extensions.pop("blindmark.jobs", None)
    return room, other


def roster_csv() -> bytes:
    lines = ["exam_no,name,id_number,institution"]
    lines += [f"{c.exam_no},{c.name},{c.id_number},{c.institution}" for c in ROSTER]
    return ("\n".join(lines) + "\n").encode()


def pile(room: ScanRoom) -> list[dict[str, Any]]:
    s, c = room.serials, ROSTER
    return [
        *room.sheet(s[0], c[0].exam_no, rows={"1": "?"}),  # a doubtful bubble row
        *room.sheet(s[1], None, problem="column 3: two bubbles"),  # exam number in doubt
        *room.sheet(s[2], c[2].exam_no, violation=True),
        {"unreadable": "no QR code found on the page"},
        *room.sheet(s[3], c[3].exam_no),
    ]


def upload(office: FlaskClient, room: ScanRoom) -> int:
    answer = office.post(
        f"/office/sessions/{CODE}/scans",
        data={
            "component": "theory",
            "name": "第一考场",
            "roster": (io.BytesIO(roster_csv()), "room.csv"),
            "scans": (io.BytesIO(json.dumps(pile(room)).encode()), "pile.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with room_tx(room) as db:
        return int(db.scalar(select(ScanBatch.id).where(ScanBatch.name == "第一考场")))


def room_tx(room: ScanRoom) -> Any:
    from marking.store.db import transaction

    return transaction(room.engine)


def items(room: ScanRoom, batch_id: int) -> dict[str, int]:
    with room_tx(room) as db:
        return {r.kind: r.id for r in list_quarantine(db, room.session(db), batch_id=batch_id)}


def english_words(page: str, *data: str) -> list[str]:
    """Words of English left in a page's visible text (its data taken out first): each
    is a string the catalog lacks or a reason the screens failed to translate."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    for known in (*data, "blindmark", "English", "PDF", "PNG", "JPEG", "TIFF", "candidates.csv"):
        text = text.replace(known, " ")
    return re.findall(r"[A-Za-z]{3,}", text)


def test_upload_quarantine_resolve_and_close(
    world: World, rooms: tuple[ScanRoom, ScanRoom]
) -> None:
    room, _other = rooms
    office = world.client("office")
    batch = upload(office, room)

    page = office.get(f"/office/sessions/{CODE}").get_data(as_text=True)
    assert "答题卡扫描" in page and "第一考场" in page and "pile.pdf" in page
    progress = office.get(f"/office/sessions/{CODE}/scans").get_json()
    [mine] = [b for b in progress["batches"] if b["batch"] == batch]
    assert mine["files"][0] | {"id": 0} == {
        "id": 0, "name": "pile.pdf", "pages_done": 9, "page_count": 9, "state": "done",
        "state_text": "已识读", "error": None,
    }  # fmt: skip
    assert (mine["pages_received"], mine["sheets_complete"], mine["open_items"]) == (9, 4, 4)
    assert (mine["pages_quarantined"], mine["exam_numbers_quarantined"]) == (1, 1)

    found = items(room, batch)
    assert set(found) == {"bubble_row", "exam_number", "violation", "unreadable"}
    base = f"/office/sessions/{CODE}/scans/{batch}/quarantine"
    page = office.get(base).get_data(as_text=True)
    shown = (
        "待核实的填涂行", "准考证号无法识读：第 3 列：填涂了两个", "违纪标记已填涂",
        "页面无法识读：页面上未找到二维码", "pile.pdf", room.serials[1], "均未填涂",
    )  # fmt: skip
    for words in shown:
        assert words in page, words
    assert english_words(page, "pile.pdf", *room.serials, CODE, "office") == []

    header = office.get(f"{base}/{found['exam_number']}/crop")
    assert header.status_code == 200 and header.mimetype == "image/png"
    assert header.headers["Cache-Control"] == "no-store"
    assert header.get_data() == PNG + b"header of None"
    row = office.get(f"{base}/{found['bubble_row']}/crop").get_data()
    assert row == PNG + b"row 1"  # only the row: no header, no exam number

    # A refused resolution: the same page, the number kept, the reason beside the field.
    refused = office.post(f"{base}/{found['exam_number']}", data={"exam_no": "26550000999"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "该准考证号不在本批次名单上" in text
    assert (
        'value="26550000999"' in text
        and f'aria-describedby="refused-{found["exam_number"]}"' in text
    )
    bad = office.post(f"{base}/{found['bubble_row']}", data={"option": ["A", "-"]})
    assert bad.status_code == 422 and "只勾选“均未填涂”" in bad.get_data(as_text=True)

    assert (
        office.post(
            f"{base}/{found['exam_number']}", data={"exam_no": ROSTER[1].exam_no}
        ).status_code
        == 302
    )
    assert office.post(f"{base}/{found['bubble_row']}", data={"option": ["B"]}).status_code == 302
    assert office.post(f"{base}/{found['violation']}", data={"value": "warning"}).status_code == 302
    page = office.get(base).get_data(as_text=True)
    assert "考务办公室判定为 B" in page and "准考证号由考务办公室填写" in page
    assert ROSTER[1].exam_no not in page  # the number typed is not shown back

    assert office.post(f"{base.rsplit('/', 1)[0]}/close", data={}).status_code == 422
    closed = office.post(f"{base.rsplit('/', 1)[0]}/close", data={"confirm": "yes"})
    assert closed.status_code == 302
    page = office.get(base).get_data(as_text=True)
    assert "已关闭" in page and "批次关闭时舍弃" in page and "关闭扫描批次" not in page
    assert office.get(f"{base}/{found['exam_number']}/crop").status_code == 404
    with room_tx(room) as db:
        made = db.get(ScanBatch, batch)
        assert made is not None and made.state is ScanBatchState.CLOSED and made.roster is None
        assert not any(
            s.header_png for s in db.scalars(select(ScanSheet).where(ScanSheet.batch_id == batch))
        )
        assert made.intake_batch_id is not None


ROUTES = [
    ("GET", "/office/sessions/{c}/scans"),
    ("POST", "/office/sessions/{c}/scans"),
    ("POST", "/office/sessions/{c}/scans/{b}/files"),
    ("GET", "/office/sessions/{c}/scans/{b}/quarantine"),
    ("POST", "/office/sessions/{c}/scans/{b}/quarantine/{i}"),
    ("GET", "/office/sessions/{c}/scans/{b}/quarantine/{i}/crop"),
    ("POST", "/office/sessions/{c}/scans/{b}/close"),
]


def other_ids(other: ScanRoom) -> tuple[int, int]:
    with room_tx(other) as db:
        [row] = list_quarantine(db, other.session(db))
    return other.batch_id, row.id


@pytest.mark.parametrize("username", ["e1", "lead", "director", "admin"])
def test_no_one_but_the_office_reaches_the_scans(
    world: World, rooms: tuple[ScanRoom, ScanRoom], username: str
) -> None:
    _room, other = rooms
    batch, item = other_ids(other)
    client = world.client(username)
    for method, path in ROUTES:
        answer = client.open(path.format(c=OTHER, b=batch, i=item), method=method, data={})
        assert answer.status_code in (403, 404), (username, path, answer.status_code)
        assert PNG not in answer.get_data()
    assert "答题卡扫描" not in client.get(f"/office/sessions/{OTHER}").get_data(as_text=True)


def test_another_sessions_batches_and_items_are_not_found(
    world: World, rooms: tuple[ScanRoom, ScanRoom]
) -> None:
    room, other = rooms
    batch, item = other_ids(other)
    office = world.client("office")
    assert (
        office.get(f"/office/sessions/{OTHER}/scans/{batch}/quarantine/{item}/crop").status_code
        == 200
    )
    for method, path in ROUTES[2:]:  # another session's batch, through this session
        answer = office.open(path.format(c=CODE, b=batch, i=item), method=method, data={})
        assert answer.status_code == 404, (path, answer.status_code)
    for method, path in ROUTES[4:6]:  # its item, through this session's own batch
        answer = office.open(path.format(c=CODE, b=room.batch_id, i=item), method=method, data={})
        assert answer.status_code == 404, (path, answer.status_code)
    with room_tx(other) as db:
        assert [r.state for r in list_quarantine(db, other.session(db), settled=True)] == ["open"]


def test_refusals_of_an_upload_say_why_in_chinese_and_store_nothing(
    world: World, rooms: tuple[ScanRoom, ScanRoom]
) -> None:
    office = world.client("office")
    form = {"component": "theory", "roster": (io.BytesIO(roster_csv()), "r.csv"),
            "scans": (io.BytesIO(b"x"), "notes.txt")}  # fmt: skip
    answer = office.post(
        f"/office/sessions/{CODE}/scans", data=form, content_type="multipart/form-data"
    )
    assert (
        answer.status_code == 422
        and "扫描文件须为 PDF、PNG、JPEG 或 TIFF 文件" in answer.get_data(as_text=True)
    )
    form = {"component": "nope", "roster": (io.BytesIO(roster_csv()), "r.csv"),
            "scans": (io.BytesIO(b"[]"), "a.pdf")}  # fmt: skip
    answer = office.post(
        f"/office/sessions/{CODE}/scans", data=form, content_type="multipart/form-data"
    )
    assert answer.status_code == 404
    with room_tx(rooms[0]) as db:
        names = set(db.scalars(select(ScanBatch.name)))
    assert "r" not in names


def test_a_refused_roster_comes_back_beside_the_form_in_chinese(
    world: World, rooms: tuple[ScanRoom, ScanRoom]
) -> None:
    """A roster with a bad row is refused on the session page itself, at the 答题卡扫描
    form: the rows named in Chinese (column and reason), the batch's name and component
    kept, nothing stored; not an error page with no way back."""
    office = world.client("office")
    bad = roster_csv() + b"2699999999,,110101199001011237,X\n"
    form = {"component": "theory", "name": "坏名单考场", "roster": (io.BytesIO(bad), "r.csv"),
            "scans": (io.BytesIO(b"%PDF-1.4"), "a.pdf")}  # fmt: skip
    answer = office.post(
        f"/office/sessions/{CODE}/scans", data=form, content_type="multipart/form-data"
    )
    text = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'id="scan-refused"' in text
    assert "姓名（name）" in text and "为空" in text and 'value="坏名单考场"' in text
    with room_tx(rooms[0]) as db:
        assert "坏名单考场" not in set(db.scalars(select(ScanBatch.name)))
