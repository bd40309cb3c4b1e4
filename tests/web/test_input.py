"""Input cannot hurt (issue 9, items 6-10) over HTTP: marks are short exact text, bodies are
bounded per route and unread before login, uploads are checked before they are unpacked,
and a login's ``next=`` stays on this site."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marking.audit.verify import verify
from marking.setup.sessions import get_session
from marking.store.models import Anomaly, Arbitration, Assignment, IntakeBatch, LedgerEntry, Mark
from tests.integration.factory import mark_all, people, tiny_rows, tiny_toml
from tests.web.conftest import PASSWORD, World, csrf_of
from tests.web.test_office_and_director import batch_zip
from web.inbound import FORM_LIMIT, LOGIN_LIMIT

API = "/api/v1/sessions"
MIB = 1 << 20


def raw_json(client: FlaskClient, url: str, text: str) -> Any:
    """A JSON body exactly as written (a number such as 1e-1000030 stays as it is)."""
    return client.post(url, data=text, content_type="application/json")


@pytest.fixture(scope="module")
def seeded(world: World) -> str:
    """One session for the tests that need accounts and a session but change nothing."""
    world.session("IN-0")
    return "IN-0"


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
    url = f"{API}/IN-1/responses/{item['response']}/mark"
    row = world.response_id("IN-1", item["response"])
    for value in BAD_MARKS:
        refused = raw_json(e1, url, '{"value": ' + value + "}")
        assert refused.status_code == 422, (value[:20], refused.json)
        assert refused.json["error"] == "invalid_mark"
        assert len(refused.data) < 600, value[:20]
        assert "分数" in refused.json["detail"]  # the reason, in the reader's language
    with world.tx() as db:
        stored = db.scalar(select(func.count()).where(Mark.response_id == row))
        assert stored == 0
    ledger_is_sound(world, "IN-1")

    # The same claim is still held: a plain mark goes in, and the ledger records exactly
    # the text of what is stored.
    assert e1.post(url, json={"value": " 5.50 "}).status_code == 200
    with world.tx() as db:
        mark = db.scalars(select(Mark).where(Mark.response_id == row)).one()
        entry = db.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "mark", LedgerEntry.actor == "e1")
        ).one()
        assert entry.payload["value"] == f"{mark.value:f}" == "5.5"
    ledger_is_sound(world, "IN-1")


@pytest.mark.parametrize(
    "size", ["Infinity", "-Infinity", "NaN", "1e500000", "1.5", "true", "1" * 400, '"1 000"']
)
def test_a_claim_size_that_is_not_a_whole_number_is_refused_not_a_crash(
    world: World, seeded: str, size: str
) -> None:
    e1 = world.client("e1")
    refused = raw_json(e1, f"{API}/{seeded}/claim", '{"size": ' + size + "}")
    assert refused.status_code == 422, (size[:20], refused.status_code)
    assert "size" in refused.json["detail"] and len(refused.data) < 600


def test_a_refused_mark_says_why_in_english_too(world: World) -> None:
    world.session("IN-2")
    e1 = world.client("e1")
    e1.get("/lang/en")
    item = e1.post(f"{API}/IN-2/claim", json={"size": 1}).json[0]
    url = f"{API}/IN-2/responses/{item['response']}/mark"
    assert raw_json(e1, url, '{"value": "1e5"}').json["detail"] == (
        "A mark is a plain number such as 7, 7.5 or 0.125; “1e5” is not one."
    )
    assert raw_json(e1, url, '{"value": "99"}').json["detail"] == (
        f"A mark lies between 0 and {item['max']}; 99 is outside."
    )


def test_the_lead_cannot_record_a_final_mark_that_is_no_mark(world: World) -> None:
    world.session("IN-3")
    e1, lead = world.client("e1"), world.client("lead")
    flagged = e1.post(f"{API}/IN-3/claim", json={"size": 1}).json[0]["response"]
    e1.post(f"{API}/IN-3/responses/{flagged}/flag", json={"kind": "illegible", "note": "?"})
    with world.tx() as db:
        exam = get_session(db, "IN-3")
        spread = {"e1": lambda _i: Decimal(0), "e2": lambda i: i.max, "e3": lambda _i: Decimal(3)}
        mark_all(db, exam, ["e1", "e2", "e3"], lambda item, user: spread[user](item))
    disputed = lead.get(f"{API}/IN-3/arbitrations").json[0]["response"]
    anomaly = lead.get(f"{API}/IN-3/anomalies").json[0]["anomaly"]

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
    disputed_id = world.response_id("IN-3", disputed)
    anomaly_id = world.anomaly_id("IN-3", anomaly)
    with world.tx() as db:
        assert db.scalar(select(func.count()).where(Arbitration.response_id == disputed_id)) == 0
        open_anomaly = db.get(Anomaly, anomaly_id)
        assert open_anomaly is not None and open_anomaly.resolution is None
    ledger_is_sound(world, "IN-3")


# --- 7. request size, and nothing read before login -----------------------------------------------


class Tripwire:
    """A request body of ``size`` bytes that counts what is read and fails the test when
    more than ``allow`` bytes are read."""

    def __init__(self, size: int, allow: int = 0, fill: bytes = b"x") -> None:
        self.size, self.allow, self.fill, self.read_bytes = size, allow, fill, 0

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.read_bytes if n is None or n < 0 else n
        n = min(n, self.size - self.read_bytes)
        self.read_bytes += n
        assert self.read_bytes <= self.allow, f"read {self.read_bytes} bytes of the body"
        return self.fill * n

    def readline(self, limit: int = -1) -> bytes:
        return self.read(limit if limit and limit > 0 else 65536)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def send(
    client: FlaskClient,
    path: str,
    body: Tripwire,
    content_type: str,
    *,
    length: bool = True,
    method: str = "POST",
) -> Any:
    """``path`` with ``body`` as its stream, announced by Content-Length (or streamed
    without one, as a chunked request arrives from the server)."""
    environ: dict[str, Any] = {"wsgi.input": body}
    if length:
        environ["CONTENT_LENGTH"] = str(body.size)
    else:
        environ["wsgi.input_terminated"] = True
    return client.open(path, method=method, content_type=content_type, environ_overrides=environ)


def test_a_huge_body_to_the_login_page_is_refused_before_it_is_read(world: World) -> None:
    """Issue 9 item 7: a 100 MB JSON body to /login took a worker to 3.7 GB."""
    anonymous = world.app.test_client()
    token = csrf_of(anonymous)
    anonymous.environ_base["HTTP_X_CSRFTOKEN"] = token
    for content_type in ("application/json", "application/x-www-form-urlencoded"):
        body = Tripwire(100 * MIB)
        answer = send(anonymous, "/login", body, content_type)
        assert answer.status_code == 413, content_type
        assert body.read_bytes == 0
        assert "请求过大" in answer.get_data(as_text=True)  # a page a person can read
    # The login form is the only thing read before a login, and only as a form.
    body = Tripwire(200, fill=b" ")
    assert send(anonymous, "/login", body, "application/json").status_code == 415
    assert body.read_bytes == 0


@pytest.mark.parametrize(
    "path",
    [
        f"{API}/IN-4/responses/1/mark",
        f"{API}/IN-4/intake",
        "/office/sessions/IN-4/intake",
        "/lead/sessions/IN-4/responses/1/arbitrate",
        "/api/v1/accounts",
        "/api/v1/tokens",
        "/logout",
        "/no/such/page",
    ],
)
def test_nothing_of_an_anonymous_request_is_read_but_the_login_form(
    world: World, path: str
) -> None:
    anonymous = world.app.test_client()
    for content_type in ("application/json", "multipart/form-data; boundary=x", "text/plain"):
        body = Tripwire(8 * 1024)
        answer = send(anonymous, path, body, content_type)
        assert answer.status_code in (302, 401, 404), (path, answer.status_code)
        assert body.read_bytes == 0, path


def test_forms_and_json_are_small_and_only_upload_routes_take_large_files(world: World) -> None:
    world.session("IN-5")
    e1, office = world.client("e1"), world.client("office")
    body = Tripwire(FORM_LIMIT + 1)
    refused = send(e1, f"{API}/IN-5/claim", body, "application/json")
    assert refused.status_code == 413 and body.read_bytes == 0
    assert refused.json["error"] == "too_large" and "16 KB" in refused.json["detail"]
    page = send(office, "/office/sessions/IN-5/keys", Tripwire(MIB), "multipart/form-data")
    assert page.status_code == 413 and "请求过大" in page.get_data(as_text=True)
    # An upload route takes a large file from the role it is for, and from no one else.
    large = io.BytesIO(b"PK" + b"\0" * (200 * 1024))  # > FORM_LIMIT (and in memory)
    taken = office.post(
        f"{API}/IN-5/intake",
        data={"batch": (large, "batch.zip")},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 422 and "zip" in taken.json["detail"]  # read, and refused
    body = Tripwire(200 * 1024)
    assert send(e1, f"{API}/IN-5/intake", body, "multipart/form-data").status_code == 413
    assert body.read_bytes == 0


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(world: World) -> None:
    world.session("IN-6")
    e1 = world.client("e1")
    body = Tripwire(100 * MIB, allow=FORM_LIMIT + 64 * 1024, fill=b" ")
    answer = send(e1, f"{API}/IN-6/claim", body, "application/json", length=False)
    assert answer.status_code == 413
    assert body.read_bytes <= FORM_LIMIT + 64 * 1024


def test_json_nested_thousands_deep_is_a_bad_request_not_a_crash(world: World) -> None:
    world.session("IN-7")
    e1 = world.client("e1")
    answer = raw_json(e1, f"{API}/IN-7/claim", "[" * 5000 + "]" * 5000)
    assert answer.status_code in (400, 422), answer.status_code
    assert "error" in answer.json


def test_the_login_form_itself_still_fits(world: World) -> None:
    world.session("IN-8")
    client = world.app.test_client()
    answer = client.post(
        "/login",
        data={"username": "e1", "password": PASSWORD, "csrf_token": csrf_of(client)},
    )
    assert answer.status_code == 302
    assert len(f"username=e1&password={PASSWORD}&csrf_token={'x' * 100}") < LOGIN_LIMIT


# --- 8. uploads ---------------------------------------------------------------------------------


def _batch(extra: dict[str, bytes] | None = None, *, n: int = 3, seed: int = 5) -> bytes:
    """A valid batch of ``n`` candidates, with ``extra`` entries beside it."""
    roster = people(n, seed=seed, prefix="2699")
    buffer = io.BytesIO(batch_zip(tiny_rows(roster), roster))
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as zf:
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


def _intake(office: FlaskClient, code: str, data: bytes, filename: str = "batch.zip") -> Any:
    return office.post(
        f"{API}/{code}/intake",
        data={"batch": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def _batches(world: World, code: str) -> int:
    with world.tx() as db:
        exam = get_session(db, code)
        return int(db.scalar(select(func.count()).where(IntakeBatch.session_id == exam.id)) or 0)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(world: World) -> None:
    """Issue 9 item 8: a 1.9 MB zip unpacked to 1.9 GB. Here 64 MB of zeros pack to 64 KB."""
    world.session("IN-9")
    office = world.client("office")
    before = _batches(world, "IN-9")
    buffer = io.BytesIO(_batch())
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as zf,
        zf.open("batch-1/images/scan.png", "w") as entry,
    ):
        for _ in range(64):
            entry.write(b"\0" * MIB)
    assert len(buffer.getvalue()) < MIB
    answer = _intake(office, "IN-9", buffer.getvalue())
    assert answer.status_code == 422
    assert "zip bomb" in answer.json["detail"] or "times its packed size" in answer.json["detail"]
    assert _batches(world, "IN-9") == before
    ledger_is_sound(world, "IN-9")


def _renamed(data: bytes, old: bytes, new: bytes) -> bytes:
    """The zip with an entry's name changed in place (zipfile will not write some names)."""
    assert len(old) == len(new) and data.count(old) == 2  # local header and directory
    return data.replace(old, new)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        (b"batch-1/a\x00b.png", "control character"),
        (b"C:/windows/a.png", "unsafe path"),
        (b"batch-1/../../a.png", "unsafe path"),
        (b"/etc/cron.d/evil", "unsafe path"),
        (b"batch-1\\..\\a.png", "unsafe path"),
    ],
    ids=["NUL", "drive letter", "dot-dot", "absolute", "backslash"],
)
def test_an_unsafe_entry_name_is_refused(world: World, seeded: str, name: bytes, why: str) -> None:
    office = world.client("office")
    placeholder = b"Q" * len(name)
    data = _renamed(_batch({placeholder.decode(): b"not an image"}), placeholder, name)
    answer = _intake(office, seeded, data)
    assert answer.status_code == 422, answer.json
    assert why in answer.json["detail"]


