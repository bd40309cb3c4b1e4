"""The scan engine's words in the reader's language: quarantine kinds, states, and the
reasons, resolutions and refusals the engine writes in English (marking/paper/gathering.py,
quarantine.py, closing.py, reading.py, codes.py).

The engine keeps English text on its records (the ledger and the command line read it);
the office's screens translate it here, pattern by pattern, the variable parts (serials,
questions, file names) carried over. A text no pattern knows is shown as the engine wrote
it rather than dropped: the office must still see why.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import gettext, lazy_gettext

from marking.paper.gathering import SYSTEM as READER  # who settles an item that settled itself
from web.patterns import Patterns

_: Callable[..., str] = gettext
_l = lazy_gettext

KINDS = {
    "unreadable": _l("Unreadable page"),
    "foreign": _l("Page that does not belong here"),
    "repeated": _l("Repeated page"),
    "incomplete": _l("Incomplete sheet"),
    "exam_number": _l("Exam number unreadable"),
    "off_roster": _l("Exam number not on the roster"),
    "claimed_twice": _l("Exam number claimed twice"),
    "bubble_row": _l("Bubble row to verify"),
    "fill_in": _l("Fill-in answer to type"),
    "absent": _l("absent box (缺考) in doubt"),
    "violation": _l("violation box (违纪)"),
}

STATES = {
    "open": _l("open"),
    "closed": _l("closed"),
    "queued": _l("queued"),
    "reading": _l("reading"),
    "done": _l("read"),
    "failed": _l("failed"),
    "resolved": _l("resolved"),
    "discarded": _l("discarded"),
}

# The roster's columns (candidates.csv), as a refused roster's rows name them.
COLUMNS = {
    "exam_no": _l("exam number (exam_no)"),
    "name": _l("name (name)"),
    "id_number": _l("ID number (id_number)"),
    "institution": _l("institution (institution)"),
}

ACTIONS = {
    "advice": _l("advice"),
    "warning": _l("warning"),
    "terminated": _l("terminated"),
    "void": _l("void"),
}

# (pattern over the engine's English, its translation with the pattern's named groups)
_PATTERNS = Patterns(
    (
        (r"page unreadable: (?P<why>.+)", _l("page unreadable: %(why)s")),
        (r"file unreadable: (?P<why>.+)", _l("file unreadable: %(why)s")),
        (r"(?P<f>.+?): not a PDF or an image: .*",
         _l("%(f)s: neither a PDF nor an image (scans are PDF, PNG, JPEG or TIFF files)")),
        (r"(?P<f>.+?): cannot be read as an image \(.*\)",
         _l("%(f)s: cannot be read as an image")),
        (r"no QR code found on the page", _l("no QR code found on the page")),
        (r"the reader failed on it \((?P<e>\w+)\)",
         _l("the page reader could not process it (%(e)s)")),
        (r"(?P<n>\d+) different QR codes found on the page, not one",
         _l("%(n)s different QR codes on the page, not one")),
        (r"not four corner marks: .*", _l("the four corner marks were not all found")),
        (r"the corner marks put the QR code at .*",
         _l("the corner marks and the QR code do not agree")),
        (r"the page is turned (?P<deg>\S+): only upright or upside down",
         _l("the page is turned %(deg)s: only upright or upside down")),
        (r"page code: the check value does not match \(misread or altered\)",
         _l("page code: the check value does not match (misread or altered)")),
        (r"(page code|not a blindmark page code).*", _l("not a page code of blindmark")),
        (r"a page of session (?P<s>\S+), not of (?P<t>\S+)",
         _l("a page of session %(s)s, not of %(t)s")),
        (r"a page of component (?P<c>\S+), not of this batch's (?P<d>\S+)",
         _l("a page of component %(c)s, not of this batch's %(d)s")),
        (r"printed with layout (?P<l>\S+), not the component's (?P<m>\S+)",
         _l("printed with layout %(l)s, not the component's %(m)s")),
        (r"page (?P<p>\d+) of a sheet that has (?P<n>\d+) page\(s\)",
         _l("page %(p)s of a sheet that has %(n)s page(s)")),
        (r"sheet serial (?P<s>\S+) was never issued for (?P<c>\S+)",
         _l("sheet serial %(s)s was never issued for %(c)s")),
        (r"sheet (?P<s>\S+) belongs to scan batch (?P<b>\d+)",
         _l("sheet %(s)s belongs to scan batch %(b)s")),
        (r"sheet (?P<s>\S+) is already (?P<state>\S+)", _l("sheet %(s)s is already %(state)s")),
        (r"page (?P<p>\d+) of sheet (?P<s>\S+) was already taken \((?P<f>.+), page (?P<n>\d+)\)",
         _l("page %(p)s of sheet %(s)s was already taken (%(f)s, page %(n)s)")),
        (r"question (?P<q>\S+): a bubble between the thresholds \(fills (?P<f>[^)]*)\)",
         _l("question %(q)s: a bubble between the thresholds (fills %(f)s)")),
        (r"question (?P<q>\S+): a fill-in answer to type in",
         _l("question %(q)s: a fill-in answer to type in")),
        (r"exam number unreadable: (?P<why>.+)", _l("exam number unreadable: %(why)s")),
        (r"column (?P<c>\d+): no bubble filled", _l("column %(c)s: no bubble filled")),
        (r"column (?P<c>\d+): two bubbles", _l("column %(c)s: two bubbles")),
        (r"column (?P<c>\d+): a bubble neither clearly filled nor clearly empty",
         _l("column %(c)s: a bubble neither clearly filled nor clearly empty")),
        (r"column (?P<c>\d+): (?P<why>.+)", _l("column %(c)s: %(why)s")),
        (r"no exam-number grid read on the header page",
         _l("no exam-number grid read on the header page")),
        (r"the exam number could not be read", _l("the exam number could not be read")),
        (r"the exam number read is not on the batch's roster",
         _l("the exam number read is not on the batch's roster")),
        (r"sheet (?P<s>\S+) claims the same exam number",
         _l("sheet %(s)s claims the same exam number")),
        (r"the 缺考 \(absent\) box is doubtful", _l("the absent box (缺考) is doubtful")),
        (r"the 违纪 \(violation\) box is doubtful", _l("the violation box (违纪) is doubtful")),
        (r"the 违纪 \(violation\) box is filled", _l("the violation box (违纪) is filled")),
        (r"sheet (?P<s>\S+) lacks page\(s\) (?P<p>.+) of (?P<n>\d+)",
         _l("sheet %(s)s lacks page(s) %(p)s of %(n)s")),
        # resolutions
        (r"discarded by the office", _l("discarded by the office")),
        (r"discarded when the batch was closed", _l("discarded when the batch was closed")),
        (r"its sheet was discarded \(item (?P<i>\d+)\)",
         _l("its sheet was discarded (item %(i)s)")),
        (r"exam number given by the office", _l("exam number given by the office")),
        (r"value \(none\) given by the office", _l("no answer given by the office")),
        (r"value (?P<v>.+) given by the office", _l("value %(v)s given by the office")),
        (r"the missing page\(s\) arrived", _l("the missing page(s) arrived")),
        (r"the sheet is marked 缺考 \(absent\)", _l("the sheet is marked absent (缺考)")),
        # a refused roster's rows (marking.intake.validated, marking.paper.scanning)
        (r"empty", _l("empty")),
        (r"no candidates", _l("no candidates")),
        (r"duplicate exam number \(first at row (?P<r>\d+)\)",
         _l("the same exam number as row %(r)s")),
        (r"the same ID number as row (?P<r>\d+): one candidate, two rows",
         _l("the same ID number as row %(r)s: one candidate, two rows")),
        (r"the answer sheets' exam-number grid holds (?P<d>\d+) digits \(0-9\), not (?P<n>.+)",
         _l("the answer sheets' exam-number grid holds %(d)s digits (0-9), not %(n)s")),
        (r"already on the roster of open scan batch (?P<b>\d+) for \S+",
         _l("already on the roster of scan batch %(b)s, still open for this component: "
            "close that batch first, or leave this candidate out")),
        (r"(?P<f>.+?): the same file as (?P<g>.+) \(file \d+\) of this batch",
         _l("%(f)s: the same file as %(g)s, already in this batch")),
        # refusals (marking.paper.quarantine.ResolutionRefused)
        (r"quarantine item \d+: that exam number is not on the batch's roster",
         _l("That exam number is not on the batch's roster. Check the header again; a sheet "
            "of a candidate on another room's roster can only be discarded here and scanned "
            "again with that room's batch.")),
        (r"quarantine item \d+: sheet (?P<s>\S+) holds that exam number; .*",
         _l("Sheet %(s)s holds that exam number: resolve or discard that sheet's item first.")),
        (r"quarantine item \d+: question (?P<q>\S+) has options (?P<o>\S+); .*",
         _l("Question %(q)s has options %(o)s: tick the filled ones, or “none filled”.")),
        (r"quarantine item \d+: a violation's action is one of .*",
         _l("Choose the action for the violation.")),
        (r"quarantine item \d+: 缺考 \(absent\) is yes or no",
         _l("Say whether the absent box (缺考) is filled.")),
        (r"quarantine item \d+ is \S+: .*", _l("This item cannot be settled that way.")),
    )
)  # fmt: skip


def words(text: str | None) -> str:
    """The engine's ``text`` in the reader's language (nested reasons too), or as written."""
    if not text:
        return ""
    return _PATTERNS.words(text, lambda _name, part: words(part)) or text


def kind_name(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def state_name(state: str) -> str:
    return str(STATES.get(state, state))


def column_name(column: str | None) -> str:
    return str(COLUMNS.get(column or "", column or ""))


# An intake batch made by closing a scan batch: the engine names it "scan <id>: <name>"
# (marking/paper/closing.py), a name the ledger and the command line keep as written.
_SCAN_INTAKE = re.compile(r"scan (?P<n>\d+): (?P<name>.*)", re.S)


def batch_name(name: str | None) -> str:
    """An intake batch's name in the reader's language: a scan batch's in words
    ("扫描批次 3：第一考场"), any other as the office gave it."""
    found = _SCAN_INTAKE.fullmatch(name or "")
    if found is None:
        return name or ""
    if not found["name"]:
        return _("scan batch %(n)s", n=found["n"])
    return _("scan batch %(n)s: %(name)s", n=found["n"], name=found["name"])


def who(actor: str | None) -> str:
    """Who settled an item: an account's username, or the reader for an item that settled
    itself (the missing page arrived)."""
    if actor == READER:
        return _("the scan reader (by itself)")
    return actor or ""
