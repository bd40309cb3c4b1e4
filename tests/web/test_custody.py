"""Key custody in the browser (issue 9, item 13): k-of-n shares reach each custodian alone,
once; key passphrases must be hard to guess, and a refusal says why; no error names a path
on the server."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
from sqlalchemy import select

from anonymizer.errors import NotEnoughShares
from anonymizer.unseal import SessionKey
from marking.audit.verify import verify
from marking.setup.sessions import get_session
from marking.store.models import CustodyShare, KeyCustodian
from tests.integration.factory import mark_all, tiny_toml
from tests.web.conftest import CONFIRMED, World

_seeded: set[int] = set()


def seeded(world: World) -> None:
    """Staff, examiners and their passwords, once per module's world."""
    if id(world) not in _seeded:
        world.session("ACC-SEED")
        _seeded.add(id(world))


def keyless_session(world: World, code: str) -> None:
    seeded(world)
    made = world.client("office").post(
        "/office/sessions",
        data={"definition": (io.BytesIO(tiny_toml(code, station=f"S-{code}").encode()), "s.toml")},
        content_type="multipart/form-data",
    )
    assert made.status_code == 302


# --- item 13: custody -------------------------------------------------------------------------

SHARE_WORDS = re.compile(r"^[a-z]+( [a-z]+){19,}$", re.MULTILINE)  # a SLIP-39 mnemonic line


def shares_of(text: str) -> list[str]:
    return [m.group(0) for m in SHARE_WORDS.finditer(text)]


def test_each_custodian_downloads_only_their_own_share_once(world: World) -> None:
    keyless_session(world, "CUS-1")
    office = world.client("office")
    made = office.post(
        "/office/sessions/CUS-1/keys",
        data={
            "custody": "shares",
            "custodian": ["office", "director", "lead"],
            "threshold": "2",
            "confirm": "yes",
        },
    )
    # The office gets no file, only word that the shares wait for their custodians.
    assert made.status_code == 302, made.get_data(as_text=True)
    assert not shares_of(made.get_data(as_text=True))
    page = office.get("/office/sessions/CUS-1").get_data(as_text=True)
    assert "尚未下载" in page and not shares_of(page)

    taken: dict[str, str] = {}
    for name in ("office", "director"):
        client = office if name == "office" else world.client(name)
        account_page = client.get("/account").get_data(as_text=True)
        assert "CUS-1" in account_page and "等待下载" in account_page
        share = client.post("/account/shares/CUS-1")
        assert share.status_code == 200
        assert share.headers["Content-Disposition"].startswith("attachment")
        text = share.get_data(as_text=True)
        assert len(shares_of(text)) == 1 and "session: CUS-1" in text
        taken[name] = text
        again = client.post("/api/v1/shares/CUS-1")
        assert again.status_code == 409 and "下载了场次" in again.json["detail"]
        assert "CUS-1" not in client.get("/account").get_data(as_text=True)
    assert taken["office"] != taken["director"]

    # Nobody else gets a share: not an admin, not an examiner, not through the API either.
    assert world.client("admin").post("/api/v1/shares/CUS-1").status_code == 404
    assert world.client("e1").post("/account/shares/CUS-1").status_code == 403
    lead = world.client("lead")
    assert lead.get("/api/v1/shares").json == [{"session": "CUS-1", "share": 3, "of": 3}]
    assert office.get("/api/v1/sessions/CUS-1/custodians").json == [
        {"name": "office", "downloaded": True},
        {"name": "director", "downloaded": True},
        {"name": "lead", "downloaded": False},
    ]

    with world.tx() as db:
        exam = get_session(db, "CUS-1")
        public = exam.public_key
        assert public is not None
        held = db.scalars(
            select(CustodyShare.wrapped)
            .join(KeyCustodian, KeyCustodian.id == CustodyShare.custodian_id)
            .where(KeyCustodian.session_id == exam.id)
        ).all()
        assert verify(db, exam).ok
    # Only the lead's share still waits, and not in a form the database alone opens.
    assert len(held) == 1
    lead_share = lead.post("/api/v1/shares/CUS-1").get_data(as_text=True)
    [words] = shares_of(lead_share)
    assert b"blindmark" not in held[0] and words.split()[3].encode() not in held[0]
    key = SessionKey.from_shares(list(taken.values()), expected_public_key=public)
    assert key.public_key == public
    with pytest.raises(NotEnoughShares):
        SessionKey.from_shares([taken["director"]], expected_public_key=public)


