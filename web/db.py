"""One database session per request: commit when the view succeeds, roll back otherwise
(the pattern of Indico's RH.process): a half-done operation never reaches the database."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, g
from flask.wrappers import Response
from sqlalchemy.orm import Session

from marking.store.db import scrub_wal


def get_db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["blindmark.sessions"]()
    session: Session = g.db
    return session


def fail() -> None:
    """Undo the request's work now; nothing of it will be committed."""
    g.failed = True
    if "db" in g:
        g.db.rollback()


def after_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` once the request's work is committed (never if it is rolled back):
    work that needs the request's rows visible to other sessions, such as reading the scan
    files just queued (web/actions/scans.py ``submit_scan_files``)."""
    g.setdefault("after_commit", []).append(callback)


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        if "db" in g:
            if response.status_code < 400 and not g.get("failed"):
                g.db.commit()
                if g.pop("scrub_wal", False):
                    # Something was erased for good (a custodian's share): leave no old
                    # copy of its page in SQLite's write-ahead log either.
                    scrub_wal(current_app.extensions["blindmark.engine"])
                for callback in g.pop("after_commit", []):
                    callback()
            else:
                g.db.rollback()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()  # rolls back whatever was not committed
