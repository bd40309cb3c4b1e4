"""The examiner's marking requests answer at a steady pace (DESIGN §13).

A seed or a 回评 must not be told from live work by anything the examiner sees, its timing
included. The engine does a check's work in the statements live work takes, but a check
still costs the database a little more or less than a live response (a few tenths of a
millisecond), and a tester with enough samples can measure that. So the requests through
which an examiner meets their work (claim, what they hold, mark, hand back, report, the
image, their last mark and its correction, logging out, which hands work back) answer no
sooner than ``EXAMINER_PACE`` seconds (default 0.05) after they arrived: no code path's cost
shows below that floor, and a person marking at human pace does not notice 50 ms.

The floor is kept after the request's transaction is committed and its connection handed
back to the pool, so a waiting answer holds no lock and no connection, only its thread; and
only for a logged-in request.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, request
from flask.wrappers import Response
from flask_login import current_user

# The endpoints an examiner's work passes through (web/api.py, web/api_corrections.py,
# web/examiner.py, web/auth.py).
PACED = frozenset(
    {
        "api.examiner_session",
        "api.examiner_claim",
        "api.examiner_held",
        "api.examiner_mark",
        "api.examiner_release",
        "api.examiner_flag",
        "api.response_image",
        "api.examiner_last_mark",
        "api.examiner_correct",
        "examiner.home",
        "examiner.mark",
        "auth.logout",
    }
)


def init_app(app: Flask) -> None:
    """Register before ``web.db``: its after-request hook (the commit) then runs first."""

    @app.before_request
    def _arrived() -> None:
        # Logged-in requests only: one without a login learns nothing of anyone's work, and
        # holding a thread for it would make flooding the server cheap. (The login is read
        # as inbound's hook reads it next, from the cookie or token, never from the body.)
        if request.endpoint in PACED and current_user.is_authenticated:
            g.paced_since = time.perf_counter()

    @app.after_request
    def _steady(response: Response) -> Response:
        since = g.pop("paced_since", None)
        floor = float(current_app.config["EXAMINER_PACE"])
        if since is None or floor <= 0:
            return response
        session = g.pop("db", None)
        if session is not None:
            session.close()  # committed or rolled back by now: let the connection go
        rest = floor - (time.perf_counter() - since)
        if rest > 0:
            time.sleep(rest)
        return response
