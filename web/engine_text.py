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
from web.formatting import STATE_NAMES
from web.patterns import Patterns

_: Callable[..., str] = gettext
_l = lazy_gettext

#: code → translatable text with the same %(name)s placeholders as the English.
TEXT: dict[str, object] = {
    # The lead's rulings: anomaly reports, arbitration, key corrections (marking/queue/lead.py)
    "resolution_unknown": _l(
        "Choose how to resolve it: back to the queue, a final mark, or after a key correction."
    ),
    "lead_only": _l("Only the lead examiner of session %(session)s may do this."),
    "lead_not_marking": _l("Session %(session)s is %(state)s, not in marking."),
    "lead_not_yours": _l("That response is not awaiting your ruling in session %(session)s."),
    "lead_no_response": _l("That response is not in session %(session)s."),
    "lead_not_awaiting": _l("That response is not awaiting arbitration (any longer)."),
    "lead_no_anomaly": _l("That anomaly report is not in session %(session)s."),
    "lead_resolved": _l("That anomaly report was already resolved."),
    "lead_note_required": _l("A resolution needs a reason: every ruling is signed and says why."),
    "lead_mark_required": _l("A final mark needs the mark: enter it in the Mark field."),
    "lead_key_reason_required": _l("A key correction needs a reason."),
    "lead_no_question": _l(
        "There is no question %(component)s %(question)s in session %(session)s."
    ),
    "lead_not_objective": _l(
        "Question %(component)s %(question)s is marked by examiners: it has no key to correct."
    ),
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
    "correction_outside_revision": _l(
        "That response is not in revision %(number)s of session %(session)s: only the "
        "responses the open revision sends to be marked again take corrections."
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
    "archive_unpublished": _l(
        "Session %(session)s is not published: its archive names candidates and their "
        "scores, so it exists only after publication (R8)."
    ),
    # Refusals whose English names a command; a screen names the page instead.
    "no_key": _l(
        "Session %(session)s has no key yet: the office makes it first, on the session's page."
    ),
    "no_approval": _l(
        "Session %(session)s has no recorded approval by %(director)s: the director approves "
        "first, on the director's page (R16)."
    ),
    "approval_by_another": _l(
        "Session %(session)s has no recorded approval by %(director)s (the approval on record "
        "is by %(other)s): the director approves first, on the director's page (R16)."
    ),
    "examiner_via_import": _l(
        "Examiner accounts come from the office's examiner import, on the Examiners page."
    ),
    "session_exists": _l(
        "A session with code %(session)r already exists: give this one another code."
    ),
    "unassign_marking": _l(
        "Session %(session)s is %(state)s: an examiner is taken off a group only before "
        "marking starts; the lead suspends them instead."
    ),
    "unassign_not_on_group": _l("%(user)s is not on group %(group)s."),
    "unassign_started": _l(
        "%(user)s has started on group %(group)s: the lead suspends them instead."
    ),
    "no_lead": _l("Session %(session)s has no lead examiner: the office names one first."),
    "not_the_lead": _l("Only the session's lead examiner approves schemes; %(user)s is not."),
    "scheme_marked": _l(
        "Group %(group)s has %(count)s mark(s) already: its scheme approval stays; a change "
        "now is a correction (R6)."
    ),
    "scheme_not_approved": _l(
        "The scheme of group %(group)s is not approved: there is nothing to withdraw."
    ),
    "out_of_category": _l(
        "%(user)s: the certificate's scope (%(scope)s) does not cover %(components)s of "
        "%(occupation)s level %(level)s (R9, 第七条(一))."
    ),
    "examiner_suspended": _l("%(user)s: the examiner is suspended (第八条)."),
    # Key custody (marking/setup/custody.py)
    "custodians_too_few": _l(
        "Tick at least two custodians, one account each; for one custodian make a key file instead."
    ),
    "custodian_twice": _l("Each custodian holds one share: %(users)s named twice."),
    "share_none": _l("You hold no share of session %(session)s."),
    "share_taken": _l(
        "You downloaded your share of session %(session)s on %(time)s; the server keeps no "
        "copy. If it is lost, tell the office."
    ),
    # Lost leases (marking/queue/leases.py) and checks (DESIGN §13, marking/quality): a lost
    # check says what a lost live response says, so the examiner cannot tell them apart.
    "lease_none": _l("You have not claimed this response; claim a batch first."),
    "lease_marked": _l("You have already marked this response."),
    "lease_released": _l("You handed this response back; it is no longer yours."),
    "lease_expired": _l(
        "Your claim on this response expired at %(time)s and it went back to the queue; "
        "your mark was not recorded. Claim a new batch to go on."
    ),
    "lease_suspended": _l(
        "The lead examiner suspended your marking in %(group)s: what you held there went back "
        "to the queue and your mark was not recorded. Their reason: “%(reason)s”. Ask the lead "
        "examiner."
    ),
    "report_qualification": _l(
        "An item of your qualification set is marked as it stands, not reported. Tell the lead "
        "examiner about it directly."
    ),
    "not_marking": _l("Session %(session)s is %(state)s: it is not open for marking."),
    "group_not_assigned": _l("%(user)s is not assigned to marking group %(group)s."),
    "claim_suspended": _l(
        "The lead examiner suspended your marking in %(groups)s: you cannot claim there until "
        "they reinstate you. Their reason: %(reasons)s. Ask the lead examiner."
    ),
    "nul_character": _l(
        "What was sent contains a NUL character (an invisible control character, often "
        "pasted from another program): remove it and send again."
    ),
    "report_note_long": _l(
        "The note is %(n)d characters long: a report's note is at most %(limit)d. Shorten it."
    ),
    # The hold limit (marking/queue/claims.py): groups by name, each with its limit.
    "hold_limit": _l(
        "You already hold as many responses as one examiner may in %(groups)s; mark or hand "
        "back the ones you hold, then claim again."
    ),
    "qualification_set_incomplete": _l(
        "Group %(group)s needs a qualification set of %(size)s responses with definitive "
        "marks before its scheme is approved; it has %(have)s."
    ),
    "qualification_not_approved": _l(
        "The scheme of group %(group)s is not approved yet: the qualification set opens with it."
    ),
    "qualification_suspended": _l("You are suspended in group %(group)s."),
    "qualification_done": _l("You are qualified in group %(group)s already."),
    "qualification_no_review": _l("The definitive marks are shown after a failed attempt only."),
    "qualification_set_short": _l(
        "The qualification set of group %(group)s has too few responses you may mark; the "
        "lead examiner's page asks for more: try again once they are added."
    ),
    "qualification_required": _l(
        "Take the qualification set (资格测试) of %(groups)s before live marking there."
    ),
    "examiner_revoked": _l("%(user)s: the examiner's qualification is revoked (第八条)."),
    "examiner_card_lost": _l(
        "%(user)s: the examiner card is reported lost: no examining until it is valid "
        "again (第六条(三))."
    ),
    "examiner_card_renewing": _l(
        "%(user)s: the examiner card is being renewed: no examining until it is valid "
        "again (第六条(三))."
    ),
    "certificate_not_yet": _l(
        "%(user)s: certificate %(cert)s is issued on %(issued)s, after the session date "
        "%(date)s (R11)."
    ),
    "certificate_void": _l(
        "%(user)s: certificate %(cert)s expired on %(expires)s, a year or more before the"
        " session date %(date)s: the qualification is void until a new certificate is "
        "issued (R11, 第三条)."
    ),
    "certificate_expired": _l(
        "%(user)s: certificate %(cert)s expired on %(expires)s, before the session date "
        "%(date)s (R11, 第三条)."
    ),
    "out_of_scope": _l(
        "%(user)s: the certificate's scope (%(scope)s) does not cover %(occupation)s "
        "level %(level)s (R9, 第七条(一))."
    ),
    "no_certificate": _l("%(user)s holds no examiner certificate."),
    "absence_not_assigned": _l(
        "%(user)s is not on the team of session %(session)s: an absence is from an "
        "assigned session."
    ),
    "absence_recorded": _l("%(user)s is already recorded absent from session %(session)s."),
    "reason_needed": _l("Give the reason, for the record."),
    "examiner_revoked_final": _l(
        "%(user)s's qualification is revoked (第八条): nothing reverses it."
    ),
    "not_suspended": _l("%(user)s is not suspended: nothing to reinstate."),
    "already_suspended": _l("%(user)s is already suspended."),
    "account_disabled": _l("%(user)s: the account is disabled."),
    "assignment_refused": _l("Assignment refused"),
    "lead_role": _l("%(user)s: a lead or deputy lead must be a lead or examiner account."),
    "lead_not_senior": _l(
        "%(user)s: the lead must be a senior examiner whose certificate covers the "
        "session (DESIGN §14); import the certificate with examiners.csv (grade senior)."
    ),
    "deputy_not_senior": _l(
        "%(user)s: the deputy lead must be a senior examiner whose certificate covers the"
        " session (DESIGN §14); import the certificate with examiners.csv (grade senior)."
    ),
    "team_refused": _l("Marking cannot start with this team (R10)"),
    "lead_is_deputy": _l("%(user)s is the session's deputy lead: name another deputy first."),
    "no_examiner": _l("%(user)s: no examiner with this username."),
    "consecutive_sessions": _l(
        "%(user)s would serve a %(nth)dth consecutive session of %(occupation)s at "
        "station %(station)s; at most %(most)d (R10, 第七条(四)): choose another examiner, or"
        " ask a director to record an override."
    ),
    "rotation": _l(
        "Only %(new)d of the %(size)d members of the team (lead included) are new since "
        "session %(previous)s, the previous session of %(occupation)s at station "
        "%(station)s; at least a third must rotate (R10, 第七条(四)): change the team, or ask"
        " a director to record an override."
    ),
    "team_closed": _l("Session %(session)s is past marking: its team no longer changes."),
    "rotation_is_the_teams": _l(
        "Rotation is a rule of the whole team: override it without naming an examiner."
    ),
    # recusal declarations (marking/people/examiners.py, declarations.py)
    "conflict_published": _l("Session %(session)s is published: too late to declare a conflict."),
    "conflict_no_key": _l(
        "Session %(session)s has no key yet, so a declaration cannot be sealed: the office "
        "makes the key on the session page first. Choose another session, or declare again "
        "once it is made."
    ),
    "conflict_not_recused": _l("Only examiners and leads declare their own conflicts."),
    "conflict_id_empty": _l("Type the candidate's ID number."),
    "conflict_id_checksum": _l(
        "%(id)s is not a resident identity card number (18 characters, the last its check "
        "digit): check it, or say it is another document's number"
    ),
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
    "scheme_withdrawal_reason": _l("Give the reason for withdrawing the approval, for the record."),
    "scheme_withdrawal_reason_long": _l(
        "The reason has %(length)s characters; at most %(max)s: shorten it."
    ),
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
    # Violations and interview records (marking/intake/, marking/publication/records_check.py).
    "panel_not_examiner": _l("%(member)s is not an examiner account"),
    "panel_disabled": _l("%(member)s's account is disabled"),
    "panel_not_senior": _l(
        "%(member)s is not a senior examiner: interview panels are senior examiners (R7)"
    ),
    "panel_not_qualified": _l("%(member)s may not sit on this interview panel: %(problem)s"),
    "no_interview": _l(
        "Session %(session)s is level %(level)s: interviews belong to levels 1-2 (R7)."
    ),
    "collective_taken": _l(
        "Collective %(collective)s is already recorded in session %(session)s: give the new "
        "decision an id of its own, or withdraw the earlier record first."
    ),
    "no_collective": _l("Session %(session)s has no collective decision %(collective)s."),
    "not_centre": _l(
        "Approving a collective violation decision needs an active account of the guidance "
        "centre; %(user)s is not one."
    ),
    "collective_approved": _l(
        "Collective decision %(collective)s of session %(session)s is already approved."
    ),
    "form_refused": _l("Refused; nothing was stored"),
    "field_empty": _l("Empty."),
    "field_too_long": _l("Longer than %(n)s characters."),
    "no_component": _l("No component %(component)s in this session."),
    "bad_action": _l("Must be one of %(actions)s."),
    "violation_reason": _l("Empty: a violation needs its reason."),
    "collective_names_candidate": _l(
        "A collective decision's id is shown before publication: it must not contain a "
        "candidate's exam number."
    ),
    "collective_needed": _l(
        "One decision on several candidates is a collective decision: give it an id (the guidance "
        "centre approves it)."
    ),
    "decided_by_needed": _l("Say who decided (the examiner or lead examiner)."),
    "score_refused": _l("A score from 0 to 100 (%(why)s)."),
    "withdrawal_reason_needed": _l("A withdrawal needs a reason."),
    "no_record": _l("Session %(session)s has no violation or interview record %(record)s."),
    "record_withdrawn": _l("Record %(record)s was already withdrawn."),
    "records_refused": _l(
        "Publication refused: the violation and interview records need attention"
    ),
    "unknown_in_violations": _l(
        "Violations record %(record)s, row %(row)s: exam number %(exam_no)s is in no batch; "
        "withdraw record %(record)s (the session's records) and enter it again"
    ),
    "unknown_in_interview": _l(
        "Interview record %(record)s, row %(row)s: exam number %(exam_no)s is in no batch; "
        "withdraw record %(record)s (the session's records) and enter it again"
    ),
    "unknown_in_absences": _l(
        "Interview absence record %(record)s, row %(row)s: exam number %(exam_no)s is in no "
        "batch; withdraw record %(record)s (the session's records) and enter it again"
    ),
    "panel_member_refused": _l(
        "Interview record %(record)s, candidate %(exam_no)s: %(problem)s; withdraw record "
        "%(record)s and have a member who may sit score the candidate"
    ),
    "panel_conflict": _l(
        "Interview record %(record)s: panel member %(member)s declared a conflict (%(relation)s) "
        "with candidate %(exam_no)s (R10); withdraw record %(record)s and have another member "
        "score the candidate"
    ),
    "panel_twice": _l(
        "Panel member %(member)s scored candidate %(exam_no)s twice (records %(first)s and "
        "%(record)s); withdraw one of them"
    ),
    "interview_both": _l(
        "Recorded absent from the interview yet scored by the panel: %(exam_nos)s; withdraw the "
        "absence or the scores"
    ),
    "interview_missing": _l(
        "%(n)s candidate(s) have no interview panel scores (R7): %(exam_nos)s; enter their "
        "panel's scores, or record them absent from the interview"
    ),
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
    # `blindmark simulate`'s simulated examiners (marking/demo/behaviour.py, simulate.py)
    "simulate_bad_bias": _l(
        "--bias %(value)s: write USER=OFFSET, the offset a number of marks (for example "
        "exam01=-2 or exam01=1.5)."
    ),
    "simulate_bad_drift": _l(
        "--drift %(value)s: write USER=AFTER:OFFSET, AFTER a whole number of marks and OFFSET "
        "a number of marks (for example exam01=30:-3)."
    ),
    "simulate_bad_erratic": _l(
        "--erratic %(value)s: write the examiner's username (for example exam01)."
    ),
    "simulate_named_twice": _l(
        "%(user)s is named more than once in --bias, --erratic and --drift: give each "
        "simulated examiner one behaviour."
    ),
    "simulate_unknown_examiner": _l(
        "%(user)s is not an examiner of session %(session)s (its examiners: %(known)s)."
    ),
    # What still stands between a session and publication (publication/preconditions.py)
    "open_anomaly": _l("Group %(group)s: %(count)s response(s) are on hold for an anomaly."),
    "open_anomaly_reports": _l("%(count)s anomaly report(s) are not resolved."),
    "open_arbitration": _l("Group %(group)s: %(count)s response(s) await the lead's arbitration."),
    "open_collectives": _l(
        "%(count)s collective violation decision(s) wait for the guidance centre's approval "
        "(R13): %(which)s"
    ),
    "open_held": _l("%(count)s response(s) are still held by examiners."),
    "open_marks": _l("Group %(group)s: %(count)s response(s) still need marks."),
    "open_no_batch": _l("No intake batch yet."),
    "open_no_deputy": _l(
        "%(count)s response(s) wait for a ruling the lead is excluded from and no deputy lead "
        "may give: the office names a deputy lead on the page of session %(session)s."
    ),
    "open_scheme": _l("Marking scheme not approved for group(s): %(groups)s"),
    # The lead's quality control (DESIGN §13, marking/quality)
    "quality_not_the_lead": _l(
        "Only the lead examiner of session %(session)s decides on quality control; %(user)s is not."
    ),
    "quality_not_marking": _l(
        "Session %(session)s is %(state)s: quality control is done while it is marked."
    ),
    "quality_no_group": _l("Session %(session)s has no such marking group."),
    "quality_not_assigned": _l("%(user)s is not an examiner of group %(group)s."),
    "check_item_purpose": _l("The lead adds qualification items and seeds only."),
    "check_item_no_response": _l("No response to choose there in session %(session)s."),
    "check_item_exists": _l(
        "That response is already an item of this kind (retired ones stay on record)."
    ),
    "check_item_unknown": _l("No such item in session %(session)s."),
    "check_item_retired": _l("That item is retired already."),
    "qualification_none": _l("Group %(group)s asks for no qualification set (session.toml)."),
    "qualification_retire_short": _l(
        "The qualification set of group %(group)s is in use and needs %(size)s items: add "
        "another before retiring this one."
    ),
    "already_qualified": _l("%(user)s is qualified on group %(group)s already."),
    "suspend_self": _l(
        "The lead examiner does not suspend themselves: the office records it in the "
        "register (第八条), and names another lead."
    ),
    "group_already_suspended": _l("%(user)s is already suspended on group %(group)s."),
    "group_not_suspended": _l(
        "%(user)s is not suspended on group %(group)s: nothing to reinstate."
    ),
    "alarm_unknown": _l("No such alarm in session %(session)s."),
    "alarm_closed": _l("That alarm is closed already."),
    "revision_short_of_examiners": _l(
        "Group %(group)s: %(count)s answer(s) have no examiner left who has not marked them: "
        "assign more examiners to the group (or the lead, as an examiner)."
    ),
}


def coded_text(item: dict[str, object]) -> str:
    """A coded item (``{"code", "params"}``, as an action returns it) in the reader's language."""
    text = TEXT.get(str(item["code"]))
    params = item.get("params") or {}
    assert isinstance(params, dict)
    return str(text) % params if text is not None else str(item.get("code"))


# Refusals the core raises without a code yet, known by their English (to be coded where
# they are raised; until then a screen still words them).
UNCODED = Patterns(
    (
        (
            r"(?P<user>\S+) has no open marking group in session (?P<session>\S+) "
            r"\(not assigned, suspended, or the scheme is not approved yet\)",
            _l(
                "%(user)s has no open marking group in session %(session)s: not assigned to "
                "one, suspended, or its scheme is not approved yet."
            ),
        ),
    )
)


def word(exc: MarkingError) -> str | None:
    """``exc`` in the reader's language, or None when it carries no known code."""
    if (
        exc.code is None
        and not isinstance(exc, Refusals)
        and (uncoded := UNCODED.words(str(exc))) is not None
    ):
        return uncoded
    if isinstance(exc, Refusals):
        lines = [word(r) or str(r) for r in exc.refusals]
        head = TEXT.get(exc.code or "")
        first = str(head) % dict(exc.params) if head is not None else exc.head
        return first + "：" + "；".join(lines) if lines else first
    if exc.code is None or exc.code not in TEXT:
        return None
    # A parameter that is itself a coded refusal (why a panel member may not sit) is worded too,
    # and a session's state by its name, not its key ("reconciled").
    params = {
        k: (word(v) or str(v))
        if isinstance(v, MarkingError)
        else STATE_NAMES.get(v, v)
        if k == "state" and isinstance(v, str)
        else v
        for k, v in exc.params.items()
    }
    return str(TEXT[exc.code]) % params
