"""Examiner monitoring in the browser (DESIGN §13): the lead's live page of every examiner's
figures per group, their distribution against the group's as server-drawn SVG, open alarms
and the marks worth a second look by handle; the office sees the same, read-only. Routes
join the lead's and the office's blueprints."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from marking.read import monitoring as mon
from marking.store.models import ExamSession, Role
from reports import cells
from web.access import session_as_lead, session_as_staff
from web.db import get_db
from web.director import bp as director_bp
from web.lead import LEADS
from web.lead import bp as lead_bp
from web.office import bp as office_bp
from web.security import require

STATUS = {
    "active": _l("marking on the group"),
    "qualifying": _l("qualifying"),
    "suspended": _l("suspended on the group"),
}
ALARMS = {
    "seeds_off": _l("too many seeds off"),
    "seed_bias": _l("systematic deviation on seeds"),
}
#: The browser's CSV, for people: the columns of ``blindmark export monitoring`` (DESIGN §13,
#: whose keys stay that command's contract) under the reader's headings, after the group's
#: and the examiner's names; status and alarms in words.
HEADINGS = (
    _l("Group"),
    _l("Examiner"),
    _l("Username"),
    _l("Marks"),
    _l("Seconds per mark"),
    _l("Severity"),
    _l("Exact"),
    _l("Adjacent"),
    _l("Weighted kappa (QWK)"),
    _l("Seeds"),
    _l("Seeds within tolerance"),
    _l("回评"),
    _l("回评 consistency"),
    _l("Third-mark rate"),
    _l("Status"),
    _l("Open alarms"),
)
REASONS = {
    "zero": _l("zero"),
    "full": _l("full marks"),
    "fast": _l("in under 5 s"),
}


# Plain formatting rather than Babel's: the same in Chinese and English for these small
# figures, and the page formats some 5,000 of them (Babel's cost showed in bench/monitoring.py).
def _share(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _decimal(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _signed(value: float | None) -> str:
    return "—" if value is None else ("+" if value > 0 else "") + _decimal(value)


#: The comparison chart, in SVG units: the bars' plot PLOT_W × PLOT_H with its lower left
#: corner at (LEFT, TOP + PLOT_H); the y axis' ticks and words to its left, the x axis'
#: below. One band is SLOT wide: the group's bar (light), then the examiner's (dark).
LEFT, TOP, PLOT_W, PLOT_H, SLOT = 44, 8, 170, 50, 17
WIDTH, HEIGHT = LEFT + PLOT_W + 16, TOP + PLOT_H + 30


def compare_chart(
    mine: Sequence[int], group: Sequence[int], *, who: str, group_name: str
) -> dict[str, Any]:
    """One examiner's distribution over the tenths of the maximum against their group's, as
    shares of each (so sizes do not matter), scaled to the largest share of either: the
    bars with each band's words for the tooltip, the axes with their ticks and words, and
    the chart's title naming the examiner and the group."""
    own_total, group_total = sum(mine) or 1, sum(group) or 1
    own = [n / own_total for n in mine]
    theirs = [n / group_total for n in group]
    peak = max(own + theirs) or 1
    base = TOP + PLOT_H

    def bar(x: float, share: float) -> dict[str, float]:
        height = round(PLOT_H * share / peak, 1)
        return {"x": x, "y": round(base - height, 1), "height": height}

    bars = [
        {
            "group": bar(LEFT + i * SLOT + 1, b),
            "mine": bar(LEFT + i * SLOT + 8, a),
            "title": _(
                "%(lo)d–%(hi)d %% of the maximum: %(mine)s of theirs, %(group)s of the group's",
                lo=i * 10,
                hi=100 if i == len(mine) - 1 else i * 10 + 9,
                mine=_share(a),
                group=_share(b),
            ),
        }
        for i, (a, b) in enumerate(zip(own, theirs, strict=True))
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "top": TOP,
        "right": LEFT + PLOT_W,
        "base": base,
        "bars": bars,
        "x_ticks": [(LEFT + PLOT_W * k / 2, f"{k * 50}%" if k else "0") for k in range(3)],
        "y_ticks": [(base, "0"), (TOP, _share(peak if any(own + theirs) else None))],
        "x_words": _("Score (share of the maximum)"),
        "y_words": _("Share of marks"),
        "title": _(
            "%(who)s on %(group)s: their marks (dark) against the group's (light) per tenth of "
            "the maximum, %(counts)s",
            who=who,
            group=group_name,
            counts="、".join(str(n) for n in mine),
        ),
    }


