"""Logins, throttling, idle timeout, cookies, CSRF, API tokens, headers, languages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from marking.store.models import ApiToken, WebLogin
from tests.web.conftest import PASSWORD, World, csrf_of, login


def try_login(client, username: str, password: str) -> int:  # type: ignore[no-untyped-def]
    token = csrf_of(client)
    return int(
        client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        ).status_code
    )


def test_login_is_throttled_per_account_then_per_address(world: World) -> None:
    world.session("SEC-1")
    world.app.config.update(THROTTLE_ACCOUNT=3, THROTTLE_ADDRESS=6)
    try:
        client = world.app.test_client()
        assert [try_login(client, "e2", "wrong password!") for _ in range(3)] == [401] * 3
        # Throttled now: even the right password is not tried.
        assert try_login(client, "e2", PASSWORD) == 429
        # Other accounts from this address still get in, until the address's limit.
        assert try_login(client, "e3", "wrong password!") == 401
        assert try_login(client, "nobody", "wrong password!") == 401
        assert try_login(client, "e3", "wrong password!") == 401
        assert try_login(client, "e1", PASSWORD) == 429
        page = client.post(
            "/login",
            data={"username": "e1", "password": PASSWORD, "csrf_token": csrf_of(client)},
        ).get_data(as_text=True)
        assert "分钟后再试" in page
    finally:
        world.app.config.update(THROTTLE_ACCOUNT=5, THROTTLE_ADDRESS=30)
        with world.tx() as db:
            from marking.store.models import LoginAttempt

            db.query(LoginAttempt).delete()


def test_cookies_csrf_and_headers(world: World) -> None:
    world.session("SEC-2")
    client = world.app.test_client()
    answer = login(client, "e1")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    secure_app_cookie = world.app.config["SESSION_COOKIE_SECURE"]
    assert secure_app_cookie is False  # the tests run on plain HTTP; the default is True
    page = client.get("/examiner/")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert "<script>" not in page.get_data(as_text=True)
    del client.environ_base["HTTP_X_CSRFTOKEN"]
    refused = client.post("/api/v1/sessions/SEC-2/claim", json={"size": 1})
    assert refused.status_code == 400 and refused.json["error"] == "csrf"


def test_default_is_secure_cookies() -> None:
    from web import DEFAULTS

    assert DEFAULTS["SESSION_COOKIE_SECURE"] is True


def test_api_tokens_are_hashed_at_rest_and_revocable(world: World) -> None:
    world.session("SEC-3")
    browser = world.client("e1")
    made = browser.post("/api/v1/tokens", json={"name": "bench"})
    assert made.status_code == 201
    value = made.json["token"]
    with world.tx() as db:
        stored = db.scalars(select(ApiToken.token_sha256)).all()
        assert value not in stored and all(len(s) == 64 for s in stored)
    script = world.app.test_client()
    auth = {"Authorization": f"Bearer {value}"}
    assert script.get("/api/v1/me", headers=auth).json["via"] == "token"
    # A token needs no CSRF header: no browser sends it on its own.
    assert (
        script.post("/api/v1/sessions/SEC-3/claim", json={"size": 1}, headers=auth).status_code
        == 200
    )
    assert "Set-Cookie" not in script.get("/api/v1/me", headers=auth).headers
    browser.post(f"/api/v1/tokens/{made.json['id']}/revoke")
    assert script.get("/api/v1/me", headers=auth).status_code == 401
    assert (
        script.get("/api/v1/me", headers={"Authorization": "Bearer bm_forged"}).status_code == 401
    )


def test_idle_logins_end_and_logout_ends_the_server_side_login(world: World) -> None:
    world.session("SEC-4")
    client = world.client("e1")
    assert client.get("/api/v1/me").status_code == 200
    with world.tx() as db:
        db.execute(
            update(WebLogin).values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )
    assert client.get("/api/v1/me").status_code == 401
    second = world.client("e1")
    cookie = second.get_cookie("blindmark")
    assert cookie is not None
    second.post("/logout")
    replay = world.app.test_client()
    replay.set_cookie("blindmark", cookie.value)
    assert replay.get("/api/v1/me").status_code == 401


def test_admin_manages_accounts_and_disabling_ends_logins(world: World) -> None:
    world.session("SEC-5")
    admin, victim = world.client("admin"), world.client("director")
    made = admin.post(
        "/api/v1/accounts",
        json={"username": "office2", "role": "office", "password": "short"},
    )
    # The refusal is coded (password_short), so it reads in the caller's language.
    assert made.status_code == 422 and "密码至少需要 10 个字符" in made.json["detail"]
    made = admin.post(
        "/admin/accounts",
        data={"username": "office2", "role": "office", "name": "二号", "password": PASSWORD},
    )
    assert made.status_code == 302
    assert "office2" in admin.get("/admin/").get_data(as_text=True)
    assert (
        admin.post(
            "/api/v1/accounts", json={"username": "x", "role": "examiner", "password": PASSWORD}
        ).status_code
        == 422
    )
    assert victim.get("/api/v1/me").status_code == 200
    asked = admin.post("/admin/accounts/director", data={"active": "0"})
    assert asked.status_code == 200 and "停用 director 将立即结束" in asked.get_data(as_text=True)
    assert victim.get("/api/v1/me").status_code == 200  # nothing done before the confirmation
    done = admin.post("/admin/accounts/director", data={"active": "0", "confirm": "yes"})
    assert done.status_code == 302
    assert victim.get("/api/v1/me").status_code == 401
    assert try_login(world.app.test_client(), "director", PASSWORD) == 401
    admin.post("/api/v1/accounts/director", json={"active": True})


def test_chinese_by_default_english_by_choice(world: World) -> None:
    client = world.app.test_client()
    assert "登录" in client.get("/login").get_data(as_text=True)
    client.get("/lang/en")
    english = client.get("/login").get_data(as_text=True)
    assert "Log in" in english and "登录" not in english.replace("中文", "")
