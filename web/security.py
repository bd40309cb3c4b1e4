"""Who is asking: browser logins (server-side, idle timeout), API tokens, login throttling,
CSRF for cookie logins, role checks and the security headers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import math
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, after_this_request, current_app, g, request
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from marking.people.accounts import check_password
from marking.store.models import (
    Account,
    ApiToken,
    LoginAttempt,
    LoginThrottle,
    Role,
    WebLogin,
    utcnow,
)
from web.db import get_db

F = TypeVar("F", bound=Callable[..., Any])
TOKEN_PREFIX = "bm_"
# Writing last_seen on every request would add a write to every read: once a minute will do.
TOUCH_EVERY = dt.timedelta(seconds=60)

csrf = CSRFProtect()
login_manager = LoginManager()
talisman = Talisman()

# No inline script or style anywhere: JavaScript and CSS are static files of this site.
CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


class Unauthorized(Exception):
    """Not logged in (or the login ended)."""


class Forbidden(Exception):
    """Logged in, but this account may not do this or see this."""


class Throttled(Exception):
    """Too many failed logins for the account or the address: wait."""

    def __init__(self, minutes: int) -> None:
        self.minutes = minutes
        super().__init__(f"too many failed logins; try again in {minutes} minute(s)")


class Principal(UserMixin):  # type: ignore[misc]
    """The account behind a request, and how it proved itself (``cookie`` or ``token``)."""

    def __init__(self, account: Account, via: str, token: str = "") -> None:
        self.account = account
        self.via = via
        self._token = token

    def get_id(self) -> str:
        return self._token

    @property
    def role(self) -> Role:
        return self.account.role


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def principal() -> Principal:
    """The logged-in principal; Unauthorized when there is none."""
    if not current_user.is_authenticated:
        raise Unauthorized()
    user: Principal = current_user._get_current_object()
    return user


def me() -> Account:
    return principal().account


def require(*roles: Role) -> Callable[[F], F]:
    """The view needs a login with one of ``roles``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if principal().role not in roles:
                raise Forbidden(_("This page is not for your role."))
            return view(*args, **kwargs)

        wrapper.roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def logged_in(view: F) -> F:
    """The view needs a login, any role."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        principal()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


# --- browser logins ---------------------------------------------------------------------------


def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


# Throttling (README, "Web application"): each attempt belongs to buckets, and counts in
# them as a failure *before* its password is checked, under a row lock (PostgreSQL) or the
# one-writer lock (SQLite), so concurrent attempts cannot slip past the limit. A bucket
# allows ``limit`` failures, then one attempt per delay, doubling up to a cap: an attacker
# gets a fixed number of guesses an hour and can delay the owner by the cap at most.
# Attempts with the browser's device cookie (given at a successful login) count in a bucket
# of that browser alone, so a stranger hammering an account does not slow its owner at all.

DEVICE_COOKIE = "blindmark_device"
DEVICE_DAYS = 180


@dataclasses.dataclass(frozen=True)
class Bucket:
    scope: str  # account | address | device
    key: str
    limit: int


def throttle_wait(
    failures: int,
    last_at: dt.datetime | None,
    now: dt.datetime,
    *,
    limit: int,
    delay: float,
    cap: float,
    forget: float,
) -> float:
    """Seconds before a bucket with ``failures`` (the last at ``last_at``) may try again.

    Up to ``limit`` failures: no wait. Beyond: ``delay`` after the last attempt, doubling
    with each further failure, never more than ``cap``. Failures are forgotten once the
    bucket has been quiet for ``forget`` seconds.
    """
    if last_at is None or (now - last_at).total_seconds() >= forget or failures < limit:
        return 0.0
    step = min(delay * 2.0 ** min(failures - limit, 64), cap)
    return max(0.0, step - (now - last_at).total_seconds())


def _config_wait(failures: int, last_at: dt.datetime | None, now: dt.datetime, limit: int) -> float:
    cfg = current_app.config
    return throttle_wait(
        failures,
        last_at,
        now,
        limit=limit,
        delay=cfg["THROTTLE_DELAY"],
        cap=cfg["THROTTLE_MAX_DELAY"],
        forget=cfg["THROTTLE_FORGET"],
    )


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="blindmark-device")


def trusted_device(account_id: int) -> str | None:
    """This browser's device id if it logged in to the account ``account_id`` before (a
    signed cookie). Bound to the account's id, not its name: a cookie earned on ``Office``
    gives no bucket of its own for guesses at ``office``."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return None
    if isinstance(data, dict) and data.get("a") == account_id and isinstance(data.get("d"), str):
        return str(data["d"])[:64]
    return None


