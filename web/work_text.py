"""What still stands before publication or before a revision can be approved
(``marking.publication.preconditions.open_work`` and the revision's short-of-examiners
line), in the reader's language, each group by its name.

The engine writes these lines in English (the command line prints them); each is translated
here pattern by pattern, the numbers carried over. A line no pattern knows is shown as the
engine wrote it rather than dropped.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask_babel import lazy_gettext as _l

_GROUP = r"group (?P<group>\S+): (?P<n>\d+) response\(s\) "
_LINES = [
    (re.compile(p), t)
    for p, t in (
        (_GROUP + "still need marks", _l("Group %(group)s: %(n)s answer(s) still need marks")),
        (_GROUP + "are on hold for an anomaly",
         _l("Group %(group)s: %(n)s answer(s) are on hold for an anomaly report")),
        (_GROUP + "await the lead's arbitration",
         _l("Group %(group)s: %(n)s answer(s) await the lead's arbitration")),
        (_GROUP + r"have not enough examiners left who did not mark them before: assign more "
         r"examiners to the group \(or the lead, as an examiner\)",
         _l("Group %(group)s: %(n)s answer(s) have no examiner left who has not marked them: "
            "assign more examiners to the group (or the lead, as an examiner)")),
        (r"(?P<n>\d+) anomaly report\(s\) are not resolved",
         _l("%(n)s anomaly report(s) are not resolved")),
        (r"(?P<n>\d+) response\(s\) wait for a ruling the lead is excluded from and no deputy "
         r"lead may give: .*",
         _l("%(n)s answer(s) wait for a ruling the lead is excluded from and no deputy lead may "
            "give: name a deputy lead on the session page")),
        (r"(?P<n>\d+) response\(s\) are still held by examiners",
         _l("%(n)s answer(s) are still held by examiners")),
        (r"marking scheme not approved for group\(s\): (?P<groups>.+)",
         _l("Marking scheme not approved for: %(groups)s")),
        (r"no intake batch", _l("No intake batch yet")),
        (r"(?P<n>\d+) collective violation decision\(s\) wait for the guidance centre's "
         r"approval \(R13\): (?P<rest>.+)",
         _l("%(n)s collective violation decision(s) wait for the guidance centre's approval "
            "(R13): %(rest)s")),
    )
]  # fmt: skip


def open_item(text: str, exam: Any) -> str:
    """One line of open work in the reader's language, groups named (or the line as the
    engine wrote it)."""
    names = {g.key: g.name for g in exam.groups}
    for pattern, template in _LINES:
        found = pattern.fullmatch(text)
        if found is not None:
            parts = found.groupdict()
            if "group" in parts:
                parts["group"] = names.get(parts["group"], parts["group"])
            if "groups" in parts:
                keys = parts["groups"].split(", ")
                parts["groups"] = "、".join(names.get(k, k) for k in keys)
            return str(template) % parts
    return text


def install(app: Flask) -> None:
    app.jinja_env.filters["open_item"] = open_item
