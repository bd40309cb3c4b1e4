"""The engine's coded refusals (``MarkingError.coded``) in the reader's language.

The core raises English (the command line and the ledger read it) with a stable code and
its parameters; a screen shows the translation kept here under that code, the parameters
carried over. ``tests/web/test_engine_text.py`` fails when a code raised in the core has
no entry here, or an entry's placeholders differ from the English.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext, lazy_gettext

from marking.errors import MarkingError, Refusals

_: Callable[..., str] = gettext
_l = lazy_gettext

#: code → translatable text with the same %(name)s placeholders as the English.
TEXT: dict[str, object] = {
    # Mark corrections (R6, marking/queue/corrections.py)
    "correction_final": _l(
        "That response is final: only the lead examiner corrects its marks now."
    ),
    "correction_no_arbitration": _l("That response has no arbitration to correct."),
    "correction_no_mark": _l("%(user)s gave no mark on that response in session %(session)s."),
    "correction_no_response": _l("That response is not in session %(session)s."),
    "correction_no_script_response": _l(
        "No response of script %(script)s to %(component)s/%(question)s in session %(session)s."
    ),
    "correction_not_marking": _l("Session %(session)s is not in marking."),
    "correction_not_yours": _l(
        "Only the examiner who gave a mark, or the lead examiner, corrects it."
    ),
    "correction_published": _l(
        "Session %(session)s is published: a change now is an appeal (a revision)."
    ),
    "correction_reason": _l("A correction needs a reason (R6: a correction is signed)."),
    "correction_unchanged": _l("The mark is %(value)s already."),
    "correction_which_mark": _l("Choose the mark to correct (whose, or the arbitration)."),
    "correction_which_response": _l(
        "Name the response: its handle, or the script code and the question."
    ),
    "correction_withdrawn": _l("That mark was withdrawn: it cannot be corrected."),
    "no_lead": _l("Session %(session)s has no lead examiner: the office names one first."),
    "not_the_lead": _l("Only the session's lead examiner approves schemes; %(user)s is not."),
    # recusal declarations (marking/people/examiners.py, declarations.py)
    "conflict_published": _l("Session %(session)s is published: too late to declare a conflict."),
    "conflict_no_key": _l(
        "Session %(session)s has no key yet, so a declaration cannot be sealed: the office "
        "makes the key on the session page first. Choose another session, or declare again "
        "once it is made."
    ),
    "conflict_not_recused": _l("Only examiners and leads declare their own conflicts."),
    "conflict_id_empty": _l("Type the candidate's ID number."),
    "conflict_id_long": _l("An ID number has at most 64 characters."),
    "conflict_relation": _l(
        "Choose the relation: relative (亲属), teacher and student (师生), master and "
        "apprentice (师徒) or other (其他)."
    ),
    "conflict_no_session": _l(
        "No session can take a declaration yet (none is open with its key made). Declare "
        "again once the office has made a session's key."
    ),
    # batch withdrawal (marking/intake/batch.py)
    "withdraw_published": _l("Session %(session)s is published: it can no longer change."),
    "withdraw_no_batch": _l("Session %(session)s has no batch %(batch)s."),
    "withdraw_again": _l("Batch %(batch)s was already withdrawn."),
    "withdraw_no_reason": _l("Give the reason for the withdrawal."),
    # notices for chosen candidates (marking/jobs/notices.py)
    "notices_none_chosen": _l("Choose at least one candidate: type exam numbers or tick rows."),
    "notices_unknown": _l(
        "No published result in session %(session)s for these exam numbers: %(numbers)s. "
        "Nothing was queued."
    ),
    # passwords and invitations (marking/people/accounts.py, invitations.py, web/duties.py)
    "password_short": _l("A password needs at least %(n)d characters."),
    "access_not_office": _l("Only an active office account does this."),
    "access_not_examiner": _l(
        "%(user)s is not an examiner account: the admins set the passwords of other accounts "
        "(four eyes)."
    ),
    "access_disabled": _l("Account %(user)s is disabled: an admin enables it first."),
    "invitation_unknown": _l("This invitation link is not valid."),
    "invitation_used": _l("This invitation link was used already."),
    "invitation_voided": _l("This invitation link was replaced by a newer one."),
    "invitation_expired": _l("This invitation link has expired."),
    # Appeal revisions (复核, marking/publication/revisions.py, revision_publish.py).
    "key_correction_in_revision": _l(
        "A key cannot be corrected during revision %(number)s: a revision re-marks only the "
        "candidates it names."
    ),
    "revision_already_open": _l(
        "Revision %(number)s of session %(session)s is still open: publish it first."
    ),
    "revision_interview_unknown": _l(
        "The interview verdict of candidate %(exam_no)s was not recorded at publication: this "
        "revision cannot recompute their outcome."
    ),
    "revision_no_candidates": _l("Name the candidates (exam numbers) to revise."),
    "revision_none_open": _l("Session %(session)s has no revision open."),
    "revision_not_approved": _l(
        "Revision %(number)s of session %(session)s has no current approval by %(director)s: "
        "the director reviews and approves it first (R16)."
    ),
    "revision_not_published": _l(
        "Session %(session)s is not published: a revision reopens published results."
    ),
    "revision_nothing_to_mark": _l(
        "Nothing to mark again: the named components of %(exam_nos)s have no examiner-marked "
        "answers (objective questions change only by a key correction)."
    ),
    "revision_reason": _l("A revision needs a reason: the appeal it answers."),
    "revision_unknown": _l("Session %(session)s has no published revision %(number)s."),
    "revision_unknown_candidates": _l(
        "No published result for exam number(s) %(exam_nos)s in session %(session)s."
    ),
    "revision_unknown_component": _l(
        "Session %(session)s has no component %(components)s (components: %(known)s)."
    ),
    "revision_work_open": _l(
        "Revision %(number)s of session %(session)s cannot be approved or published while "
        "work is open: %(problems)s"
    ),
}


def word(exc: MarkingError) -> str | None:
    """``exc`` in the reader's language, or None when it carries no known code."""
    if isinstance(exc, Refusals):
        lines = [word(r) or str(r) for r in exc.refusals]
        head = TEXT.get(exc.code or "")
        first = str(head) % dict(exc.params) if head is not None else exc.head
        return first + "：" + "；".join(lines) if lines else first
    if exc.code is None or exc.code not in TEXT:
        return None
    return str(TEXT[exc.code]) % dict(exc.params)
