"""R16, DESIGN §14 (four eyes bound to content): before approving, the director sees each
component's figures — scripts scored, mean score, how many at 60 or above, the distribution
in bands of ten — computed as publication will compute them, and nothing naming anyone."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from marking.domain.rules.scores import component_score
from marking.setup.sessions import get_session
from marking.store.models import Question, Response, Script
from tests.integration.factory import mark_all
from tests.web.conftest import World


def _expected(world: World, code: str) -> dict[str, tuple[int, Decimal, int, list[int]]]:
    """Each component's figures, recomputed here from the finals in the database."""
    with world.tx() as db:
        exam = get_session(db, code)
        figures = {}
        for component in exam.components:
            top = sum(
                q.max
                for q in db.scalars(select(Question).where(Question.component_id == component.id))
            )
            scores = []
            for script in db.scalars(select(Script).where(Script.component_id == component.id)):
                finals = db.scalars(select(Response.final).where(Response.script_id == script.id))
                total = sum((f or Decimal(0)) for f in finals)
                scores.append(component_score(int(total * 1000), int(top * 1000)))
            bands = [0] * 10
            for s in scores:
                bands[min(int(s // 10), 9)] += 1
            mean = (sum(scores) / len(scores)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            figures[component.name] = (len(scores), mean, sum(s >= 60 for s in scores), bands)
    return figures


def test_the_director_reviews_scores_per_component_without_names(world: World) -> None:
    tiny = world.session("REVIEW-1", n=6)
    with world.tx() as db:
        mark_all(db, get_session(db, "REVIEW-1"), ["e1", "e2", "e3"])
    page = world.client("director").get("/director/sessions/REVIEW-1").get_data(as_text=True)
    table = page.split('class="component-review"', 1)[1].split("</table>", 1)[0]
    for name, (scored, mean, passing, bands) in _expected(world, "REVIEW-1").items():
        row = table.split(f'<th scope="row">{name}</th>', 1)[1].split("</tr>", 1)[0]
        assert f'<td class="scored">{scored} / {scored}</td>' in row, row
        assert f'<td class="mean">{mean}</td>' in row, row
        assert re.search(rf'<td class="passing">{passing}( \(|</td>)', row), row
        assert f"：{'、'.join(str(b) for b in bands)}" in row, row  # the chart's own words
    for candidate in tiny.candidates:  # figures over scripts: no one is named
        assert candidate.name not in page and candidate.exam_no not in page
