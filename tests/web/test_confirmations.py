"""Irreversible steps are confirmed, naming what will happen, and a refused one comes back
on its own page with the reason beside the form (issue 14, items 2 and 3): making the key,
publishing. (Disabling an account: tests/web/test_security.py; withdrawing a batch:
tests/web/test_batches.py; suspending: tests/web/test_lead_quality.py.)"""

from __future__ import annotations

import io

from marking.setup.sessions import get_session
from marking.store.models import SessionState
from tests.integration.factory import PASSPHRASE, mark_all
from tests.web.conftest import CONFIRMED, World
from tests.web.test_custody import keyless_session


def test_the_key_is_made_only_once_confirmed_and_a_refusal_keeps_the_form(world: World) -> None:
    keyless_session(world, "CONF-KEY")
    office = world.client("office")
    page = office.get("/office/sessions/CONF-KEY").get_data(as_text=True)
    assert "密钥只生成一次" in page and "服务器不留副本" in page  # what will happen, named
    form = {"custody": "shares", "custodian": ["director", "lead"], "threshold": "2"}
    refused = office.post("/office/sessions/CONF-KEY/keys", data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "请勾选确认框：密钥只生成一次" in text and 'class="flash error refused"' in text
    # the custodians ticked are still ticked, the k typed still there
    assert 'value="director" checked' in text and 'value="lead" checked' in text
    assert 'value="office" checked' not in text
    with world.tx() as db:
        assert get_session(db, "CONF-KEY").public_key is None
    made = office.post("/office/sessions/CONF-KEY/keys", data={**form, "confirm": "yes"})
    assert made.status_code == 302
    page = office.get("/office/sessions/CONF-KEY").get_data(as_text=True)
    assert "尚未下载" in page  # who holds what: each custodian's share, not yet downloaded


def test_publication_is_confirmed_and_a_wrong_passphrase_stays_on_the_page(world: World) -> None:
    tiny = world.session("CONF-PUB", key_file=True)
    with world.tx() as db:
        mark_all(db, get_session(db, "CONF-PUB"), ["e1", "e2", "e3"])
    assert (
        world.client("director")
        .post("/director/sessions/CONF-PUB/approval", data=CONFIRMED)
        .status_code
        == 302
    )
    assert tiny.keys.key_file is not None
    key = tiny.keys.key_file.read_bytes()
    office = world.client("office")
    assert "发布将解封考生与试卷的对应关系" in office.get(
        "/office/sessions/CONF-PUB/publication"
    ).get_data(as_text=True)

    def publish(**form: str) -> tuple[int, str]:
        answer = office.post(
            "/office/sessions/CONF-PUB/publication",
            data={"key_file": (io.BytesIO(key), "s.key"), **form},
            content_type="multipart/form-data",
        )
        return answer.status_code, answer.get_data(as_text=True)

    for form, reason in (
        ({"passphrase": PASSPHRASE}, "请勾选确认框以确认发布"),
        ({"passphrase": "not the passphrase", "confirm": "yes"}, "口令"),
    ):
        status, page = publish(**form)
        assert status == 422 and "<h1>发布 · CONF-PUB</h1>" in page
        refusal = page.split('class="flash error refused"', 1)[1].split("</div>", 1)[0]
        assert reason in refusal
        assert 'name="key_file"' in page  # the form is there to try again
        with world.tx() as db:
            assert get_session(db, "CONF-PUB").state is not SessionState.PUBLISHED
    status, _page = publish(passphrase=PASSPHRASE, confirm="yes")
    assert status == 302
