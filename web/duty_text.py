"""The words of the duties' screens (web/duties.py) in the reader's language: relations of a
recusal declaration, a conflicts file's refused rows, and what the ledger check found.

The engine writes these in English (the command line and the ledger read them); each is
translated here pattern by pattern, the variable parts carried over. A text no pattern
knows is shown as the engine wrote it rather than dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext, lazy_gettext

from marking.errors import MarkingError
from web.patterns import Patterns

_: Callable[..., str] = gettext
_l = lazy_gettext

#: A declaration's relation (marking.store.models.Relation) in words (第七条(四)).
RELATIONS = {
    "relative": _l("relative (亲属)"),
    "teacher_student": _l("teacher and student (师生)"),
    "master_apprentice": _l("master and apprentice (师徒)"),
    "other": _l("other tie (其他)"),
}

#: A conflicts file's columns, as its refused rows name them.
COLUMNS = {
    "username": _l("username (username)"),
    "id_number": _l("ID number (id_number)"),
    "relation": _l("relation (relation)"),
}

#: Which field of the declaration form a coded refusal is about.
FIELDS = {
    "conflict_id_empty": "id_number",
    "conflict_id_long": "id_number",
    "conflict_id_checksum": "id_number",
    "conflict_relation": "relation",
    "conflict_no_key": "session",
    "conflict_published": "session",
    "conflict_no_session": "session",
}


def field_of(exc: MarkingError) -> str:
    """The form field a refusal is shown beside (the session chooser when none fits)."""
    return FIELDS.get(exc.code or "", "session")


_REASONS = Patterns(
    (
        (r"no examiner or lead with this username", _l("no examiner or lead has this username")),
        (r"empty", _l("empty")),
        (r"longer than 64 characters", _l("longer than 64 characters")),
        (r"must be relative, teacher_student, master_apprentice or other",
         _l("must be relative (亲属), teacher_student (师生), master_apprentice (师徒) or "
            "other (其他)")),
        (r"missing column", _l("missing column")),
        (r"duplicate column", _l("duplicate column")),
        (r"unknown column; expected (?P<c>.+)", _l("unknown column; expected %(c)s")),
        (r"no data rows below the header", _l("no data rows below the header")),
        (r"empty file: expected a header row with (?P<c>.+)",
         _l("empty file: expected a header row with %(c)s")),
        (r"unsupported file type: expected \.csv or \.xlsx",
         _l("unsupported file type: expected .csv or .xlsx")),
        (r"the file is not in a known encoding.*",
         _l("the file is not in a known encoding; save it as CSV UTF-8")),
    )
)  # fmt: skip

_BREAKS = Patterns(
    (
        (r"sequence jumps from (?P<a>\d+) to (?P<b>\d+): an entry is missing",
         _l("its number jumps from %(a)s to %(b)s: an entry is missing")),
        (r"sequence number (?P<n>\d+) repeats or goes back: entries were inserted",
         _l("its number %(n)s repeats or goes back: entries were inserted")),
        (r"does not chain to the entry before it", _l("it does not chain to the entry before it")),
        (r"its content was changed after it was written",
         _l("its content was changed after it was written")),
        (r"the lane has entries but no recorded tip",
         _l("the chain has entries but no recorded end")),
        (r"the lane's recorded tip has no entries behind it: entries were deleted",
         _l("the chain's recorded end has no entries behind it: entries were deleted")),
        (r"the lane's tip is seq (?P<n>\d+): entries after this one were deleted",
         _l("the chain's recorded end is entry %(n)s: entries after this one were deleted")),
        (r"the lane's recorded tip does not match its last entry",
         _l("the chain's recorded end does not match its last entry")),
    )
)  # fmt: skip

_WHAT = {
    "mark": _l("Mark"),
    "arbitration": _l("Arbitration"),
    "anomaly ruling": _l("Anomaly ruling"),
}

_PROBLEMS = Patterns(
    (
        (r"(?P<what>mark|arbitration) (?P<id>\d+) is in the ledger but not in the database",
         _l("%(what)s %(id)s is in the ledger but not in the database")),
        (r"(?P<what>mark|arbitration) (?P<id>\d+) is in the database but not in the ledger",
         _l("%(what)s %(id)s is in the database but not in the ledger")),
        (r"(?P<what>mark|arbitration) (?P<id>\d+): the database holds .*, the ledger recorded .*",
         _l("%(what)s %(id)s: the database and the ledger disagree")),
        (r"withdrawal of (?P<what>mark|arbitration|anomaly ruling) (?P<id>\d+) disagrees "
         r"between ledger and table",
         _l("The withdrawal of %(what)s %(id)s disagrees between the ledger and the table")),
        (r"issued sheet (?P<s>\S+) \((?P<c>[^,]+), layout (?P<l>[^)]+)\) disagrees between "
         r"ledger and table \((?P<where>table only|ledger only)\)",
         _l("Issued answer sheet %(s)s (%(c)s) disagrees between the ledger and the table")),
        (r"the session is published but its publication record is gone",
         _l("The session is published but its publication record is gone")),
        (r"published results changed since publication: their SHA-256 is (?P<a>\w+), "
         r"the publication recorded (?P<b>\w+)",
         _l("The published results changed since publication: their SHA-256 is %(a)s, the "
            "publication recorded %(b)s")),
        (r"the ledger head differs from the one printed at publication \((?P<h>\w+)\)",
         _l("The ledger head differs from the one printed at publication (%(h)s)")),
        (r"the key of question (?P<q>\S+) is .*, the ledger set .*",
         _l("The key of question %(q)s differs from the one the ledger set")),
        (r"response (?P<r>\d+) \(question (?P<q>\S+)\): scored .*, but its key gives .*",
         _l("Response %(r)s (question %(q)s) is not scored as its key gives")),
        (r"finals do not follow from the marks: .*",
         _l("The final marks do not follow from the marks")),
    )
)  # fmt: skip

_CHAIN = re.compile(
    r"(?:account )?ledger chain broken at lane '(?P<lane>[^']*)', seq (?P<seq>\d+)"
    r"(?: \(entry (?P<entry>\d+)\))?: (?P<why>.+)"
)


def _what(name: str, part: str) -> str:
    """A part named ``what`` (the kind of record a finding is about) in words."""
    return str(_WHAT.get(part, part)) if name == "what" else part


def _match(patterns: Patterns, text: str) -> str | None:
    return patterns.words(text, _what)


def reason(text: str) -> str:
    """A refused conflicts file's row reason in the reader's language (or as written)."""
    return _match(_REASONS, text) or text


def column(name: str | None) -> str:
    return str(COLUMNS.get(name or "", name or ""))


def problem(text: str) -> str:
    """One finding of the ledger check in the reader's language (or as written); a broken
    chain names the first entry that does not hold."""
    chain = _CHAIN.fullmatch(text)
    if chain is not None:
        why = _match(_BREAKS, chain["why"]) or chain["why"]
        if chain["entry"]:
            return _(
                "The first broken entry: chain %(lane)s, entry %(seq)s (record %(entry)s): "
                "%(why)s.",
                lane=chain["lane"],
                seq=chain["seq"],
                entry=chain["entry"],
                why=why,
            )
        return _(
            "The first broken place: chain %(lane)s at entry %(seq)s: %(why)s.",
            lane=chain["lane"],
            seq=chain["seq"],
            why=why,
        )
    return _match(_PROBLEMS, text) or text
