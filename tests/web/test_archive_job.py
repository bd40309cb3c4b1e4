"""The archive button (档案管理): office and director ask for a published session's archive,
made as a background job (run in the request here, huey's immediate mode), watch it and
download it; an archive uploaded to the check page is verified as `verify --archive` does,
and a tampered one is named. Before publication the button is refused."""

from __future__ import annotations

import io
import re
import zipfile

from flask.testing import FlaskClient
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from marking.setup.sessions import get_session
from tests.integration.factory import mark_all
from tests.web.conftest import CONFIRMED, World, csrf_of
from tests.web.test_batches import publish


def check(client: FlaskClient, content: bytes, name: str) -> str:
    """Upload an archive to the check page. The multipart body is encoded in memory: the
    test client would spool a large one to a temporary file it never closes."""
    boundary, body = encode_multipart(
        {"archive": FileStorage(io.BytesIO(content), name), "csrf_token": csrf_of(client)}
    )
    answer = client.post(
        "/archives/verify", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    return answer.get_data(as_text=True)


def test_office_and_director_make_download_and_check_the_archive(world: World) -> None:
    world.app.config["JOBS_IMMEDIATE"] = True
    tiny = world.session("AR-1", key_file=True)
    world.session("AR-2")
    with world.tx() as db:
        mark_all(db, get_session(db, "AR-1"), ["e1", "e2", "e3"])
    office, director = world.client("office"), world.client("director")
    early = office.post("/sessions/AR-1/archive", data={"csrf_token": csrf_of(office)})
    assert early.status_code == 409  # before publication: refused, nothing queued
    assert "场次 AR-1 尚未公布" in early.get_data(as_text=True)
    assert director.post("/director/sessions/AR-1/approval", data=CONFIRMED).status_code == 302
    assert tiny.keys.key_file is not None
    assert publish(world, "AR-1", tiny.keys.key_file.read_bytes())[0] == 200

    for client, results in ((office, "/office"), (director, "/director")):
        page = client.get(f"{results}/sessions/AR-1/results").get_data(as_text=True)
        assert 'action="/sessions/AR-1/archive"' in page
    asked = director.post(
        "/sessions/AR-1/archive", data={"lang": "zh", "csrf_token": csrf_of(director)}
    )
    assert asked.status_code == 302
    page_url = asked.headers["Location"]
    page = director.get(page_url).get_data(as_text=True)
    assert 'data-state="done"' in page and "http-equiv" not in page
    found = re.search(r'href="([^"]+/zip)"', page)
    assert found
    download = office.get(found.group(1))
    assert download.status_code == 200 and download.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(download.data)) as bundle:
        names = bundle.namelist()
    assert "manifest.json" in names and "reports/register.pdf" in names
    run_id = page_url.rsplit("/", 1)[1]
    assert office.get(f"/sessions/AR-2/archive/{run_id}").status_code == 404
    assert world.client("e1").get(page_url).status_code == 403

    checked = check(office, download.data, "AR-1.zip")
    assert 'data-ok="yes"' in checked and "AR-1" in checked

    damaged = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(download.data)) as source,
        zipfile.ZipFile(damaged, "w") as target,
    ):
        for name in source.namelist():
            if name != "reports/stats.pdf":
                target.writestr(name, source.read(name))
    checked = check(director, damaged.getvalue(), "AR-1.zip")
    assert 'data-ok="no"' in checked
    assert "reports/stats.pdf is listed in the manifest but missing from the archive" in checked

    not_a_zip = check(office, b"hello", "x.zip")
    assert "not a blindmark archive" in not_a_zip
