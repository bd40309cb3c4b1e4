"""The engine's coded refusals (``MarkingError.coded``) in the reader's language.

The core raises English (the command line and the ledger read it) with a stable code and
its parameters; a screen shows the translation kept here under that code, the parameters
carried over. ``tests/web/test_engine_text.py`` fails when a code raised in the core has
no entry here, or an entry's placeholders differ from the English.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext, lazy_gettext

from marking.errors import MarkingError, Refusals

_: Callable[..., str] = gettext
_l = lazy_gettext

#: code → translatable text with the same %(name)s placeholders as the English.
TEXT: dict[str, object] = {
    "no_lead": _l("Session %(session)s has no lead examiner: the office names one first."),
    "not_the_lead": _l("Only the session's lead examiner approves schemes; %(user)s is not."),
    "out_of_category": _l(
        "%(user)s: the certificate's scope (%(scope)s) does not cover %(components)s of "
        "%(occupation)s level %(level)s (R9, 第七条(一))."
    ),
    "examiner_suspended": _l("%(user)s: the examiner is suspended (第八条)."),
    "examiner_revoked": _l("%(user)s: the examiner's qualification is revoked (第八条)."),
    "examiner_card_lost": _l(
        "%(user)s: the examiner card is reported lost: no examining until it is valid "
        "again (第六条(三))."
    ),
    "examiner_card_renewing": _l(
        "%(user)s: the examiner card is being renewed: no examining until it is valid "
        "again (第六条(三))."
    ),
    "certificate_not_yet": _l(
        "%(user)s: certificate %(cert)s is issued on %(issued)s, after the session date "
        "%(date)s (R11)."
    ),
    "certificate_void": _l(
        "%(user)s: certificate %(cert)s expired on %(expires)s, a year or more before the"
        " session date %(date)s: the qualification is void until a new certificate is "
        "issued (R11, 第三条)."
    ),
    "certificate_expired": _l(
        "%(user)s: certificate %(cert)s expired on %(expires)s, before the session date "
        "%(date)s (R11, 第三条)."
    ),
    "out_of_scope": _l(
        "%(user)s: the certificate's scope (%(scope)s) does not cover %(occupation)s "
        "level %(level)s (R9, 第七条(一))."
    ),
    "no_certificate": _l("%(user)s holds no examiner certificate."),
    "absence_not_assigned": _l(
        "%(user)s is not on the team of session %(session)s: an absence is from an "
        "assigned session."
    ),
    "absence_recorded": _l("%(user)s is already recorded absent from session %(session)s."),
    "reason_needed": _l("Give the reason, for the record."),
    "examiner_revoked_final": _l(
        "%(user)s's qualification is revoked (第八条): nothing reverses it."
    ),
    "not_suspended": _l("%(user)s is not suspended: nothing to reinstate."),
    "already_suspended": _l("%(user)s is already suspended."),
    "account_disabled": _l("%(user)s: the account is disabled."),
    "assignment_refused": _l("Assignment refused"),
    "lead_role": _l("%(user)s: a lead or deputy lead must be a lead or examiner account."),
    "lead_not_senior": _l(
        "%(user)s: the lead must be a senior examiner whose certificate covers the "
        "session (DESIGN §14); import the certificate with examiners.csv (grade senior)."
    ),
    "deputy_not_senior": _l(
        "%(user)s: the deputy lead must be a senior examiner whose certificate covers the"
        " session (DESIGN §14); import the certificate with examiners.csv (grade senior)."
    ),
    "team_refused": _l("Marking cannot start with this team (R10)"),
    "lead_is_deputy": _l("%(user)s is the session's deputy lead: name another deputy first."),
    "no_examiner": _l("%(user)s: no examiner with this username."),
    "consecutive_sessions": _l(
        "%(user)s would serve a %(nth)dth consecutive session of %(occupation)s at "
        "station %(station)s; at most %(most)d (R10, 第七条(四)): choose another examiner, or"
        " ask a director to record an override."
    ),
    "rotation": _l(
        "Only %(new)d of the %(size)d members of the team (lead included) are new since "
        "session %(previous)s, the previous session of %(occupation)s at station "
        "%(station)s; at least a third must rotate (R10, 第七条(四)): change the team, or ask"
        " a director to record an override."
    ),
    "team_closed": _l("Session %(session)s is past marking: its team no longer changes."),
    "rotation_is_the_teams": _l(
        "Rotation is a rule of the whole team: override it without naming an examiner."
    ),
}


def word(exc: MarkingError) -> str | None:
    """``exc`` in the reader's language, or None when it carries no known code."""
    if isinstance(exc, Refusals):
        lines = [word(r) or str(r) for r in exc.refusals]
        head = TEXT.get(exc.code or "")
        first = str(head) % dict(exc.params) if head is not None else exc.head
        return first + "：" + "；".join(lines) if lines else first
    if exc.code is None or exc.code not in TEXT:
        return None
    return str(TEXT[exc.code]) % dict(exc.params)
