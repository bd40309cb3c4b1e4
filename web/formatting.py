"""Locale-aware formatting for the templates: dates, numbers and percentages (Babel)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from flask import Flask, has_request_context, request
from flask_babel import format_date, format_datetime, format_decimal, format_percent, get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from marking.domain.definition import session_time_zone
from marking.store.models import ExamSession
from web.db import get_db

ROLE_NAMES = {
    "admin": _l("Administrator"),
    "office": _l("Office"),
    "director": _l("Director"),
    "lead": _l("Lead examiner"),
    "examiner": _l("Examiner"),
    "centre": _l("Guidance centre"),
}
STATE_NAMES = {
    "draft": _l("draft"),
    "intake": _l("intake"),
    "marking": _l("marking"),
    "reconciled": _l("reconciled"),
    "published": _l("published"),
}
ANOMALY_KINDS = {
    "blank": _l("blank"),
    "illegible": _l("illegible"),
    "identifying_mark": _l("identifying mark"),
    "suspected_copying": _l("suspected copying"),
    "question_error": _l("error in the question"),
    "key_error": _l("error in the reference answer"),
    "other": _l("other"),
}

# A response's marking state and how its final was reached, for the lead's correction page.
RESPONSE_STATES = {
    "open": _l("waiting for marks"),
    "anomaly": _l("reported to the lead (anomaly)"),
    "arbitration": _l("awaiting arbitration"),
    "final": _l("final"),
}
MARK_KINDS = {"double": _l("independent mark"), "third": _l("third mark")}
FINAL_RULES = {
    "agreed": _l("the two marks agree"),
    "third_one": _l("third mark with the mark near it"),
    "third_both": _l("third mark with the closer mark"),
    "all_within": _l("all marks agree"),
    "arbitration": _l("lead's arbitration"),
    "lead": _l("lead's ruling on an anomaly"),
    "key": _l("scored from the key"),
}

# What a director's approval covers (approvals.PARTS), to say what changed since.
APPROVAL_PARTS = {
    "definition": _l("the session definition"),
    "intake": _l("the intake batches"),
    "finals": _l("the responses' finals"),
    "withdrawals": _l("the withdrawn marks"),
    "corrections": _l("the mark corrections"),
    "rulings": _l("the lead's rulings"),
    "key_corrections": _l("the key corrections"),
    "records": _l("the violation and interview records"),
    "collectives": _l("the guidance centre's approvals of collective decisions"),
    "panels": _l("the examiner grades interview panels rely on"),
    "revision": _l("the revision's candidates, components and reason"),
}
ACCOUNT_CHANGES = {
    "create": _l("new account"),
    "role": _l("new role"),
    "password": _l("new password"),
    "disable": _l("disable the account"),
}

# What happened to a request's account since it was made (account ledger kinds).
ACCOUNT_EVENTS = {
    "password_set": _l("password set"),
    "role_changed": _l("role changed"),
    "account_disabled": _l("disabled"),
    "account_enabled": _l("enabled"),
}


def time_zone() -> str | None:
    """Babel's time zone for this request: a page of one session shows its times in the
    session's zone (R1); None leaves the default (BABEL_DEFAULT_TIMEZONE, Asia/Shanghai)."""
    code = (request.view_args or {}).get("code") if has_request_context() else None
    if not isinstance(code, str):
        return None
    definition = get_db().scalar(select(ExamSession.definition).where(ExamSession.code == code))
    return None if definition is None else session_time_zone(definition).key


def when(value: dt.datetime | dt.date | str | None) -> str:
    """A date or a moment for the locale; ISO text (as the actions hand the API) is read first."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return str(format_datetime(value, "medium"))
    return str(format_date(value, "medium"))


def number(value: Decimal | int | float | str | None) -> str:
    """A number for the locale; exact decimal text (marks as the actions give them) too."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = Decimal(value)
    return str(format_decimal(value))


# 职业技能等级: 一级 (高级技师) to 五级 (初级工), as the certificates name them.
LEVEL_NAMES = {
    1: _l("level 1"),
    2: _l("level 2"),
    3: _l("level 3"),
    4: _l("level 4"),
    5: _l("level 5"),
}


def level(value: int | str) -> str:
    """A session's level as its users name it (三级, not 等级 3)."""
    try:
        return str(LEVEL_NAMES[int(value)])
    except (KeyError, ValueError):
        return str(value)


def percent(part: int, whole: int) -> str:
    return str(format_percent(part / whole if whole else 0, "#0.0%"))


#: The published results' columns (DESIGN §11 keys) and outcomes, as a reader sees them;
#: a component's columns are "<key>_code" and "<key>_score", named by the component.
RESULT_COLUMNS = {
    "exam_no": _l("Exam number"),
    "name": _l("Candidate's name"),
    "id_number": _l("ID number"),
    "outcome": _l("Outcome"),
    "interview_score": _l("Interview score"),
}
RESULT_OUTCOMES = {
    "pass": _l("pass"),
    "fail": _l("fail"),
    "void": _l("void (violation)"),
    "absent": _l("absent"),
}


def share(value: Decimal | float | str | None) -> str:
    """A fraction (a session.toml rate or share, 0.05) as the locale's percentage (5%)."""
    if value is None or value == "":
        return ""
    return str(format_percent(Decimal(str(value)), "#,##0.##%"))


def ratio(part: int, whole: int) -> int:
    """A whole percentage for a progress bar's width class."""
    return int(100 * part / whole) if whole else 0


def report_language() -> str:
    """The reports' language for the page's locale: Chinese unless English was chosen."""
    return "en" if str(get_locale()).startswith("en") else "zh"


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(when=when, number=number, share=share, level=level)
    from web.engine_text import coded_text
    from web.scan_text import batch_name, who

    # Names, not keys: the scan reader that settled or closed by itself, a scan's batch.
    app.jinja_env.filters.update(actor=who, batch_name=batch_name)

    app.jinja_env.globals.update(percent=percent, ratio=ratio, coded_text=coded_text)

    def leads_any() -> bool:
        """Whether the examiner logged in leads or deputises for a session (their menu
        offers the lead's pages then, and only then)."""
        from marking.read.views import sessions_led_by
        from web.db import get_db

        return bool(sessions_led_by(get_db(), current_user.account))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        user = current_user if current_user.is_authenticated else None
        return {
            "user": user,
            "leads_any": leads_any,
            "role_names": ROLE_NAMES,
            "state_names": STATE_NAMES,
            "anomaly_kinds": ANOMALY_KINDS,
            "response_states": RESPONSE_STATES,
            "mark_kinds": MARK_KINDS,
            "final_rules": FINAL_RULES,
            "approval_parts": APPROVAL_PARTS,
            "result_columns": RESULT_COLUMNS,
            "result_outcomes": RESULT_OUTCOMES,
            "account_changes": ACCOUNT_CHANGES,
            "account_events": ACCOUNT_EVENTS,
            "locale": str(get_locale()),
            # Between the items of a list in running text: 、 in Chinese, a comma in English.
            "list_sep": "、" if str(get_locale()).startswith("zh") else ", ",
        }