@pytest.mark.sqlite
def test_a_downloaded_share_leaves_no_copy_in_the_sqlite_files(world: World) -> None:
    keyless_session(world, "CUS-2")
    office = world.client("office")
    answer = office.post(
        "/api/v1/sessions/CUS-2/keys",
        json={"custody": "shares", "custodians": ["director", "lead"], "threshold": 2},
    )
    assert answer.status_code == 200 and answer.json["custodians"][0]["downloaded"] is False
    with world.tx() as db:
        exam = get_session(db, "CUS-2")
        wrapped = db.scalar(
            select(CustodyShare.wrapped)
            .join(KeyCustodian, KeyCustodian.id == CustodyShare.custodian_id)
            .where(KeyCustodian.session_id == exam.id, KeyCustodian.share_index == 1)
        )
    assert wrapped is not None

    def on_disk() -> bytes:
        path = world.database.path
        return b"".join(
            p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
        )

    assert wrapped in on_disk()
    assert world.client("director").post("/api/v1/shares/CUS-2").status_code == 200
    assert wrapped not in on_disk()


@pytest.mark.parametrize(
    ("code", "custodians", "status", "reason"),
    [
        ("CUS-TWICE", ["director", "director", "lead"], 422, "director 被重复指定"),
        ("CUS-EXAMINER", ["director", "e1"], 422, "examiner"),
        ("CUS-ALONE", ["director"], 422, "至少勾选两名保管人"),
        ("CUS-UNKNOWN", ["director", "nobody"], 404, "nobody"),
    ],
)
def test_custodians_are_distinct_staff_accounts(
    world: World, code: str, custodians: list[str], status: int, reason: str
) -> None:
    keyless_session(world, code)
    answer = world.client("office").post(
        f"/api/v1/sessions/{code}/keys",
        json={"custody": "shares", "custodians": custodians, "threshold": 2},
    )
    assert answer.status_code == status and reason in answer.json["detail"]
    with world.tx() as db:
        assert get_session(db, code).public_key is None


def test_a_guessable_key_passphrase_is_refused_saying_why(world: World) -> None:
    keyless_session(world, "CUS-PASS")
    office = world.client("office")
    form = {"custody": "key_file", "passphrase": "password1234", "passphrase2": "password1234"}
    refused = office.post("/office/sessions/CUS-PASS/keys", data={**form, "confirm": "yes"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "口令太容易被猜到" in page and "这是非常常用的密码" in page
    office.get("/lang/en")
    english = office.post("/api/v1/sessions/CUS-PASS/keys", json=form)
    assert english.status_code == 422
    assert "too easy to guess" in english.json["detail"]
    assert "a very common password" in english.json["detail"]
    with world.tx() as db:
        assert get_session(db, "CUS-PASS").public_key is None
    strong = "violet tractor meets a quiet harbour"
    made = office.post("/api/v1/sessions/CUS-PASS/keys", json={**form, "passphrase": strong})
    assert made.status_code == 200 and b"blindmark-session-key" in made.data


def test_no_error_names_a_server_path(world: World) -> None:
    tiny = world.session("CUS-PATH")
    with world.tx() as db:
        mark_all(db, get_session(db, "CUS-PATH"), ["e1", "e2", "e3"])
    assert (
        world.client("director")
        .post("/director/sessions/CUS-PATH/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    office = world.client("office")
    real = [p.read_bytes() for p in tiny.keys.shares]

    def publish(files: dict[str, Any]) -> Any:
        return office.post(
            "/api/v1/sessions/CUS-PATH/publication", data=files, content_type="multipart/form-data"
        )

    damaged = publish({"share": [(io.BytesIO(real[0]), "mine.txt"), (io.BytesIO(b"x"), "b.txt")]})
    not_a_key = publish({"key_file": (io.BytesIO(b"not json"), "office.key"), "passphrase": "x"})
    for answer, name in ((damaged, "b.txt"), (not_a_key, "office.key")):
        assert answer.status_code == 422
        detail = answer.json["detail"]
        assert name in detail
        assert "/tmp" not in detail and "blindmark-" not in detail
    # An intake zip without responses.csv: the message names the upload's folder only.
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr(
            "batch/candidates.csv",
            "exam_no,name,id_number,institution\n261299000001,测试,110101199001011237,x\n",
        )
    intake = office.post(
        "/api/v1/sessions/CUS-PATH/intake",
        data={"batch": (io.BytesIO(zipped.getvalue()), "batch.zip")},
        content_type="multipart/form-data",
    )
    body = intake.get_data(as_text=True)
    assert intake.status_code in (409, 422) and "/tmp" not in body
    published = publish({"share": [(io.BytesIO(s), f"s{i}.txt") for i, s in enumerate(real[:2])]})
    assert published.status_code == 200, published.json
    with world.tx() as db:
        assert verify(db, get_session(db, "CUS-PATH")).ok
