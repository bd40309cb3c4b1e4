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
    "archive_unpublished": _l(
        "Session %(session)s is not published: its archive names candidates and their "
        "scores, so it exists only after publication (R8)."
    ),
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
