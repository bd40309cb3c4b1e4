"""The web application: a thin Flask adapter over the marking engine (DESIGN §9)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, redirect, request, session, url_for
from flask_babel import Babel
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as WerkzeugResponse

from marking.store.db import DEFAULT_INSTANCE, default_url, make_engine, session_factory

LANGUAGES = ("zh_CN", "en")
DEFAULTS: dict[str, Any] = {
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    # Cookies: Secure unless turned off for plain local HTTP (`serve --insecure-cookies`).
    "SESSION_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "blindmark",
    # An idle browser login ends after this many seconds (checked on the server).
    "IDLE_TIMEOUT": 30 * 60,
    # Login throttling (web/security.py): failures allowed per account (or per trusted
    # browser of it) and per client address; then one attempt per delay, doubling from
    # THROTTLE_DELAY up to THROTTLE_MAX_DELAY seconds; forgotten after THROTTLE_FORGET quiet.
    "THROTTLE_ACCOUNT": 5,
    "THROTTLE_ADDRESS": 30,
    "THROTTLE_DELAY": 30,
    "THROTTLE_MAX_DELAY": 15 * 60,
    "THROTTLE_FORGET": 60 * 60,
    # Proxies in front of the server whose X-Forwarded-For may be trusted (0: none).
    "TRUSTED_PROXIES": 0,
    # The largest body of any route; each route has its own, smaller limit (web/inbound.py).
    "MAX_CONTENT_LENGTH": 512 * 1024 * 1024,
    "WTF_CSRF_CHECK_DEFAULT": False,  # checked in security.py, for cookie logins only
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the login
    # An examiner's marking requests answer no sooner than this many seconds after they
    # arrived, so that no check's timing differs from live work's (web/pacing.py; 0: off).
    "EXAMINER_PACE": 0.05,
}


def _secret_key(instance: Path) -> str:
    """BLINDMARK_SECRET_KEY, else a random key kept under the instance folder, so that
    every worker process of one server (and a restart) signs cookies alike."""
    env = os.environ.get("BLINDMARK_SECRET_KEY")
    if env:
        return env
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The application factory. ``config`` overrides the defaults (tests, `blindmark serve`)."""
    app = Flask(__name__, instance_path=str(DEFAULT_INSTANCE.resolve()))
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.config.setdefault("DATABASE_URL", default_url())
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))
    app.config["PERMANENT_SESSION_LIFETIME"] = app.config["IDLE_TIMEOUT"]
    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1
        )

    engine = app.config.get("ENGINE") or make_engine(app.config["DATABASE_URL"])
    app.extensions["blindmark.engine"] = engine
    app.extensions["blindmark.sessions"] = session_factory(engine)

    from web import db, errors, formatting, inbound, pacing, security

    Babel(app, locale_selector=_locale, timezone_selector=formatting.time_zone)
    app.jinja_env.autoescape = True
    app.jinja_env.policies["ext.i18n.trimmed"] = True

    # Before db: its floor is kept after the commit. Its before-request hook reads only the
    # route and the login (from the cookie or token, as inbound's next does), never a body,
    # so inbound's is still the first that reads one.
    pacing.init_app(app)
    db.init_app(app)
    inbound.init_app(app)  # first: no other hook may read a request before it is admitted
    security.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)

    # Their routes join the role blueprints and api_bp: scans and records (office_bp, and the
    # panel's scores examiner_bp), duties (auth_bp, office_bp, director_bp), revisions
    # (office_bp, director_bp).
    from web import (  # noqa: F401
        api_duties,
        api_records,
        duties,
        monitoring,
        office_builder,
        office_results,
        office_scans,
        records_screens,
        revisions,
    )
    from web.admin import bp as admin_bp
    from web.api import bp as api_bp
    from web.archive import bp as archive_bp
    from web.auth import bp as auth_bp
    from web.centre import bp as centre_bp
    from web.director import bp as director_bp
    from web.examiner import bp as examiner_bp
    from web.lead import bp as lead_bp
    from web.lead_quality import bp as lead_quality_bp
    from web.office import bp as office_bp

    blueprints = (
        auth_bp,
        examiner_bp,
        lead_bp,
        lead_quality_bp,
        office_bp,
        director_bp,
        centre_bp,
        admin_bp,
        api_bp,
    )
    for blueprint in (*blueprints, archive_bp):
        app.register_blueprint(blueprint)

    app.add_url_rule("/lang/<code>", "set_language", _set_language)
    return app


def _set_language(code: str) -> WerkzeugResponse:
    """Choose the interface's language, then back to the page it was chosen on."""
    from web.inbound import local_path

    if code in LANGUAGES:
        session["lang"] = code
    back = local_path(request.args.get("next", ""))  # the page it was chosen on
    return redirect(back or _same_site(request.referrer) or url_for("auth.home"))


def _locale() -> str:
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return str(chosen)
    return "zh_CN"


def _same_site(url: str | None) -> str | None:
    """``url`` when it points back into this site, else None (no open redirects)."""
    if not url:
        return None
    if url.startswith(request.host_url):
        return url
    return None
