"""Answer sheets ready to print: a component's layout, fresh serials, each page's QR code,
and the PDF drawn by ``reports.sheets``, whose errors become ``ReportFailed`` here.

Nothing is stored here: ``marking.paper.issue`` records the serials issued (so that the
scan step can refuse a sheet nobody printed), and its callers (``blindmark sheets``, the
office's button) hand out the PDF and the layout file (``layout.layout_text``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from marking.domain.definition import ComponentDef, SessionDef
from marking.errors import InputError, NotFound, report_refusals
from marking.paper.codes import MAX_SESSION_CODE, PagePayload, encode_payload, new_serials
from marking.paper.layout import DEFAULT_DIGITS, LayoutError, layout_digest, sheet_layout
from reports.data import ComponentInfo, SessionInfo
from reports.sheetdata import SheetHeading, SheetLayout, SheetSet
from reports.sheets import render_sheets

MAX_COUNT = 2000  # sets in one call: an exam's rooms, printed in a few minutes


@dataclass(frozen=True)
class PrintedSheets:
    pdf: bytes
    layout: SheetLayout
    serials: tuple[str, ...]  # one a set, in the order the sets are in the PDF


def sheet_heading(session: SessionDef, component: ComponentDef) -> SheetHeading:
    """What a sheet says besides its geometry: the session, the component, each maximum."""
    return SheetHeading(
        session=SessionInfo(
            code=session.code,
            occupation=session.occupation,
            occupation_code=session.occupation_code,
            level=session.level,
            date=session.date.isoformat(),
            station=session.station,
        ),
        component=ComponentInfo(component.key, component.name),
        maxima={q.number: format(q.max, "f") for q in component.questions},
    )


def sheet_sets(
    layout: SheetLayout, *, session: str, serials: tuple[str, ...], key: bytes | None = None
) -> tuple[SheetSet, ...]:
    """Each serial's set: the QR text of each of the layout's pages."""
    digest = layout_digest(layout)
    return tuple(
        SheetSet(
            serial,
            tuple(
                encode_payload(
                    PagePayload(session, layout.component, digest, serial, page.number), key=key
                )
                for page in layout.pages
            ),
        )
        for serial in serials
    )


def print_sheets(
    session: SessionDef,
    component: str,
    count: int,
    *,
    exam_number_digits: int = DEFAULT_DIGITS,
    lines: Mapping[str, int] | None = None,
    options: Mapping[str, int] | None = None,
    key: bytes | None = None,
    workers: int | None = None,
    choice: Callable[[str], str] = secrets.choice,
) -> PrintedSheets:
    """``count`` blank answer-sheet sets of a component, with fresh random serials.

    Raises NotFound for a component the session does not have, InputError for a count
    out of range, LayoutError when the hints do not fit, ReportFailed when the PDF cannot
    be made (no CJK font, a code too long for its box).
    """
    found = find_component(session, component)
    check_count(count)
    layout = sheet_layout(
        found, exam_number_digits=exam_number_digits, lines=lines, options=options
    )
    return print_layout(
        session, layout, new_serials(count, choice=choice), key=key, workers=workers
    )


def print_layout(
    session: SessionDef,
    layout: SheetLayout,
    serials: Sequence[str],
    *,
    key: bytes | None = None,
    workers: int | None = None,
) -> PrintedSheets:
    """A set of ``layout``'s pages for each of ``serials``. Raises ReportFailed when the PDF
    cannot be made."""
    found = find_component(session, layout.component)
    if len(session.code) > MAX_SESSION_CODE:
        raise LayoutError(
            f"session code {session.code[:12]}… is longer than the {MAX_SESSION_CODE} "
            "characters a page code carries"
        )
    sets = sheet_sets(layout, session=session.code, serials=tuple(serials), key=key)
    with report_refusals():
        pdf = render_sheets(layout, sheet_heading(session, found), sets, workers=workers)
    return PrintedSheets(pdf, layout, tuple(serials))


def find_component(session: SessionDef, component: str) -> ComponentDef:
    """The session's component ``component``; raises NotFound naming the ones it has."""
    found = next((c for c in session.components if c.key == component), None)
    if found is None:
        keys = ", ".join(c.key for c in session.components)
        raise NotFound(f"session {session.code} has no component {component!r} (it has {keys})")
    return found


def check_count(count: int) -> None:
    """Raises InputError unless ``count`` sets can be printed in one go."""
    if not 1 <= count <= MAX_COUNT:
        raise InputError("--count", f"must be 1 to {MAX_COUNT} sets, not {count}")
