"""The statistics report's monitoring chart: both axes labelled in the report's language and
ticked, bars as shares of each distribution."""

from __future__ import annotations

import re

from reports.charts import compare_chart
from reports.i18n import catalog


def texts(svg: str) -> list[str]:
    return re.findall(r"<text[^>]*>([^<]*)</text>", svg)


def test_the_axes_are_labelled_and_ticked_in_the_reports_language() -> None:
    mine = [0, 0, 0, 0, 0, 1, 1, 0, 0, 2]
    group = [0, 0, 0, 1, 1, 2, 2, 0, 0, 2]
    zh = texts(compare_chart(mine, group, catalog("zh")))
    assert zh == ["0", "50%", "100%", "0", "50%", "分数（占满分）", "占比"]
    en = texts(compare_chart(mine, group, catalog("en")))
    assert en[-2:] == ["Score (of the maximum)", "Share"]


def test_an_empty_distribution_has_no_peak_to_tick() -> None:
    svg = compare_chart([0] * 10, [0] * 10, catalog("zh"))
    assert texts(svg)[3:5] == ["0", "—"] and 'height="0.00"' in svg
