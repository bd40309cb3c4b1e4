"""Account access (issue 9, items 11 and 12): a new password or a disabled account ends
every browser login and API token, whichever way it is set; login throttling is atomic,
remembers an address's failures after a success, and slows an account's owner down without
locking them out."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import delete, update

from marking.cli import main
from marking.store.models import LoginThrottle
from tests.web.conftest import PASSWORD, World, csrf_of, login


def try_login(client: FlaskClient, username: str, password: str, token: str | None = None) -> int:
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token or csrf_of(client)},
    )
    return int(answer.status_code)


_seeded: set[int] = set()


def seeded(world: World) -> None:
    """Staff, examiners and their passwords, once per module's world."""
    if id(world) not in _seeded:
        world.session("ACC-SEED")
        _seeded.add(id(world))


@pytest.fixture
def throttling(world: World) -> Iterator[None]:
    """Throttling from a clean slate, the limits restored afterwards."""
    seeded(world)
    saved = {k: v for k, v in world.app.config.items() if k.startswith("THROTTLE_")}

    def clear() -> None:
        with world.tx() as db:
            db.execute(delete(LoginThrottle))

    clear()
    try:
        yield
    finally:
        world.app.config.update(saved)
        clear()


def new_staff(world: World, username: str, role: str = "lead") -> None:
    # A lead account takes effect at once (director, office and admin accounts wait for a
    # second admin, item 14), so these tests of logins need no second admin.
    admin = world.client("admin")
    made = admin.post(
        "/api/v1/accounts", json={"username": username, "role": role, "password": PASSWORD}
    )
    assert made.status_code == 201, made.json


def token_of(client: FlaskClient) -> dict[str, str]:
    made = client.post("/api/v1/tokens", json={"name": "script"})
    assert made.status_code == 201
    return {"Authorization": f"Bearer {made.json['token']}"}


# --- item 11: a new password or a disabled account ends every login and token ---------------


def test_a_new_password_or_disabling_ends_every_login_and_every_token(world: World) -> None:
    seeded(world)
    new_staff(world, "keeper1")
    browser = world.client("keeper1")
    script = world.app.test_client()
    bearer = token_of(browser)
    assert browser.get("/api/v1/me").status_code == 200
    assert script.get("/api/v1/me", headers=bearer).status_code == 200

    admin = world.client("admin")
    reset = admin.post("/admin/accounts/keeper1", data={"password": "a brand new password 1"})
    assert reset.status_code == 302
    assert browser.get("/api/v1/me").status_code == 401
    assert script.get("/api/v1/me", headers=bearer).status_code == 401

    # Disabled through the API, then enabled again: nothing from before comes back.
    browser = world.client(None)
    login(browser, "keeper1", "a brand new password 1")
    bearer = token_of(browser)
    assert admin.post("/api/v1/accounts/keeper1", json={"active": False}).status_code == 200
    assert admin.post("/api/v1/accounts/keeper1", json={"active": True}).status_code == 200
    assert browser.get("/api/v1/me").status_code == 401
    assert script.get("/api/v1/me", headers=bearer).status_code == 401
    tokens = world.client(None)
    login(tokens, "keeper1", "a brand new password 1")
    assert all(t["revoked"] for t in tokens.get("/api/v1/tokens").json)


def test_blindmark_user_passwd_ends_every_login_and_every_token(world: World) -> None:
    seeded(world)
    new_staff(world, "keeper2")
    browser = world.client("keeper2")
    bearer = token_of(browser)
    done = CliRunner().invoke(
        main,
        ["--db", world.database.url, "user", "passwd", "keeper2", "--password-stdin"],
        input="set from the command line\n",
    )
    assert done.exit_code == 0, done.output
    assert browser.get("/api/v1/me").status_code == 401
    assert world.app.test_client().get("/api/v1/me", headers=bearer).status_code == 401
    assert try_login(world.app.test_client(), "keeper2", "set from the command line") == 302


# --- item 12: throttling ------------------------------------------------------------------


def test_concurrent_wrong_passwords_cannot_exceed_the_limit(world: World, throttling: None) -> None:
    """40 wrong passwords at once against one account: exactly the limit reach the password
    check (on PostgreSQL 16 of 40 used to), the rest are throttled."""
    world.app.config.update(THROTTLE_ACCOUNT=5, THROTTLE_ADDRESS=1000)
    attempts = 40
    clients = [world.app.test_client() for _ in range(attempts)]
    tokens = [csrf_of(c) for c in clients]
    start = threading.Barrier(attempts)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        start.wait()
        status = try_login(clients[i], "e3", f"wrong password {i}", tokens[i])
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == 5, statuses
    # The right password waits too: a throttled account is no oracle.
    assert try_login(world.app.test_client(), "e3", PASSWORD) == 429


def test_a_success_does_not_wipe_the_address_failures(world: World, throttling: None) -> None:
    world.app.config.update(THROTTLE_ACCOUNT=10, THROTTLE_ADDRESS=4)
    stranger = world.app.test_client()
    for name in ("e2", "e3", "nobody"):
        assert try_login(stranger, name, "wrong password!") == 401
    # The stranger logs in with an account of their own from the same address...
    assert try_login(world.app.test_client(), "e1", PASSWORD) == 302
    # ...and still has only what was left of the address's allowance.
    assert try_login(stranger, "lead", "wrong password!") == 401
    assert try_login(stranger, "director", "wrong password!") == 429


def test_a_locked_account_slows_its_owner_down_but_never_locks_them_out(
    world: World, throttling: None
) -> None:
    world.app.config.update(THROTTLE_ACCOUNT=5, THROTTLE_ADDRESS=1000)
    owner = world.app.test_client()
    assert try_login(owner, "e2", PASSWORD) == 302  # this browser is known to the account

    attacker = world.app.test_client()
    assert [try_login(attacker, "e2", "guess!") for _ in range(5)] == [401] * 5
    assert [try_login(attacker, "e2", "guess!") for _ in range(20)] == [429] * 20
    # The owner's own browser is not slowed by a stranger's guesses at all.
    assert try_login(owner, "e2", PASSWORD) == 302

    # A new browser of the owner's waits, but never longer than the cap, however long the
    # attack has gone on, and refused attempts do not push the wait further.
    with world.tx() as db:
        db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.scope == "account", LoginThrottle.key == "e2")
            .values(failures=500)
        )
    elsewhere = world.app.test_client()
    answer = elsewhere.post(
        "/login",
        data={"username": "e2", "password": PASSWORD, "csrf_token": csrf_of(elsewhere)},
    )
    assert answer.status_code == 429
    minutes = int(re.search(r"(\d+) 分钟后再试", answer.get_data(as_text=True)).group(1))  # type: ignore[union-attr]
    assert 1 <= minutes <= 15
    assert [try_login(attacker, "e2", "guess!") for _ in range(5)] == [429] * 5
    with world.tx() as db:
        bucket = db.get(LoginThrottle, ("account", "e2"))
        assert bucket is not None and bucket.last_at is not None
        bucket.last_at -= dt.timedelta(minutes=15)  # the cap has passed
    assert try_login(elsewhere, "e2", PASSWORD) == 302
