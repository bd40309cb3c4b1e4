"""Bar charts as inline SVG: vector in the PDF, so no raster blur at any zoom."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from reports.data import MonitoredExaminer, MonitoredGroup


def bar_chart(
    labels: Sequence[str],
    values: Sequence[int],
    *,
    width: float = 480,
    height: float = 150,
    highlight_from: int | None = None,
) -> str:
    """Vertical bars with their counts above and labels below. Bars from index
    ``highlight_from`` on are drawn darker (the passing bands of a score chart)."""
    left, bottom, top = 8.0, 18.0, 14.0
    n = max(len(values), 1)
    slot = (width - 2 * left) / n
    peak = max(values, default=0) or 1
    plot = height - bottom - top
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}pt" height="{height:g}pt" '
        f'viewBox="0 0 {width:g} {height:g}" font-size="7">',
        f'<line x1="{left:g}" y1="{height - bottom:g}" x2="{width - left:g}" '
        f'y2="{height - bottom:g}" stroke="#000" stroke-width="0.6"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot * value / peak
        x = left + i * slot + slot * 0.15
        y = height - bottom - h
        dark = highlight_from is not None and i >= highlight_from
        fill = "#4a6fa5" if dark else "#a9bcd6"
        cx = left + i * slot + slot / 2
        parts.append(
            f'<rect x="{x:.2f}" y="{y:.2f}" width="{slot * 0.7:.2f}" height="{h:.2f}" '
            f'fill="{fill}"/>'
        )
        parts.append(f'<text x="{cx:.2f}" y="{y - 2:.2f}" text-anchor="middle">{value}</text>')
        parts.append(
            f'<text x="{cx:.2f}" y="{height - bottom + 10:.2f}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def compare_chart(
    mine: Sequence[int],
    group: Sequence[int],
    words: Mapping[str, str],
    *,
    width: float = 96,
    height: float = 38,
) -> str:
    """One examiner's distribution (dark) beside their group's (light), per band, as shares
    of each (so sizes do not matter), scaled to the larger share; the axes labelled in
    ``words`` (the report's catalog: score as a share of the maximum, share of marks) and
    ticked (0, 50 %, 100 % of the maximum; 0 and the largest share)."""
    own = [n / (sum(mine) or 1) for n in mine]
    theirs = [n / (sum(group) or 1) for n in group]
    peak = max(own + theirs, default=0) or 1
    left, top, bottom = 22.0, 3.0, 13.0
    plot_w, plot_h = width - left - 6, height - top - bottom
    base = top + plot_h
    slot = plot_w / max(len(own), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}pt" height="{height:g}pt" '
        f'viewBox="0 0 {width:g} {height:g}" font-size="4.5">'
    ]
    for i, (a, b) in enumerate(zip(own, theirs, strict=True)):
        for offset, share, fill in ((0.1, b, "#a9bcd6"), (0.5, a, "#2c4f7c")):
            h = plot_h * share / peak
            parts.append(
                f'<rect x="{left + i * slot + slot * offset:.2f}" y="{base - h:.2f}" '
                f'width="{slot * 0.4:.2f}" height="{h:.2f}" fill="{fill}"/>'
            )
    parts.append(
        f'<path d="M{left:g} {top:g}V{base:g}H{left + plot_w:g}" fill="none" stroke="#000" '
        'stroke-width="0.4"/>'
    )
    for k, tick in enumerate(("0", "50%", "100%")):
        x = left + plot_w * k / 2
        parts.append(f'<path d="M{x:g} {base:g}v1.5" stroke="#000" stroke-width="0.4"/>')
        parts.append(f'<text x="{x:g}" y="{base + 6:g}" text-anchor="middle">{tick}</text>')
    top_tick = f"{peak * 100:.0f}%" if any(own + theirs) else "—"
    for y, tick in ((base, "0"), (top, top_tick)):
        parts.append(f'<path d="M{left - 1.5:g} {y:g}h1.5" stroke="#000" stroke-width="0.4"/>')
        parts.append(f'<text x="{left - 2:g}" y="{y + 1.5:g}" text-anchor="end">{tick}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:g}" y="{height - 1:g}" text-anchor="middle">'
        f"{escape(words['m_chart_x'])}</text>"
        f'<text transform="rotate(-90)" x="{-(top + base) / 2:g}" y="5" '
        f'text-anchor="middle">{escape(words["m_chart_y"])}</text></svg>'
    )
    return "".join(parts)


def monitoring_charts(
    groups: Sequence[MonitoredGroup], words: Mapping[str, str]
) -> list[tuple[MonitoredGroup, list[tuple[MonitoredExaminer, str]]]]:
    """Each group with each examiner's comparison chart, for the statistics report."""
    return [(g, [(e, compare_chart(e.bands, g.bands, words)) for e in g.examiners]) for g in groups]
