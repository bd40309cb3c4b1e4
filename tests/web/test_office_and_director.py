"""The office and the director over HTTP: a session from its TOML, keys handed over once,
intake from a zip with row-level refusals, examiners and assignment with the engine's
refusals, approval by a director, unlocking with the key file, results and exports."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select

from marking.setup.sessions import get_session
from marking.store.models import IntakeBatch, Script
from tests.integration.factory import PASSPHRASE, mark_all, people, tiny_rows, tiny_toml
from tests.web.conftest import CONFIRMED, World


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def batch_zip(rows: list[tuple[str, ...]], candidates: list[Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr(
            "batch-1/candidates.csv",
            "exam_no,name,id_number,institution\n"
            + "".join(f"{c.exam_no},{c.name},{c.id_number},{c.institution}\n" for c in candidates),
        )
        zf.writestr(
            "batch-1/responses.csv",
            "exam_no,component,question,response\n" + "".join(",".join(r) + "\n" for r in rows),
        )
    return buffer.getvalue()


def test_office_sets_up_a_session_from_uploads(world: World) -> None:
    world.session("SEED-OFFICE")  # the staff and examiners exist
    office = world.client("office")
    bad = office.post(
        "/office/sessions",
        data={"definition": (io.BytesIO(b"[session]\ncode = 1\n"), "session.toml")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    toml = tiny_toml("OFF-1", station="S-OFF-1")
    made = office.post(
        "/office/sessions",
        data={"definition": (io.BytesIO(toml.encode()), "session.toml")},
        content_type="multipart/form-data",
    )
    assert made.status_code == 302
    assert "OFF-1" in office.get("/office/").get_data(as_text=True)

    # The key file is the answer to the request, once: a second request is refused.
    key = office.post(
        "/api/v1/sessions/OFF-1/keys", json={"custody": "key_file", "passphrase": PASSPHRASE}
    )
    assert key.status_code == 200
    assert key.headers["Content-Disposition"].startswith("attachment")
    assert b"blindmark-session-key" in key.data
    again = office.post(
        "/api/v1/sessions/OFF-1/keys", json={"custody": "key_file", "passphrase": PASSPHRASE}
    )
    assert again.status_code == 409 and "already has a key" in again.json["detail"]

    roster = people(5, seed=3)
    rows = tiny_rows(roster)
    broken = [*rows, ("99999999", "theory", "2", "no such candidate")]
    refused = office.post(
        "/api/v1/sessions/OFF-1/intake",
        data={"batch": (io.BytesIO(batch_zip(broken, roster)), "batch-1.zip")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    problem = refused.json["problems"][0]
    assert problem["file"] == "responses.csv" and problem["row"] == len(broken) + 1
    page = office.post(
        "/office/sessions/OFF-1/intake",
        data={"batch": (io.BytesIO(batch_zip(broken, roster)), "batch-1.zip")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert "responses.csv" in page and str(len(broken) + 1) in page
    with world.tx() as db:
        exam = get_session(db, "OFF-1")
        assert db.scalar(select(func.count()).where(Script.session_id == exam.id)) == 0
    taken = office.post(
        "/api/v1/sessions/OFF-1/intake",
        data={"batch": (io.BytesIO(batch_zip(rows, roster)), "batch-1.zip")},
        content_type="multipart/form-data",
    )
    assert taken.status_code == 201 and taken.json["candidates"] == 5
    not_zip = office.post(
        "/api/v1/sessions/OFF-1/intake",
        data={"batch": (io.BytesIO(b"plain"), "x.zip")},
        content_type="multipart/form-data",
    )
    assert not_zip.status_code == 422 and "zip" in not_zip.json["detail"]

    csv_text = (
        "username,name,certificate_no,certificate_expires,grade,scope,institution\n"
        "old1,老考评员,C-OLD1,2020-01-01,examiner,6-31-01-03:3,站\n"
    )
    imported = office.post(
        "/api/v1/examiners/import",
        data={"file": (io.BytesIO(csv_text.encode()), "examiners.csv")},
        content_type="multipart/form-data",
    )
    assert imported.status_code == 200 and imported.json["created"] == 1
    refused_assign = office.post(
        "/api/v1/sessions/OFF-1/groups/short/assign", json={"examiners": ["e1", "old1"]}
    )
    assert refused_assign.status_code == 422
    assert "old1：证书 C-OLD1 已于 2020-01-01 到期" in refused_assign.json["detail"]
    assert "e1：" not in refused_assign.json["detail"]
    for group in ("short", "prac"):
        done = office.post(
            f"/office/sessions/OFF-1/groups/{group}/assign",
            data={"examiner_list": "e1, e2, e3", "lead": "lead"},
        )
        assert done.status_code == 302
    lead = world.client("lead")
    for group in ("short", "prac"):
        assert lead.post(f"/api/v1/sessions/OFF-1/groups/{group}/approve").status_code == 200
    progress = office.get("/api/v1/sessions/OFF-1/progress").json
    assert [g["approved"] for g in progress["groups"]] == [True, True]
    assert "<progress" in office.get("/office/sessions/OFF-1").get_data(as_text=True)
    with world.tx() as db:
        assert db.scalar(select(func.count()).select_from(IntakeBatch)) >= 1


def test_no_marks_or_finals_by_script_leave_before_publication(world: World) -> None:
    """R8: before publication nobody gets scores by script. The office follows progress in
    counts; the lead's statistics name examiners, never a script; the marks and finals
    exports wait for publication like the results."""
    world.session("EXP-1")
    with world.tx() as db:
        exam = get_session(db, "EXP-1")
        mark_all(db, exam, ["e1", "e2", "e3"])
        codes = set(db.scalars(select(Script.code).where(Script.session_id == exam.id)))
    office, director, lead = (world.client(u) for u in ("office", "director", "lead"))
    for client in (office, director):
        for what in ("marks", "finals", "results"):
            refused = client.get(f"/api/v1/sessions/EXP-1/exports/{what}")
            assert refused.status_code == 409, (what, refused.status_code)
            assert "(R8)" in refused.json["detail"]
        assert client.get("/api/v1/sessions/EXP-1/exports/paper").status_code == 200
    seen = [
        office.get("/api/v1/sessions/EXP-1/progress").data,
        office.get("/office/sessions/EXP-1").data,
        director.get("/director/sessions/EXP-1").data,
        lead.get("/api/v1/sessions/EXP-1/progress").data,
        lead.get("/api/v1/sessions/EXP-1/reports/stats?format=csv&lang=en").data,
        office.get("/api/v1/sessions/EXP-1/reports/stats?format=csv&lang=en").data,
    ]
    stats = seen[-2].decode("utf-8-sig")
    assert "e1" in stats  # the statistics do name examiners
    assert not [code for code in codes for body in seen if code.encode() in body]


def test_director_approves_and_office_publishes_with_the_key_file(world: World) -> None:
    tiny = world.session("PUB-1", key_file=True)
    with world.tx() as db:
        mark_all(db, get_session(db, "PUB-1"), ["e1", "e2", "e3"])
    office, director = world.client("office"), world.client("director")
    assert tiny.keys.key_file is not None
    key_bytes = tiny.keys.key_file.read_bytes()

    early = office.post(
        "/api/v1/sessions/PUB-1/publication",
        data={"key_file": (io.BytesIO(key_bytes), "s.key"), "passphrase": PASSPHRASE},
        content_type="multipart/form-data",
    )
    assert early.status_code == 409 and "approval" in early.json["detail"]
    checklist = office.get("/api/v1/sessions/PUB-1/publication").json
    assert {c["item"]: c["ok"] for c in checklist["checklist"]} == {
        "key": True,
        "marking_done": True,
        "approved": False,
    }
    assert office.post("/api/v1/sessions/PUB-1/publication/approval").status_code == 403
    approved = director.post(
        "/director/sessions/PUB-1/approval", data={"note": "已审阅", **CONFIRMED}
    )
    assert approved.status_code == 302
    wrong = office.post(
        "/api/v1/sessions/PUB-1/publication",
        data={"key_file": (io.BytesIO(key_bytes), "s.key"), "passphrase": "wrong passphrase"},
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 422
    assert office.get("/api/v1/sessions/PUB-1/results").status_code == 409
    # Reports that name candidates wait for publication; the lead's statistics do not, and
    # they name examiners, never candidates.
    register = office.get("/api/v1/sessions/PUB-1/reports/register")
    assert register.status_code == 409 and "publication" in register.json["detail"]
    lead = world.client("lead")
    assert lead.get("/api/v1/sessions/PUB-1/reports/register").status_code == 403
    stats = lead.get("/api/v1/sessions/PUB-1/reports/stats?lang=zh")
    assert stats.status_code == 200 and stats.mimetype == "application/pdf"
    stats_text = pdf_text(stats.data)
    assert "e1" in stats_text
    assert not [c.name for c in tiny.candidates if c.name in stats_text]
    published = office.post(
        "/office/sessions/PUB-1/publication",
        data={
            "key_file": (io.BytesIO(key_bytes), "s.key"),
            "passphrase": PASSPHRASE,
            "confirm": "yes",
        },
        content_type="multipart/form-data",
    )
    assert published.status_code == 302
    results = office.get("/office/sessions/PUB-1/results").get_data(as_text=True)
    for candidate in tiny.candidates:
        assert candidate.name in results
    export = director.get("/api/v1/sessions/PUB-1/exports/results")
    assert export.status_code == 200 and export.data.startswith("\ufeff".encode())
    assert tiny.candidates[0].exam_no.encode() in export.data
    marks = office.get("/api/v1/sessions/PUB-1/exports/marks")
    assert marks.status_code == 200 and b",e1," in marks.data
    register = director.get("/api/v1/sessions/PUB-1/reports/register")
    assert register.status_code == 200 and register.mimetype == "application/pdf"
    assert 'filename="PUB-1-register.pdf"' in register.headers["Content-Disposition"]
    register_text = pdf_text(register.data)
    assert all(c.name in register_text for c in tiny.candidates)
    assert "成绩册" in register_text
    workbook = office.get("/api/v1/sessions/PUB-1/reports/stats?format=xlsx&lang=en")
    assert workbook.status_code == 200 and workbook.data.startswith(b"PK")
    assert office.get("/api/v1/sessions/PUB-1/reports/notices?format=csv").status_code == 422
    assert "成绩 SHA-256" in director.get("/director/sessions/PUB-1").get_data(as_text=True)
