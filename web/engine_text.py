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
    # Mark corrections (R6, marking/queue/corrections.py)
    "correction_final": _l(
        "That response is final: only the lead examiner corrects its marks now."
    ),
    "correction_no_arbitration": _l("That response has no arbitration to correct."),
    "correction_no_mark": _l("%(user)s gave no mark on that response in session %(session)s."),
    "correction_no_response": _l("That response is not in session %(session)s."),
    "correction_no_script_response": _l(
        "No response of script %(script)s to %(component)s/%(question)s in session %(session)s."
    ),
    "correction_not_marking": _l("Session %(session)s is not in marking."),
    "correction_not_yours": _l(
        "Only the examiner who gave a mark, or the lead examiner, corrects it."
    ),
    "correction_published": _l(
        "Session %(session)s is published: a change now is an appeal (a revision)."
    ),
    "correction_reason": _l("A correction needs a reason (R6: a correction is signed)."),
    "correction_unchanged": _l("The mark is %(value)s already."),
    "correction_which_mark": _l("Choose the mark to correct (whose, or the arbitration)."),
    "correction_which_response": _l(
        "Name the response: its handle, or the script code and the question."
    ),
    "correction_withdrawn": _l("That mark was withdrawn: it cannot be corrected."),
    "no_lead": _l("Session %(session)s has no lead examiner: the office names one first."),
    "not_the_lead": _l("Only the session's lead examiner approves schemes; %(user)s is not."),
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
