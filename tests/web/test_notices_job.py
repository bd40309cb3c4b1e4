"""The office's "score notices" button queues a background job (run in the request here,
huey's immediate mode); the run's page shows its state and, once done, the download; the
director, and another session's URL, get nothing."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from marking.setup.sessions import get_session
from tests.integration.factory import mark_all
from tests.web.conftest import CONFIRMED, World, csrf_of
from tests.web.test_batches import publish


def test_the_office_asks_for_the_notices_and_downloads_them_when_done(world: World) -> None:
    world.app.config["JOBS_IMMEDIATE"] = True
    tiny = world.session("NJ-1", key_file=True)
    world.session("NJ-2")
    with world.tx() as db:
        mark_all(db, get_session(db, "NJ-1"), ["e1", "e2", "e3"])
    office = world.client("office")
    early = office.post("/office/sessions/NJ-1/notices", data={"lang": "zh"})
    assert early.status_code == 409  # before publication: refused, nothing queued
    assert (
        world.client("director")
        .post("/director/sessions/NJ-1/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    assert tiny.keys.key_file is not None
    assert publish(world, "NJ-1", tiny.keys.key_file.read_bytes())[0] == 200

    results = office.get("/office/sessions/NJ-1/results").get_data(as_text=True)
    assert "/office/sessions/NJ-1/notices" in results
    asked = office.post(
        "/office/sessions/NJ-1/notices", data={"lang": "en", "csrf_token": csrf_of(office)}
    )
    assert asked.status_code == 302
    page_url = asked.headers["Location"]
    page = office.get(page_url).get_data(as_text=True)
    assert 'data-state="done"' in page and "http-equiv" not in page
    found = re.search(r'href="([^"]+/pdf)"', page)
    assert found
    pdf = office.get(found.group(1))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == len(tiny.candidates)

    assert world.client("director").get(page_url).status_code == 403
    run_id = page_url.rsplit("/", 1)[1]
    assert office.get(f"/office/sessions/NJ-2/notices/{run_id}").status_code == 404