def _row(row: mon.ExaminerFigures, group: mon.GroupFigures) -> dict[str, Any]:
    return {
        "examiner": row.examiner_name,
        "status": row.status,
        "status_text": STATUS[row.status],
        "marks": row.marks,
        "median_seconds": _decimal(row.median_seconds, 1),
        "severity": _signed(row.severity),
        "exact": _share(row.exact),
        "adjacent": _share(row.adjacent),
        "qwk": _decimal(row.qwk),
        "seed_marks": row.seed_marks,
        "seed_within": _share(row.seed_within),
        "remarks": row.remarks,
        "consistency": _share(row.consistency),
        "third_rate": _share(row.third_rate),
        "alarms": [str(ALARMS.get(kind, kind)) for kind in row.alarms],
        "chart": compare_chart(
            row.bands, group.bands, who=row.examiner_name, group_name=group.name
        ),
    }


def _page(exam: ExamSession, *, back: str, csv: str) -> str:
    db = get_db()
    figures, stale = mon.current(db, exam)
    groups = [
        {
            "key": g.key,
            "name": g.name,
            "rows": [_row(r, g) for r in g.examiners],
            "sample": [
                {
                    "handle": s.handle,
                    "question": _(
                        "%(component)s, question %(n)s", component=s.component, n=s.question
                    )
                    if s.component
                    else s.question,
                    "examiner": s.examiner_name,
                    "value": s.value,
                    "seconds": _decimal(s.seconds, 1),
                    "reasons": [str(REASONS[r]) for r in s.reasons],
                }
                for s in g.sample
            ],
        }
        for g in figures.groups
    ]
    return render_template(
        "monitoring/page.html",
        exam=exam,
        figures=figures,
        groups=groups,
        stale=stale,
        back=back,
        csv=csv,
    )


def _csv(exam: ExamSession) -> Response:
    figures = mon.monitoring(get_db(), exam)
    group_names = {g.key: g.name for g in figures.groups}
    _keys, figured = mon.export_rows(figures)
    rows = [
        (
            group_names[row.group],
            row.examiner_name,
            row.examiner,
            *numbers[2:-2],
            str(STATUS[row.status]),
            "、".join(str(ALARMS.get(kind, kind)) for kind in row.alarms),
        )
        for row, numbers in zip(figures.rows, figured, strict=True)
    ]
    buffer = io.StringIO()
    cells.write_csv(buffer, [str(h) for h in HEADINGS], rows)
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{exam.code}-monitoring.csv"'},
    )


@lead_bp.get("/sessions/<code>/monitoring")
@require(*LEADS)
def monitoring(code: str) -> str:
    exam, _account = session_as_lead(code)
    return _page(
        exam,
        back=url_for("lead.session", code=code),
        csv=url_for("lead.monitoring_csv", code=code),
    )


@lead_bp.get("/sessions/<code>/monitoring.csv")
@require(*LEADS)
def monitoring_csv(code: str) -> Response:
    exam, _account = session_as_lead(code)
    return _csv(exam)


def _staff_views(blueprint: Blueprint, role: Role) -> None:
    """The office's and the director's views: read-only, as the lead's (the issue names the
    lead, and the office read-only; the director heads the office). Endpoints
    ``office.office_monitoring``, ``director.director_monitoring`` and their ``_csv``."""
    where = role.value

    @require(role)
    def page(code: str) -> str:
        exam, _account = session_as_staff(code, role)
        return _page(
            exam,
            back=url_for(f"{where}.session", code=code),
            csv=url_for(f"{where}.{where}_monitoring_csv", code=code),
        )

    @require(role)
    def csv(code: str) -> Response:
        exam, _account = session_as_staff(code, role)
        return _csv(exam)

    blueprint.add_url_rule("/sessions/<code>/monitoring", f"{where}_monitoring", page)
    blueprint.add_url_rule("/sessions/<code>/monitoring.csv", f"{where}_monitoring_csv", csv)


_staff_views(office_bp, Role.OFFICE)
_staff_views(director_bp, Role.DIRECTOR)
