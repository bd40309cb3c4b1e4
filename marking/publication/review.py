"""What the director reviews per component before approving (R16, DESIGN §14): how many
scripts, how they score, how many pass, and the distribution of their scores. Figures over
scripts only: nothing here names a candidate or links one to a score."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.domain.rules.scores import COMPONENT_PASS_TENTHS, component_scores
from marking.publication.outcomes import component_totals
from marking.store.models import Component, ExamSession, Response, ResponseState, Script

#: Score bands of the distribution: 0-9.9, 10-19.9, ..., 90-100 (100 falls in the last).
BANDS = 10


@dataclass(frozen=True)
class ComponentReview:
    key: str
    name: str
    scripts: int  # scripts of the component
    scored: int  # of which every response is final: the figures below are theirs
    mean: Decimal | None  # mean score, one decimal (half-up)
    passing: int  # scored scripts at 60 or above
    bands: list[int]  # scored scripts per band of ten points

    @property
    def pass_rate(self) -> Decimal | None:
        if not self.scored:
            return None
        return (Decimal(100 * self.passing) / self.scored).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )


def component_review(db: Session, exam: ExamSession) -> list[ComponentReview]:
    """Per component, in the session's order: its scripts' score figures (DESIGN §11's
    arithmetic, the one publication uses), over the scripts whose responses are all final."""
    maxima, sums = component_totals(db, exam)
    open_per_script = dict(
        db.execute(
            select(
                Script.id,
                func.count(Response.id).filter(Response.state != ResponseState.FINAL),
            )
            .join(Response, Response.script_id == Script.id)
            .where(Script.session_id == exam.id)
            .group_by(Script.id)
        ).all()
    )
    scripts_of: dict[int, list[int]] = {}
    for script_id, component_id in db.execute(
        select(Script.id, Script.component_id).where(Script.session_id == exam.id)
    ):
        scripts_of.setdefault(component_id, []).append(script_id)
    reviews = []
    for component in db.scalars(
        select(Component).where(Component.session_id == exam.id).order_by(Component.position)
    ):
        ids = scripts_of.get(component.id, [])
        done = [sid for sid in ids if open_per_script.get(sid, 0) == 0]
        totals = np.fromiter((sums.get(sid, 0) for sid in done), dtype=np.int64, count=len(done))
        top = maxima.get(component.key, 0)
        tenths = component_scores(totals, top) if done and top else np.zeros(0, dtype=np.int64)
        bands = np.bincount(np.minimum(tenths // 100, BANDS - 1), minlength=BANDS)
        mean = None
        if len(tenths):
            mean = (Decimal(int(tenths.sum())) / len(tenths) / 10).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        reviews.append(
            ComponentReview(
                key=component.key,
                name=component.name,
                scripts=len(ids),
                scored=len(tenths),
                mean=mean,
                passing=int((tenths >= COMPONENT_PASS_TENTHS).sum()),
                bands=[int(b) for b in bands],
            )
        )
    return reviews
