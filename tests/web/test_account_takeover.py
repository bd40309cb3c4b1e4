"""One admin alone cannot take over accounts (issue 9, items 12-14, attack review): not the
custodians of a session's key shares, not a director by demoting it first, not the other
admins by demoting or disabling them; and a look-alike username gives no free guesses."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import delete, select

from marking.audit.verify import verify, verify_accounts
from marking.people.accounts import add_user
from marking.setup.sessions import get_session
from marking.store.models import Account, LoginThrottle, Role
from tests.web.conftest import PASSWORD, World
from tests.web.test_account_access import try_login
from tests.web.test_custody import keyless_session
from tests.web.test_four_eyes import logs_in, role_of

NEW = "a-new-password-77"


def second_admin(world: World, *names: str) -> FlaskClient:
    with world.tx() as db:
        for name in ("admin2", *names):
            if db.scalar(select(Account.id).where(Account.username == name)) is None:
                add_user(db, name, role=Role.ADMIN if name == "admin2" else Role.LEAD)
        world.passwords(db)
    return world.client("admin2")


def test_one_admin_cannot_take_over_custodians_to_collect_k_shares(world: World) -> None:
    keyless_session(world, "TKO-1")
    admin2 = second_admin(world, "lead2", "lead3")
    made = world.client("office").post(
        "/office/sessions/TKO-1/keys",
        data={
            "custody": "shares",
            "custodian": ["lead2", "lead3", "director"],
            "threshold": "2",
            "confirm": "yes",
        },
    )
    assert made.status_code == 302
    admin = world.client("admin")
    for custodian in ("lead2", "lead3"):
        reset = admin.post(f"/api/v1/accounts/{custodian}", json={"password": NEW})
        assert reset.status_code == 200
        assert [r["change"] for r in reset.json["pending"]] == ["password"]
        assert not logs_in(world, custodian, NEW) and logs_in(world, custodian, PASSWORD)
    # The custodian takes their share; their password is then an ordinary lead's again.
    assert world.client("lead2").post("/account/shares/TKO-1").status_code == 200
    [waiting] = [r for r in admin2.get("/api/v1/account-requests").json if r["username"] == "lead2"]
    assert admin2.post(f"/api/v1/account-requests/{waiting['id']}/reject").status_code == 200
    again = admin.post("/api/v1/accounts/lead2", json={"password": NEW})
    assert again.status_code == 200 and again.json["pending"] == []
    assert logs_in(world, "lead2", NEW)
    with world.tx() as db:
        assert verify(db, get_session(db, "TKO-1")).ok and verify_accounts(db).ok


def test_demoting_first_or_disabling_admins_does_not_get_past_the_second_admin(
    world: World,
) -> None:
    world.session("TKO-2")
    admin2 = second_admin(world, "lead7")
    with world.tx() as db:
        add_user(db, "director2", role=Role.DIRECTOR)
        world.passwords(db)
    admin = world.client("admin")

    both = admin.post("/api/v1/accounts/director2", json={"role": "lead", "password": NEW})
    assert both.status_code == 200
    assert sorted(r["change"] for r in both.json["pending"]) == ["password", "role"]
    assert role_of(admin, "director2") == "director"
    assert not logs_in(world, "director2", NEW) and logs_in(world, "director2", PASSWORD)

    # Nor can one admin leave nobody to approve: demoting or disabling another admin waits.
    demote = admin.post("/api/v1/accounts/admin2", json={"role": "lead"})
    disable = admin.post("/api/v1/accounts/admin2", json={"active": False})
    assert [r["change"] for r in demote.json["pending"]] == ["role"]
    assert [r["change"] for r in disable.json["pending"]] == ["disable"]
    assert role_of(admin, "admin2") == "admin" and logs_in(world, "admin2", PASSWORD)
    assert admin2.get("/api/v1/account-requests").status_code == 200

    # The second admin decides on the account as it is: a request made before the account's
    # password changed is shown with that change and cannot be approved.
    promote = admin.post("/api/v1/accounts/lead7", json={"role": "director"})
    [asked] = promote.json["pending"]
    assert admin.post("/api/v1/accounts/lead7", json={"password": NEW}).json["pending"] == []
    [listed] = [r for r in admin2.get("/api/v1/account-requests").json if r["id"] == asked["id"]]
    assert listed["changed_since"] == ["password_set"]
    assert "申请之后的变更" in admin2.get("/admin/").get_data(as_text=True)
    refused = admin2.post(f"/api/v1/account-requests/{asked['id']}/approve")
    assert refused.status_code == 409 and "changed after request" in refused.json["detail"]
    assert role_of(admin, "lead7") == "lead"
    with world.tx() as db:
        assert verify_accounts(db).ok


def test_a_device_cookie_earned_on_a_look_alike_name_gives_no_free_guesses(
    world: World,
) -> None:
    world.session("TKO-3")
    saved = {k: v for k, v in world.app.config.items() if k.startswith("THROTTLE_")}
    world.app.config.update(THROTTLE_ACCOUNT=3, THROTTLE_ADDRESS=1000)
    try:
        guesses_count_at_the_account_itself(world)
    finally:
        world.app.config.update(saved)
        with world.tx() as db:
            db.execute(delete(LoginThrottle))


def guesses_count_at_the_account_itself(world: World) -> None:
    with world.tx() as db:
        db.execute(delete(LoginThrottle))
        # A look-alike made before usernames were compared without case (no path makes one now).
        db.add(Account(username="Office", name="Office", role=Role.LEAD))
        db.flush()
        world.passwords(db)
    wrong = []
    for _round in range(3):  # each round a fresh browser with a fresh device cookie
        attacker = world.app.test_client()
        if try_login(attacker, "Office", PASSWORD) == 302:
            wrong += [try_login(attacker, "office", "guess!") for _ in range(3)]
    assert wrong.count(401) == 3  # the account's limit, however many cookies are minted
    with world.tx() as db:
        bucket = db.get(LoginThrottle, ("account", "office"))
        assert bucket is not None and bucket.failures >= 3

    made = world.client("admin").post(
        "/api/v1/accounts", json={"username": "OFFICE", "role": "lead", "password": PASSWORD}
    )
    assert made.status_code == 422 and "仅有大小写之差" in made.json["detail"]
