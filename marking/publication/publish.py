"""Publication of a session as one batch (DESIGN §6), the driver over the room's steps.

Everything happens in the caller's single transaction: unseal, check, total, decide,
write results, record the publication. Any failure raises, and nothing is published.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from marking.publication.approvals import require_current_approval
from marking.publication.late_conflicts import LateConflicts, late_findings
from marking.publication.outcomes import candidate_rows, component_keys
from marking.publication.preconditions import PublicationRefused, open_work, require_publishable
from marking.publication.reconciliation import check_reconciliation
from marking.publication.records_check import check_records
from marking.publication.results import PublicationReport, write_results
from marking.publication.unsealing import (
    SessionKey,
    sealed_items,
    unseal_roster,
    withdrawn_scripts,
)
from marking.store.models import (
    ExamSession,
    Exclusion,
    PendingConflict,
    SealedKind,
    SessionState,
    utcnow,
)


def publish(
    db: Session,
    exam: ExamSession,
    *,
    by: str,
    approved_by: str,
    key: SessionKey,
    now: dt.datetime | None = None,
) -> PublicationReport:
    """Publish the session's results as one batch (DESIGN §6).

    ``by`` is an office account, ``approved_by`` a different director account whose
    recorded approval still matches the session (R16, marking/publication/approvals.py).
    Raises PublicationRefused listing what is open or why the approval does not hold,
    LateConflicts when marks must be withdrawn first (see ``withdraw_marks``), StateError
    after publication.
    """
    now = now or utcnow()
    office, director = require_publishable(
        db, exam, by=by, approved_by=approved_by, public_key=key.public_key
    )
    roster = unseal_roster(db, exam, key)
    problems = open_work(db, exam, now=now, skip_scripts=withdrawn_scripts(db, exam, key))
    if problems:
        raise PublicationRefused("publication refused; still open:\n  " + "\n  ".join(problems))
    # R16: the director approved this session as it stands now, not as it stood then.
    approval = require_current_approval(db, exam, director)
    conflicts = sealed_items(db, exam, key, SealedKind.CONFLICT)
    late = late_findings(db, exam, roster, conflicts)
    if late.marks or late.rulings:
        raise LateConflicts(late.marks, late)
    checked = check_reconciliation(db, exam)
    # Conflicts declared after intake that no mark broke bind an appeal revision's
    # re-marking too: identities are public from now on, so excluding reveals nothing.
    for script_id, account_id in late.exclusions:
        if db.get(Exclusion, (script_id, account_id)) is None:
            db.add(Exclusion(script_id=script_id, examiner_id=account_id))
    # Violations and interview scores sealed as they came: checked now that they open (R7, R13).
    records = check_records(
        db,
        exam,
        roster,
        violations=sealed_items(db, exam, key, SealedKind.VIOLATION),
        interviews=sealed_items(db, exam, key, SealedKind.INTERVIEW),
        absences=sealed_items(db, exam, key, SealedKind.INTERVIEW_ABSENT),
        conflicts=conflicts,
    )

    components = component_keys(db, exam)
    rows = candidate_rows(db, exam, roster, components, records=records)
    report = write_results(
        db,
        exam,
        rows,
        components=components,
        office=office,
        director=director,
        approval=approval,
        checked=checked,
        now=now,
    )
    exam.state = SessionState.PUBLISHED
    # No intake can come any more: declarations still waiting for one have done their job.
    db.execute(delete(PendingConflict).where(PendingConflict.session_id == exam.id))
    db.flush()
    return report