def remember_device(account: Account) -> None:
    """After a successful login: this browser gets a throttling bucket of its own for this
    account (a signed cookie sent to /login only; it opens nothing by itself)."""
    if trusted_device(account.id):
        return
    value = _device_serializer().dumps({"a": account.id, "d": secrets.token_hex(16)})

    @after_this_request
    def _set_cookie(response: Any) -> Any:
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_DAYS * 86400,
            path="/login",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
            samesite="Lax",
        )
        return response


def login_buckets(username: str) -> list[Bucket]:
    """The buckets an attempt at ``username`` from this request counts in: the browser's own
    bucket only if its device cookie was earned on exactly this account."""
    cfg = current_app.config
    account_id = get_db().scalar(select(Account.id).where(Account.username == username[:64]))
    device = trusted_device(account_id) if account_id is not None else None
    if device:
        return [Bucket("device", f"{account_id}:{device}", cfg["THROTTLE_ACCOUNT"])]
    return [
        Bucket("account", username.lower()[:128], cfg["THROTTLE_ACCOUNT"]),
        Bucket("address", client_address(), cfg["THROTTLE_ADDRESS"]),
    ]


def _lock_bucket(db: Any, bucket: Bucket) -> tuple[int, dt.datetime | None]:
    """The bucket's row, created if missing and locked until the transaction ends.

    An upsert whose conflict branch changes nothing: on PostgreSQL it waits for another
    transaction holding the row and then returns what that one committed (as the ledger's
    lane lock does); on SQLite the transaction holds the one write lock already.
    """
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(LoginThrottle)
        .values(scope=bucket.scope, key=bucket.key, failures=0, last_at=None)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.scope, LoginThrottle.key],
            set_={"failures": LoginThrottle.failures},
        )
        .returning(LoginThrottle.failures, LoginThrottle.last_at)
    )
    failures, last_at = db.execute(statement).one()
    return int(failures), last_at


def reserve_attempt(db: Any, buckets: list[Bucket], now: dt.datetime) -> None:
    """Count this attempt as a failure in every bucket, or raise Throttled if one of them
    must wait. Commits at once: the count holds even if the request dies, and no lock is
    held while the password is hashed."""
    rows = [_lock_bucket(db, bucket) for bucket in buckets]  # always in the same order
    wait = max(
        _config_wait(failures, last_at, now, bucket.limit)
        for bucket, (failures, last_at) in zip(buckets, rows, strict=True)
    )
    if wait > 0:
        db.commit()
        raise Throttled(max(1, math.ceil(wait / 60)))
    forget = current_app.config["THROTTLE_FORGET"]
    for bucket, (failures, last_at) in zip(buckets, rows, strict=True):
        quiet = last_at is None or (now - last_at).total_seconds() >= forget
        db.execute(
            update(LoginThrottle)
            .where(LoginThrottle.scope == bucket.scope, LoginThrottle.key == bucket.key)
            .values(failures=(0 if quiet else failures) + 1, last_at=now)
        )
    db.commit()


def refund_attempt(db: Any, buckets: list[Bucket]) -> None:
    """A successful login takes back its own count, and nothing more: it never wipes the
    failures of others from the same address."""
    for bucket in buckets:
        db.execute(
            update(LoginThrottle)
            .where(
                LoginThrottle.scope == bucket.scope,
                LoginThrottle.key == bucket.key,
                LoginThrottle.failures > 0,
            )
            .values(failures=LoginThrottle.failures - 1)
        )


def record_attempt(username: str, success: bool, now: dt.datetime) -> None:
    """The log of attempts that reached the password check (who tried what, when)."""
    db = get_db()
    for scope, key in (("account", username.lower()[:128]), ("address", client_address())):
        db.add(LoginAttempt(scope=scope, key=key, success=success, at=now))
    db.flush()


_dummy_hash: list[str] = []


def authenticate(username: str, password: str) -> Account | None:
    """The active account with this password, or None. Costs the same for unknown names."""
    db = get_db()
    account = db.scalar(select(Account).where(Account.username == username))
    if account is None or account.password_hash is None:
        if not _dummy_hash:
            from marking.people.accounts import hash_password

            _dummy_hash.append(hash_password(secrets.token_hex(16)))
        check_password(Account(password_hash=_dummy_hash[0], active=True), password)
        return None
    return account if check_password(account, password) else None


