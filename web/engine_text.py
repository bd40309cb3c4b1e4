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
    # Appeal revisions (复核, marking/publication/revisions.py, revision_publish.py).
    "key_correction_in_revision": _l(
        "A key cannot be corrected during revision %(number)s: a revision re-marks only the "
        "candidates it names."
    ),
    "revision_already_open": _l(
        "Revision %(number)s of session %(session)s is still open: publish it first."
    ),
    "revision_interview_unknown": _l(
        "The interview verdict of candidate %(exam_no)s was not recorded at publication: this "
        "revision cannot recompute their outcome."
    ),
    "revision_no_candidates": _l("Name the candidates (exam numbers) to revise."),
    "revision_none_open": _l("Session %(session)s has no revision open."),
    "revision_not_approved": _l(
        "Revision %(number)s of session %(session)s has no current approval by %(director)s: "
        "the director reviews and approves it first (R16)."
    ),
    "revision_not_published": _l(
        "Session %(session)s is not published: a revision reopens published results."
    ),
    "revision_nothing_to_mark": _l(
        "Nothing to mark again: the named components of %(exam_nos)s have no examiner-marked "
        "answers (objective questions change only by a key correction)."
    ),
    "revision_reason": _l("A revision needs a reason: the appeal it answers."),
    "revision_unknown": _l("Session %(session)s has no published revision %(number)s."),
    "revision_unknown_candidates": _l(
        "No published result for exam number(s) %(exam_nos)s in session %(session)s."
    ),
    "revision_unknown_component": _l(
        "Session %(session)s has no component %(components)s (components: %(known)s)."
    ),
    "revision_work_open": _l(
        "Revision %(number)s of session %(session)s cannot be approved or published while "
        "work is open: %(problems)s"
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
