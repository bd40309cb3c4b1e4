"""bench/queue.py's quality control switch: seeds and 回评 on or off in a fresh copy."""

from __future__ import annotations

from typing import Any


def quality_control(target: dict[str, Any], session_id: int, *, on: bool, seeds: int) -> None:
    """Seeds and 回评 on (the defaults, 1 in 20 and 1 in 100) or off in every group of the
    copy; on, ``seeds`` responses of each group final and made seeds."""
    from decimal import Decimal

    from _queue_work import true_steps
    from sqlalchemy import select, update

    from marking.store.db import make_engine, transaction
    from marking.store.models import ExamSession, MarkingGroup, Question, Response, ResponseState
    from marking.store.models.checks import CheckItem, CheckPurpose

    engine = make_engine(target["url"])
    try:
        with transaction(engine) as db:
            exam = db.get(ExamSession, session_id)
            assert exam is not None and exam.lead_id is not None
            seed, remark = (Decimal("0.05"), Decimal("0.01")) if on else (Decimal(0), Decimal(0))
            db.execute(
                update(MarkingGroup)
                .where(MarkingGroup.session_id == session_id)
                .values(seed_rate=seed, remark_rate=remark)
            )
            if not on:
                return
            for group in exam.groups:
                rows = db.execute(
                    select(Response.id, Question.max, Question.step)
                    .join(Question, Question.id == Response.question_id)
                    .where(Response.group_id == group.id)
                    .order_by(Response.queue_key.desc())  # the end of the queue: marked last
                    .limit(seeds)
                ).all()
                for rid, maximum, step in rows:
                    # The definitive mark: the simulated examiners' true mark (they stray
                    # from it as from any response's, so alarms are as rare as in life).
                    value = true_steps(rid, int(maximum / step)) * step
                    db.execute(
                        update(Response)
                        .where(Response.id == rid)
                        .values(state=ResponseState.FINAL, final=value, final_rule="seed")
                    )
                    db.add(
                        CheckItem(
                            session_id=session_id,
                            group_id=group.id,
                            response_id=rid,
                            purpose=CheckPurpose.SEED,
                            value=value,
                            created_by=exam.lead_id,
                        )
                    )
    finally:
        engine.dispose()
