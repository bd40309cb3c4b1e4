"""Everything a screen or an API call can do, once: the pages and the API both call these.

Each function takes the request's database session and the acting account, calls the
engine's services, and returns plain JSON-able values. Nothing here commits: the request
does (web/db.py), and only when the whole action succeeded. A module per role (examiner,
lead, office, keys, publishing, admin, account); the blueprints call them as `actions.NAME`.
"""

from __future__ import annotations

from web.actions.account import revoke_token, tokens
from web.actions.admin import (
    account_dict,
    account_requests_open,
    accounts,
    add_account,
    decide_account_request,
    update_account,
)
from web.actions.common import group_name, progress, session_summary, upload_name
from web.actions.corrections import correct_own, find_response, last_mark, lead_correct, record
from web.actions.examiner import (
    claim,
    examiner_home,
    flag,
    held,
    release,
    response_image,
    submit,
)
from web.actions.keys import (
    custodian_candidates,
    custodian_list,
    keys_init,
    keys_shares,
    take_share,
    waiting_shares,
)
from web.actions.lead import (
    anomalies,
    approve,
    arbitrate,
    arbitrations,
    correct_key,
    resolve,
    scheme,
)
from web.actions.office import (
    assign_group,
    batches,
    conflicts_import,
    deputy,
    examiners,
    examiners_import,
    intake,
    new_session,
    sheet_layout,
    sheets,
    withdraw,
)
from web.actions.publishing import (
    EXPORTS,
    approve_pub,
    export_csv,
    publication,
    publish,
    report,
    results,
    revision_arg,
    withdraw_pub,
)
from web.actions.register import (
    RECORDS,
    examiner_absence,
    examiner_record,
    examiner_register,
    held_by_leads,
    lead_assign,
    team_override,
    team_state,
)

__all__ = [
    "EXPORTS",
    "RECORDS",
    "account_dict",
    "account_requests_open",
    "accounts",
    "add_account",
    "anomalies",
    "approve",
    "approve_pub",
    "arbitrate",
    "arbitrations",
    "assign_group",
    "batches",
    "claim",
    "conflicts_import",
    "correct_key",
    "correct_own",
    "custodian_candidates",
    "custodian_list",
    "decide_account_request",
    "deputy",
    "examiner_absence",
    "examiner_home",
    "examiner_record",
    "examiner_register",
    "examiners",
    "examiners_import",
    "export_csv",
    "find_response",
    "flag",
    "group_name",
    "held",
    "held_by_leads",
    "intake",
    "keys_init",
    "keys_shares",
    "last_mark",
    "lead_assign",
    "lead_correct",
    "new_session",
    "progress",
    "publication",
    "publish",
    "record",
    "release",
    "report",
    "resolve",
    "response_image",
    "results",
    "revision_arg",
    "revoke_token",
    "scheme",
    "session_summary",
    "sheet_layout",
    "sheets",
    "submit",
    "take_share",
    "team_override",
    "team_state",
    "tokens",
    "update_account",
    "upload_name",
    "waiting_shares",
    "withdraw",
    "withdraw_pub",
]