def test_a_damaged_zip_is_refused_not_a_server_error(world: World) -> None:
    world.session("IN-11")
    office = world.client("office")
    good = _batch({"batch-1/notes.txt": "答题卡扫描说明 " * 2000})
    at = good.index(b"batch-1/notes.txt") + len(b"batch-1/notes.txt") + 100
    corrupt = good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1 :]
    for data in (corrupt, good[: len(good) // 2], b"PK\x05\x06" + b"\0" * 18, b"plain text"):
        answer = _intake(office, "IN-11", data)
        assert answer.status_code == 422, answer.status_code
        assert "zip" in answer.json["detail"]


def test_a_session_definition_nested_100000_deep_is_refused_not_a_crash(world: World) -> None:
    world.session("IN-12")
    office = world.client("office")
    for definition in ("a = " + "[" * 100_000 + "]" * 100_000, "a = " + "{b=" * 100_000):
        for path in ("/api/v1/sessions", "/office/sessions"):
            answer = office.post(
                path,
                data={"definition": (io.BytesIO(definition.encode()), "session.toml")},
                content_type="multipart/form-data",
            )
            assert answer.status_code == 422, (path, answer.status_code)
            words = "nested too deeply" if path.startswith("/api") else "嵌套过深"
            assert words in answer.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "field", "content"),
    [
        ("/api/v1/examiners/import", "file", b"username\n"),
        (f"{API}/IN-0/intake", "batch", b"PK"),
        ("/api/v1/sessions", "definition", tiny_toml("IN-13-NUL").encode()),
    ],
)
def test_a_nul_in_an_uploaded_file_name_is_refused(
    world: World, seeded: str, path: str, field: str, content: bytes
) -> None:
    office = world.client("office")
    answer = office.post(
        path,
        data={field: (io.BytesIO(content), "exam\x00iners.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 422, answer.status_code
    assert "NUL" in answer.json["detail"]


@pytest.mark.parametrize(
    ("path", "send"),
    [
        # A repeated form field: only its first value used to be looked at (a 500 on
        # PostgreSQL, whose text cannot hold NUL).
        ("/office/sessions/IN-0/groups/short/assign", {"data": "examiners=e1&examiners=e2%00"}),
        (f"{API}/IN-0/groups/short/assign", {"data": "examiners=e1&examiners=e2%00"}),
        (f"{API}/IN-0/groups/short/assign?x=1&x=2%00", {"json": {"examiners": ["e1"]}}),
        (f"{API}/IN-0/groups/short/assign", {"json": {"examiners": ["e1", ["e2\x00"]]}}),
        (f"{API}/IN-0/groups/short/assign", {"json": {"examiners": ["e1"], "lead\x00": "x"}}),
    ],
    ids=["form, second value", "API form", "query, second value", "JSON, deep", "JSON key"],
)
def test_a_nul_anywhere_in_a_request_is_refused_and_nothing_is_assigned(
    world: World, seeded: str, path: str, send: dict[str, Any]
) -> None:
    def assigned() -> int | None:
        with world.tx() as db:
            exam = get_session(db, seeded)
            return db.scalar(select(func.count()).where(Assignment.session_id == exam.id))

    office = world.client("office")
    if "data" in send:
        send = {**send, "content_type": "application/x-www-form-urlencoded"}
    before = assigned()
    answer = office.post(path, **send)
    assert answer.status_code == 422, answer.status_code
    said = answer.json["detail"] if answer.is_json else answer.get_data(as_text=True)
    assert "NUL" in said and "控制字符" in said  # in the office's language, on the page too
    assert assigned() == before
    ledger_is_sound(world, seeded)


# --- 10. after login, next= leads only to a page of this application -----------------------------

OFF_SITE = [
    "//evil.example",
    "/\\evil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    "/%0a/evil.example",
    "/%0d/evil.example",
    "https://evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "%09//evil.example",
    " //evil.example",
    "///evil.example",
    "/no-such-page",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_after_login_never_leads_off_this_application(
    world: World, seeded: str, target: str
) -> None:
    client = world.app.test_client()
    answer = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "e1", "password": PASSWORD, "csrf_token": csrf_of(client)},
    )
    assert answer.status_code == 302
    assert answer.location == "/", (target, answer.location)


def test_next_after_login_leads_to_the_page_asked_for(world: World) -> None:
    world.session("IN-15")
    client = world.app.test_client()
    asked = client.get("/examiner/sessions/IN-15/mark")
    assert asked.status_code == 302
    answer = client.post(
        asked.location, data={"username": "e1", "password": PASSWORD, "csrf_token": csrf_of(client)}
    )
    assert answer.location.rstrip("?") == "/examiner/sessions/IN-15/mark"
    assert client.get(answer.location).status_code == 200