def start_login(account: Account, now: dt.datetime) -> Principal:
    token = secrets.token_urlsafe(32)
    get_db().add(
        WebLogin(
            account_id=account.id,
            token_sha256=sha256(token),
            address=client_address(),
            created_at=now,
            last_seen_at=now,
        )
    )
    return Principal(account, "cookie", token)


def end_login() -> None:
    user = principal()
    if user.via == "cookie":
        get_db().execute(
            update(WebLogin)
            .where(WebLogin.token_sha256 == sha256(user.get_id()))
            .values(ended_at=utcnow())
        )


def _load_cookie_login(token: str) -> Principal | None:
    db = get_db()
    now = utcnow()
    row = db.execute(
        select(WebLogin, Account)
        .join(Account, Account.id == WebLogin.account_id)
        .where(WebLogin.token_sha256 == sha256(token), WebLogin.ended_at.is_(None))
    ).first()
    if row is None:
        return None
    login, account = row
    idle = dt.timedelta(seconds=current_app.config["IDLE_TIMEOUT"])
    if not account.active or now - login.last_seen_at > idle:
        login.ended_at = now
        db.commit()  # the login ends even though this request will be refused
        g.login_expired = True
        return None
    if now - login.last_seen_at > TOUCH_EVERY:
        login.last_seen_at = now
    return Principal(account, "cookie", token)


# --- API tokens -------------------------------------------------------------------------------


def new_api_token(account: Account, name: str) -> tuple[ApiToken, str]:
    """A new token for the account; the clear value is returned once and never stored."""
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(account_id=account.id, name=name.strip()[:128], token_sha256=sha256(value))
    db = get_db()
    db.add(token)
    db.flush()
    return token, value


def _load_token(req: Any) -> Principal | None:
    header = req.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    value = header[len("Bearer ") :].strip()
    if not value.startswith(TOKEN_PREFIX):
        return None
    db = get_db()
    row = db.execute(
        select(ApiToken, Account)
        .join(Account, Account.id == ApiToken.account_id)
        .where(ApiToken.token_sha256 == sha256(value), ApiToken.revoked_at.is_(None))
    ).first()
    if row is None or not row[1].active:
        return None
    token, account = row
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        token.last_used_at = now
    return Principal(account, "token")


# --- wiring -----------------------------------------------------------------------------------

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _json_strings(data: Any) -> list[str]:
    """Every string of a parsed JSON body, keys included, at any depth (without recursion)."""
    strings: list[str] = []
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            strings += [k for k in item if isinstance(k, str)]
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return strings


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # the server-side login is the protection
    login_manager.user_loader(_load_cookie_login)
    login_manager.request_loader(_load_token)
    talisman.init_app(
        app,
        force_https=False,  # TLS ends at the proxy, or there is none on a local demo
        strict_transport_security=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        session_cookie_samesite="Lax",
        content_security_policy=CSP,
        frame_options="DENY",
        referrer_policy="no-referrer",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )

    @app.before_request
    def _no_nul_characters() -> None:
        # PostgreSQL text cannot hold NUL: refuse it as bad input, not a server error. Every
        # value of a repeated field counts (``examiners=e1&examiners=e2%00``), and so does
        # every key and string at any depth of a JSON body.
        values = [request.path]
        for fields in (request.args, request.form):
            for key, items in fields.lists():
                values += [x for x in (key, *items) if isinstance(x, str)]
        values += [f.filename or "" for _key, f in request.files.items(multi=True)]
        if request.is_json:
            values += _json_strings(request.get_json(silent=True))
        if any("\x00" in v for v in values):
            from marking.errors import MarkingError

            raise MarkingError.coded(
                "nul_character", "the request contains a NUL character (an invisible control)"
            )

    @app.before_request
    def _csrf_for_cookie_logins() -> None:
        if request.method not in UNSAFE:
            return
        user = current_user._get_current_object()
        if getattr(user, "via", None) == "token":
            return  # a bearer token is not sent by a browser on its own: no CSRF to fear
        csrf.protect()

    @app.after_request
    def _no_store(response: Any) -> Any:
        # Answers and marks must not linger in a shared browser's or proxy's cache.
        if not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response
