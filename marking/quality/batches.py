"""A claim's batch cut back to the size the examiner asked for, once checks are mixed in
(``checks.mix_in``): a batch longer than asked would say it holds a check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from marking.queue.claims import Checked, Claimed
from marking.store.models import Account, Assignment, Lease, LeaseState, Response
from marking.store.models.checks import CheckMark, CheckPurpose


def trim(
    db: Session,
    examiner: Account,
    mixed: list[Claimed],
    size: int,
    checked: Mapping[str, Checked],
    expires: dt.datetime,
) -> list[Claimed]:
    """The batch cut back to the ``size`` asked for. A batch longer than asked would say it
    holds a check (claiming one at a time, a batch of two would be a check and a live
    response, the check first). The live responses at its end are given back as never taken
    (their leases removed, their hold and the examiner's count undone); the checks beyond
    ``size`` when even that is not enough (a seed and a 回评 due in a batch of one) are
    removed too and stay owed."""
    conn = db.connection()
    cut = list(mixed)
    dropped: list[Claimed] = []
    for n in range(len(cut) - 1, -1, -1):  # live ones first, from the end
        if len(cut) <= size:
            break
        if cut[n].check_id is None:
            dropped.append(cut.pop(n))
    while len(cut) > size:  # then checks, from the end
        dropped.append(cut.pop())
    live = [d for d in dropped if d.check_id is None]
    if live:
        ids = [d.response_id for d in live]
        conn.execute(
            delete(Lease).where(
                Lease.response_id.in_(ids),
                Lease.examiner_id == examiner.id,
                Lease.state == LeaseState.HELD,
                Lease.expires_at == expires,
            )
        )
        conn.execute(update(Response).where(Response.id.in_(ids)).values(held=Response.held - 1))
    owed: dict[int, set[str]] = {}
    gone = [d.check_id for d in dropped if d.check_id is not None]
    if gone:
        for group_id, purpose in conn.execute(
            select(CheckMark.group_id, CheckMark.purpose).where(CheckMark.id.in_(gone))
        ):
            field = "seed_due" if CheckPurpose(purpose) is CheckPurpose.SEED else "remark_due"
            owed.setdefault(group_id, set()).add(field)
        conn.execute(delete(CheckMark).where(CheckMark.id.in_(gone)))
    for key, group in checked.items():
        n = sum(1 for d in live if d.group == key)
        if n or group.group_id in owed:
            values: dict[str, Any] = {"handed": Assignment.handed - n}
            for field in owed.get(group.group_id, ()):  # due now: goes with the next batch
                values[field] = Assignment.handed - n
            conn.execute(
                update(Assignment)
                .where(
                    Assignment.group_id == group.group_id,
                    Assignment.examiner_id == examiner.id,
                )
                .values(**values)
            )
    return cut
