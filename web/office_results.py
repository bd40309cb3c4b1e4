"""The published results on screen, the office's and the director's: searched, a page at a
time, ID numbers partly masked (the exports and reports keep them whole: they are the
records)."""

from __future__ import annotations

from typing import Any

from web.office import bp

PER_PAGE = 50


@bp.app_template_filter("masked_id")
def masked_id(value: object) -> str:
    """An ID number with its middle hidden: 110101199001011237 → 1101**********1237."""
    text = "" if value is None else str(value)
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def page_of(results: dict[str, Any], query: str, page: str | None) -> dict[str, Any]:
    """``results`` (columns, rows) narrowed to the rows matching ``query`` (part of an
    exam number or a name, or the last digits of an ID number) and cut to page ``page``."""
    columns = results["columns"]
    rows = results["rows"]
    query = query.strip()
    if query:
        wanted = query.casefold()
        searched = [columns.index(c) for c in ("exam_no", "name") if c in columns]
        id_at = columns.index("id_number") if "id_number" in columns else None
        rows = [
            r
            for r in rows
            if any(wanted in str(r[i]).casefold() for i in searched)
            or (id_at is not None and str(r[id_at]).casefold().endswith(wanted))
        ]
    pages = max(1, -(-len(rows) // PER_PAGE))
    number = int(page) if page and page.isdigit() else 1
    number = min(max(number, 1), pages)
    start = (number - 1) * PER_PAGE
    return {
        **results,
        "rows": rows[start : start + PER_PAGE],
        "paging": {"page": number, "pages": pages, "found": len(rows), "query": query},
    }
