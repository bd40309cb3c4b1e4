"""The OpenAPI 3.1 document of /api/v1, written out operation by operation.

It is written by hand on purpose (not generated from the routes): a test compares it with
the application's routes both ways, and schemathesis checks the answers against it.
"""

from __future__ import annotations

from typing import Any

ERROR = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string"},
        "detail": {"type": "string"},
        # The engine's name for what happened, when it has one (lease_expired, hold_limit…).
        "code": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "file": {"type": "string"},
                    "row": {"type": ["integer", "string", "null"]},
                    "column": {"type": ["string", "null"]},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}
DECIMAL = {"type": "string", "pattern": r"^\d+(\.\d+)?$"}
# An opaque handle of a response or an anomaly report (marking/queue/handles.py): 26 characters of
# Crockford's base32, unrelated to any row id; one of another session does not exist here.
HANDLE = {"type": "string", "pattern": r"^[0-9A-HJKMNP-TV-Z]{26}$"}
SESSION: dict[str, Any] = {
    "type": "object",
    "required": ["code", "state"],
    "properties": {
        "code": {"type": "string"},
        "occupation": {"type": "string"},
        "occupation_code": {"type": "string"},
        "level": {"type": "integer"},
        "date": {"type": "string", "format": "date"},
        "station": {"type": "string"},
        "state": {"enum": ["draft", "intake", "marking", "reconciled", "published"]},
    },
}
STRING = {"type": "string"}


def _shown(required: list[str], **extra: Any) -> dict[str, Any]:
    """A response as an examiner or the lead sees it: addressed by its handle, its image by
    URL, the question and its answer; ``extra`` fields for what the screen adds."""
    return {
        "type": "object",
        "required": ["response", "text", "max", "step", *required],
        "properties": {
            "response": HANDLE,
            "script_code": STRING,
            "component": STRING,
            "component_name": STRING,
            "question": STRING,
            "text": STRING,
            "image_url": {"type": ["string", "null"]},
            "blank": {"type": "boolean"},
            "max": DECIMAL,
            "step": DECIMAL,
            **extra,
        },
        "additionalProperties": False,
    }


CLAIMED = _shown(
    ["script_code", "expires_at"],
    question_type=STRING,
    group=STRING,
    group_name=STRING,
    reference=STRING,
    scheme=STRING,
    expires_at={"type": "string", "format": "date-time"},
)
ANOMALY = _shown(
    ["anomaly", "kind", "note", "examiner"],
    anomaly=HANDLE,
    kind=STRING,
    note=STRING,
    examiner=STRING,
    created_at={"type": "string", "format": "date-time"},
    question_type=STRING,
    reference=STRING,
    scheme=STRING,
)
TASK = _shown(["marks", "tolerance"], tolerance=DECIMAL, marks={"type": "array", "items": DECIMAL})
MY_LAST_MARK = {
    "type": ["object", "null"],
    "required": ["response", "script_code", "component", "question", "max", "step", "value"],
    "properties": {
        "response": HANDLE,
        "script_code": STRING,
        "component": STRING,
        "component_name": STRING,
        "question": STRING,
        "max": DECIMAL,
        "step": DECIMAL,
        "value": DECIMAL,
    },
    "additionalProperties": False,
}
RESPONSE_MARKS = {
    "type": "object",
    "required": ["response", "script_code", "component", "question", "state", "marks"],
    "properties": {
        "response": HANDLE,
        "script_code": STRING,
        "component": STRING,
        "component_name": STRING,
        "question": STRING,
        "max": DECIMAL,
        "step": DECIMAL,
        "tolerance": DECIMAL,
        "state": {"enum": ["open", "anomaly", "arbitration", "final"]},
        "final": {"type": ["string", "null"]},
        "rule": {"type": ["string", "null"]},
        "arbitration": {"type": ["string", "null"]},
        "marks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "examiner": STRING,
                    "kind": {"enum": ["double", "third"]},
                    "given": DECIMAL,
                    "value": DECIMAL,
                    "corrections": {"type": "integer"},
                    "withdrawn": {"type": "boolean"},
                },
            },
        },
    },
    "additionalProperties": False,
}
MY_GROUP = {
    "type": "object",
    "required": ["key", "name", "my_marks", "held"],
    "properties": {
        "key": STRING,
        "name": STRING,
        "approved": {"type": "boolean"},
        "suspended": {"type": "boolean"},
        "my_marks": {"type": "integer"},
        "held": {"type": "integer"},
        "qualifying": {"type": "boolean"},
    },
    "additionalProperties": False,
}
QUALIFICATION = {
    "type": "object",
    "required": ["group", "required", "qualified", "attempt", "open", "last_passed"],
    "properties": {
        "group": STRING,
        "required": {"type": "boolean"},
        "qualified": {"type": "boolean"},
        "attempt": {"type": "integer"},
        "open": {"type": "boolean"},
        "last_passed": {"type": ["boolean", "null"]},
        "within": {"type": "integer"},
        "of": {"type": "integer"},
        "review": {"type": "array"},
    },
}
ACCOUNT_FIELDS: dict[str, Any] = {
    "username": {"type": "string"},
    "name": {"type": "string"},
    "role": {"enum": ["admin", "office", "director", "lead", "examiner", "centre"]},
    "active": {"type": "boolean"},
    "created_at": {"type": "string"},
    "via": {"enum": ["cookie", "token"]},
}


def _answer(**properties: Any) -> dict[str, Any]:
    """An action's answer: exactly these fields."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


ACCOUNT = {
    "type": "object",
    "required": ["username", "role", "active"],
    "properties": ACCOUNT_FIELDS,
}
ACCOUNT_REQUEST = {
    "type": "object",
    "required": ["id", "username", "change", "requested_by"],
    "properties": {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "change": {"enum": ["create", "role", "password", "disable"]},
        "role": {"enum": ["office", "director", "lead", "admin", "centre", None]},
        "name": {"type": "string"},
        "requested_by": {"type": "string"},
        "requested_at": {"type": "string"},
        "decision": {"enum": ["approved", "rejected", None]},
        "changed_since": {
            "type": "array",
            "items": {
                "enum": ["password_set", "role_changed", "account_disabled", "account_enabled"]
            },
        },
        "pending": {"type": "boolean"},
    },
}
REQUEST_ID = {"name": "request_id", "in": "path", "required": True, "schema": {"type": "integer"}}
CUSTODIAN = {
    "type": "object",
    "required": ["name", "downloaded"],
    "properties": {"name": {"type": "string"}, "downloaded": {"type": "boolean"}},
    "additionalProperties": False,
}
WAITING_SHARE = {
    "type": "object",
    "required": ["session", "share", "of"],
    "properties": {
        "session": {"type": "string"},
        "share": {"type": "integer"},
        "of": {"type": "integer"},
    },
}
OBJECT = {"type": "object"}
LIST = {"type": "array", "items": {"type": "object"}}


def _json_body(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return {
        "required": bool(required),
        "content": {
            "application/json": {"schema": schema},
            "application/x-www-form-urlencoded": {"schema": schema},
        },
    }


def _multipart(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": properties, "required": required}
            }
        },
    }


FILE = {"type": "string", "format": "binary"}
CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
GROUP = {"name": "group", "in": "path", "required": True, "schema": {"type": "string"}}
BATCH = {"name": "batch_id", "in": "path", "required": True, "schema": {"type": "integer"}}
USERNAME = {"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}
HANDLE_PARAM = {"name": "handle", "in": "path", "required": True, "schema": {"type": "string"}}
# Marks, finals, results and the reports naming candidates, as published in this revision
# (1: the session's publication; 2, 3, ...: appeal revisions, 复核); default the latest.
REVISION = {
    "name": "revision",
    "in": "query",
    "required": False,
    "schema": {"type": "integer", "minimum": 1},
}

# (method, path, summary, roles, path parameters, request body, success status, success schema)
Operation = tuple[str, str, str, str, list[dict[str, Any]], dict[str, Any] | None, int, Any]
RECORD_ID = {"name": "record_id", "in": "path", "required": True, "schema": {"type": "integer"}}
COLLECTIVE_ID = {
    "name": "collective_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer"},
}
_S = {"type": "string"}
# Violations, interview scores and absences (sealed on entry), withdrawals, collectives.
RECORD_OPERATIONS: list[Operation] = [
    (
        "get",
        "/sessions/{code}/records",
        "The session's violation, interview and absence records: counts, each record's "
        "number, kind, size, who and when (never its content), the collective decisions",
        "office",
        [CODE],
        None,
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/violations",
        "Record a violation (R13), sealed on entry; several exam numbers (separated by spaces "
        "or commas) with a `collective` id make one collective decision the guidance centre "
        "approves",
        "office",
        [CODE],
        _json_body(
            {
                "exam_no": _S,
                "component": _S,
                "action": {"enum": ["advice", "warning", "terminated", "void"]},
                "reason": _S,
                "decided_by": _S,
                "collective": _S,
            },
            ["exam_no", "component", "action", "reason", "decided_by"],
        ),
        201,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/interview-scores",
        "The office transcribes a signed interview score sheet, naming the panel member (R7)",
        "office",
        [CODE],
        _json_body({"member": _S, "exam_no": _S, "score": _S}, ["member", "exam_no", "score"]),
        201,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/interview-absences",
        "Record candidates absent from the interview (exam numbers separated by spaces)",
        "office",
        [CODE],
        _json_body({"exam_no": _S, "reason": _S}, ["exam_no"]),
        201,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/records/{record_id}/withdraw",
        "Withdraw a violation, interview or absence record entered wrongly; publication leaves "
        "it out (recorded with the reason)",
        "office",
        [CODE, RECORD_ID],
        _json_body({"reason": _S}, ["reason"]),
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/interview/mine",
        "A panel member (a senior examiner of the occupation) enters their own score, sealed",
        "examiner",
        [CODE],
        _json_body({"exam_no": _S, "score": _S}, ["exam_no", "score"]),
        201,
        OBJECT,
    ),
    (
        "get",
        "/collectives",
        "Collective violation decisions waiting for the guidance centre, across sessions",
        "centre",
        [],
        None,
        200,
        LIST,
    ),
    (
        "post",
        "/sessions/{code}/collectives/{collective_id}/approve",
        "The guidance centre approves a collective violation decision (R13)",
        "centre",
        [CODE, COLLECTIVE_ID],
        _json_body({"note": _S}),
        200,
        OBJECT,
    ),
]

OPERATIONS: list[Operation] = [
    ("get", "/openapi.json", "This document", "anyone", [], None, 200, OBJECT),
    ("get", "/me", "The account making the call", "any", [], None, 200, ACCOUNT),
    ("get", "/tokens", "My API tokens", "any", [], None, 200, LIST),
    (
        "post",
        "/tokens",
        "A new API token for me (its value is shown once)",
        "any",
        [],
        _json_body({"name": {"type": "string", "pattern": r"\S"}}, ["name"]),
        201,
        {"type": "object", "required": ["id", "token"]},
    ),
    (
        "post",
        "/tokens/{token_id}/revoke",
        "Revoke one of my tokens",
        "any",
        [{"name": "token_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        None,
        200,
        OBJECT,
    ),
    (
        "get",
        "/sessions",
        "Sessions I may see",
        "any",
        [],
        None,
        200,
        {"type": "array", "items": SESSION},
    ),
    (
        "post",
        "/sessions",
        "Create a session from its session.toml",
        "office",
        [],
        _json_body({"toml": {"type": "string"}}, ["toml"]),
        201,
        SESSION,
    ),
    (
        "get",
        "/sessions/{code}/progress",
        "Progress per marking group",
        "office, director, lead",
        [CODE],
        None,
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/keys",
        "Make the session's key: for one custodian the answer is the key file, once (its "
        "passphrase must be hard to guess); for several, the usernames of the custodians, "
        "each of whom then downloads their own share (POST /shares/{code}), and the answer "
        "lists them",
        "office",
        [CODE],
        _json_body(
            {
                "custody": {"enum": ["key_file", "shares"]},
                "passphrase": {"type": "string"},
                "custodians": {"type": "array", "items": {"type": "string"}},
                "threshold": {"type": "integer"},
            },
            ["custody"],
        ),
        200,
        None,
    ),
    (
        "get",
        "/sessions/{code}/custodians",
        "Who holds a share of the session's key, by name, and who has downloaded it",
        "office, director",
        [CODE],
        None,
        200,
        {"type": "array", "items": CUSTODIAN},
    ),
    (
        "get",
        "/shares",
        "The key shares waiting for me to download",
        "office, director, lead, admin",
        [],
        None,
        200,
        {"type": "array", "items": WAITING_SHARE},
    ),
    (
        "post",
        "/shares/{code}",
        "My own share of the session's key, as a text file, once: the server then erases it",
        "office, director, lead, admin",
        [CODE],
        None,
        200,
        None,
    ),
    (
        "post",
        "/sessions/{code}/intake",
        "Take in a batch (zip of candidates.csv, responses.csv, images)",
        "office",
        [CODE],
        _multipart({"batch": FILE, "name": {"type": "string"}}, ["batch"]),
        201,
        OBJECT,
    ),
    ("get", "/examiners", "Examiner accounts", "office", [], None, 200, LIST),
    (
        "post",
        "/examiners/import",
        "Import examiners.csv or .xlsx",
        "office",
        [],
        _multipart({"file": FILE}, ["file"]),
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/groups/{group}/assign",
        "Assign examiners to a marking group (and name the lead)",
        "office",
        [CODE, GROUP],
        _json_body(
            {
                "examiners": {"type": "array", "items": {"type": "string"}},
                "lead": {"type": "string"},
            },
            ["examiners"],
        ),
        200,
        OBJECT,
    ),
    (
        "get",
        "/sessions/{code}/batches",
        "The session's intake batches",
        "office",
        [CODE],
        None,
        200,
        LIST,
    ),
    (
        "post",
        "/sessions/{code}/batches/{batch_id}/withdraw",
        "Withdraw an intake batch (recorded, with its reason)",
        "office",
        [CODE, BATCH],
        _json_body({"reason": {"type": "string"}}, ["reason"]),
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/deputy",
        "Name the deputy lead, who rules where the lead is excluded",
        "office",
        [CODE],
        _json_body({"deputy": {"type": "string"}}, ["deputy"]),
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/conflicts",
        "Import recusal declarations (conflicts.csv or .xlsx) of examiners and leads",
        "office",
        [CODE],
        _multipart({"file": FILE}, ["file"]),
        200,
        OBJECT,
    ),
    (
        "get",
        "/me/conflicts",
        "Where and when I declared my own conflicts (sealed: never whom)",
        "examiner, lead",
        [],
        None,
        200,
        {
            "type": "array",
            "items": _answer(
                session=STRING, count={"type": "integer"}, first_at=STRING, last_at=STRING
            ),
        },
    ),
    (
        "post",
        "/me/conflicts",
        "Declare my own conflict with a candidate (回避), sealed on entry: into the session "
        "named, or into every open session with its key",
        "examiner, lead",
        [],
        _json_body(
            {
                "id_number": STRING,
                "relation": {"enum": ["relative", "teacher_student", "master_apprentice", "other"]},
                "session": STRING,
                # true: id_number is a passport's or permit's, not a resident ID card's
                "other_document": {"type": "boolean"},
            },
            ["id_number", "relation"],
        ),
        201,
        _answer(sessions={"type": "array", "items": STRING}),
    ),
    (
        "get",
        "/sessions/{code}/verify",
        "The ledger check: the chains recomputed and the tables checked against them",
        "office, director",
        [CODE],
        None,
        200,
        _answer(
            ok={"type": "boolean"},
            entries={"type": "integer"},
            lanes={"type": "integer"},
            head=STRING,
            problems={"type": "array", "items": STRING},
        ),
    ),
    (
        "post",
        "/sessions/{code}/notices",
        "Queue the score notices of every candidate, or of the exam numbers given (after "
        "publication); unknown exam numbers are refused, named",
        "office",
        [CODE],
        _json_body(
            {"lang": {"enum": ["zh", "en"]}, "exam_nos": {"type": "array", "items": STRING}}
        ),
        202,
        _answer(
            run={"type": "integer"},
            state=STRING,
            exam_nos={"type": ["array", "null"], "items": STRING},
        ),
    ),
    (
        "post",
        "/examiners/{username}/password",
        "Set an examiner's password (examiner accounts only; the others stay with the "
        "admins' four eyes); their logins and tokens end",
        "office",
        [USERNAME],
        _json_body({"password": STRING}, ["password"]),
        200,
        _answer(username=STRING, password_set={"type": "boolean"}),
    ),
    (
        "post",
        "/examiners/{username}/invitation",
        "A one-time invitation link for an examiner to set their own password (shown once; "
        "earlier links are void)",
        "office",
        [USERNAME],
        None,
        201,
        _answer(username=STRING, expires_at=STRING, url=STRING),
    ),
    (
        "get",
        "/sessions/{code}/mine",
        "My groups (my marks and what I hold; nothing from reconciliation, no count of what "
        "is left) and held responses",
        "examiner",
        [CODE],
        None,
        200,
        {
            "type": "object",
            "required": ["code", "groups", "held"],
            "properties": {
                **SESSION["properties"],
                "groups": {"type": "array", "items": MY_GROUP},
                "held": {"type": "array", "items": CLAIMED},
            },
        },
    ),
    (
        "post",
        "/sessions/{code}/claim",
        "Claim a batch of responses under a lease",
        "examiner",
        [CODE],
        _json_body(
            {
                "size": {"type": "integer", "minimum": 1, "maximum": 100},
                "group": {
                    "type": "string",
                    "description": "only this marking group's key (default: any of mine)",
                },
            }
        ),
        200,
        {"type": "array", "items": CLAIMED},
    ),
    (
        "get",
        "/sessions/{code}/groups/{group}/qualification",
        "My standing on a group's qualification set (R5); after a failed attempt, the "
        "definitive marks and the lead's notes",
        "examiner",
        [CODE, GROUP],
        None,
        200,
        QUALIFICATION,
    ),
    (
        "post",
        "/sessions/{code}/groups/{group}/qualification",
        "Take a group's qualification set (a new attempt, or the one open)",
        "examiner",
        [CODE, GROUP],
        None,
        200,
        {"type": "array", "items": CLAIMED},
    ),
    (
        "get",
        "/sessions/{code}/groups/{group}/qualification/held",
        "The items of my open qualification attempt still to mark",
        "examiner",
        [CODE, GROUP],
        None,
        200,
        {"type": "array", "items": CLAIMED},
    ),
    (
        "post",
        "/sessions/{code}/groups/{group}/qualification/held",
        "The items of my open qualification attempt still to mark (starts nothing)",
        "examiner",
        [CODE, GROUP],
        None,
        200,
        {"type": "array", "items": CLAIMED},
    ),
    (
        "get",
        "/sessions/{code}/held",
        "Responses I hold",
        "examiner",
        [CODE],
        None,
        200,
        {"type": "array", "items": CLAIMED},
    ),
    (
        "post",
        "/sessions/{code}/responses/{handle}/mark",
        "Mark a response I hold",
        "examiner",
        [CODE, HANDLE_PARAM],
        _json_body({"value": {"type": ["string", "number"]}}, ["value"]),
        200,
        _answer(response=HANDLE, recorded={"const": True}),
    ),
    (
        "post",
        "/sessions/{code}/responses/{handle}/release",
        "Hand a held response back unmarked",
        "examiner",
        [CODE, HANDLE_PARAM],
        None,
        200,
        _answer(response=HANDLE, released={"const": True}),
    ),
    (
        "post",
        "/sessions/{code}/responses/{handle}/flag",
        "Report a held response to the lead (R4)",
        "examiner",
        [CODE, HANDLE_PARAM],
        _json_body(
            {
                "kind": {
                    "enum": [
                        "blank",
                        "illegible",
                        "identifying_mark",
                        "suspected_copying",
                        "question_error",
                        "key_error",
                        "other",
                    ]
                },
                "note": {"type": "string"},
            },
            ["kind"],
        ),
        200,
        _answer(response=HANDLE, anomaly=HANDLE),
    ),
    (
        "get",
        "/sessions/{code}/my-last-mark",
        "My most recent mark I may still correct (its response not final), or null",
        "examiner",
        [CODE],
        None,
        200,
        MY_LAST_MARK,
    ),
    (
        "post",
        "/sessions/{code}/responses/{handle}/correct",
        "Correct my own mark while its response is not final (R6: a new record with a "
        "reason; the response is reconciled again)",
        "examiner",
        [CODE, HANDLE_PARAM],
        _json_body(
            {"value": {"type": ["string", "number"]}, "reason": {"type": "string"}},
            ["value", "reason"],
        ),
        200,
        _answer(response=HANDLE, corrected={"const": True}, value=DECIMAL),
    ),
    (
        "get",
        "/sessions/{code}/responses/{handle}/image",
        "A response's image (examiner holding it, or the lead)",
        "examiner, lead",
        [CODE, HANDLE_PARAM],
        None,
        200,
        None,
    ),
    (
        "get",
        "/sessions/{code}/scheme",
        "Marking groups with their questions and schemes",
        "lead",
        [CODE],
        None,
        200,
        LIST,
    ),
    (
        "post",
        "/sessions/{code}/groups/{group}/approve",
        "Approve a group's marking scheme (R5)",
        "lead",
        [CODE, GROUP],
        None,
        200,
        OBJECT,
    ),
    (
        "get",
        "/sessions/{code}/anomalies",
        "Open anomaly reports",
        "lead",
        [CODE],
        None,
        200,
        {"type": "array", "items": ANOMALY},
    ),
    (
        "post",
        "/sessions/{code}/anomalies/{handle}/resolve",
        "Resolve an anomaly: requeue, final mark, or after a key correction",
        "lead",
        [CODE, HANDLE_PARAM],
        _json_body(
            {
                "resolution": {"enum": ["requeue", "final", "key_correction"]},
                "note": {"type": "string"},
                "value": {"type": ["string", "number"]},
            },
            ["resolution", "note"],
        ),
        200,
        _answer(anomaly=HANDLE, resolution={"enum": ["requeue", "final", "key_correction"]}),
    ),
    (
        "post",
        "/sessions/{code}/key-corrections",
        "Correct an objective question's key and re-score",
        "lead",
        [CODE],
        _json_body(
            {
                "component": {"type": "string"},
                "question": {"type": "string"},
                "answer": {"type": "string"},
                "reason": {"type": "string"},
            },
            ["component", "question", "answer", "reason"],
        ),
        200,
        OBJECT,
    ),
    (
        "get",
        "/sessions/{code}/arbitrations",
        "Responses awaiting arbitration, with the marks given",
        "lead",
        [CODE],
        None,
        200,
        {"type": "array", "items": TASK},
    ),
    (
        "post",
        "/sessions/{code}/responses/{handle}/arbitrate",
        "The lead's final mark (R14)",
        "lead",
        [CODE, HANDLE_PARAM],
        _json_body({"value": {"type": "string"}, "reason": {"type": "string"}}, ["value"]),
        200,
        _answer(response=HANDLE, final=DECIMAL),
    ),
    (
        "get",
        "/sessions/{code}/response-marks",
        "A response's marks for the lead (or deputy) to correct, named by `handle` or by "
        "`script` and `question` (component/number)",
        "lead",
        [
            CODE,
            {"name": "handle", "in": "query", "required": False, "schema": STRING},
            {"name": "script", "in": "query", "required": False, "schema": STRING},
            {"name": "question", "in": "query", "required": False, "schema": STRING},
        ],
        None,
        200,
        RESPONSE_MARKS,
    ),
    (
        "post",
        "/sessions/{code}/responses/{handle}/corrections",
        "The lead corrects an examiner's mark (`examiner`: whose) or their arbitration "
        "(`examiner`: `arbitration`), with a reason (R6); the final is recomputed",
        "lead",
        [CODE, HANDLE_PARAM],
        _json_body(
            {
                "examiner": {"type": "string"},
                "value": {"type": ["string", "number"]},
                "reason": {"type": "string"},
            },
            ["examiner", "value", "reason"],
        ),
        200,
        _answer(response=HANDLE, state=STRING, final={"type": ["string", "null"]}),
    ),
    (
        "get",
        "/sessions/{code}/publication",
        "Publication checklist or record",
        "office, director",
        [CODE],
        None,
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/publication/approval",
        "A director approves the publication (R16); with `digest` (the `digest` of "
        "GET .../publication as reviewed), only if the session is still what was reviewed",
        "director",
        [CODE],
        _json_body({"note": {"type": "string"}, "digest": {"type": "string"}}),
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/publication/approval/withdraw",
        "The approving director withdraws the approval",
        "director",
        [CODE],
        None,
        200,
        OBJECT,
    ),
    (
        "post",
        "/sessions/{code}/publication",
        "Unlock the key and publish all results of the session",
        "office",
        [CODE],
        _multipart(
            {
                "key_file": FILE,
                "passphrase": {"type": "string"},
                "share": {"type": "array", "items": FILE},
            },
            [],
        ),
        200,
        OBJECT,
    ),
    (
        "get",
        "/sessions/{code}/results",
        "Published results: of the latest published revision, or of ``revision`` (1: the "
        "publication; 2, 3, ...: appeal revisions); the answer names it and lists them all",
        "office, director",
        [CODE, REVISION],
        None,
        200,
        OBJECT,
    ),
    (
        "get",
        "/sessions/{code}/exports/{what}",
        "An export as CSV (UTF-8 with BOM)",
        "office, director",
        [
            CODE,
            {
                "name": "what",
                "in": "path",
                "required": True,
                "schema": {"enum": ["paper", "marks", "finals", "results"]},
            },
            REVISION,
        ],
        None,
        200,
        None,
    ),
    (
        "get",
        "/sessions/{code}/reports/{kind}",
        "A report (DESIGN §8): register, notices and pass list after publication; statistics "
        "at any time (their marking-quality part names examiners, never candidates)",
        "office, director; the session's lead: stats only",
        [
            CODE,
            {
                "name": "kind",
                "in": "path",
                "required": True,
                "schema": {"enum": ["register", "notices", "passlist", "stats"]},
            },
            {
                "name": "format",
                "in": "query",
                "required": False,
                "schema": {"enum": ["pdf", "csv", "xlsx"], "default": "pdf"},
            },
            {
                "name": "lang",
                "in": "query",
                "required": False,
                "schema": {"enum": ["zh", "en"]},
            },
            REVISION,
        ],
        None,
        200,
        None,
    ),
    (
        "get",
        "/accounts",
        "All accounts",
        "admin",
        [],
        None,
        200,
        {"type": "array", "items": ACCOUNT},
    ),
    (
        "post",
        "/accounts",
        "Create an account: a lead account at once (201); a director, office or admin "
        "account is recorded as a request a second admin approves (202)",
        "admin",
        [],
        _json_body(
            {
                "username": {"type": "string"},
                "role": {"enum": ["office", "director", "lead", "admin", "centre"]},
                "name": {"type": "string"},
                "password": {"type": "string"},
            },
            ["username", "role", "password"],
        ),
        201,
        ACCOUNT,
    ),
    (
        "post",
        "/accounts/{username}",
        "Change an account's role, password or state. A director, office or admin role, and a "
        "password for an account holding one, wait for a second admin (listed in pending)",
        "admin",
        [{"name": "username", "in": "path", "required": True, "schema": {"type": "string"}}],
        _json_body(
            {
                "password": {"type": "string"},
                "active": {"type": "boolean"},
                "role": {"enum": ["office", "director", "lead", "admin", "centre"]},
            }
        ),
        200,
        {
            "type": "object",
            "required": ["username", "role", "active", "pending"],
            "properties": {
                **ACCOUNT_FIELDS,
                "pending": {"type": "array", "items": ACCOUNT_REQUEST},
            },
        },
    ),
    (
        "get",
        "/account-requests",
        "Account requests waiting for a second admin",
        "admin",
        [],
        None,
        200,
        {"type": "array", "items": ACCOUNT_REQUEST},
    ),
    (
        "post",
        "/account-requests/{request_id}/approve",
        "A second admin (not the requester, not its subject) carries out a request",
        "admin",
        [REQUEST_ID],
        None,
        200,
        ACCOUNT_REQUEST,
    ),
    (
        "post",
        "/account-requests/{request_id}/reject",
        "A second admin rejects a request; nothing changes",
        "admin",
        [REQUEST_ID],
        None,
        200,
        ACCOUNT_REQUEST,
    ),
]
# Operations with a second way to succeed: (method, path) → status → (description, schema).
MORE_ANSWERS: dict[tuple[str, str], dict[str, tuple[str, Any]]] = {
    ("post", "/accounts"): {
        "202": ("Recorded as a request: a second admin must approve it", ACCOUNT_REQUEST)
    },
}

ERRORS = {
    "400": "Bad request (a CSRF token missing from a cookie-authenticated call)",
    "401": "Not logged in",
    "403": "Not for this role, or not this account's session",
    "404": "No such thing in a session this account may see",
    "409": "Not in this state (lease lost, already approved, work still open)",
    "422": "Refused input: the detail says why (and problems lists a file's bad rows)",
}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, summary, roles, params, body, status, schema in (
        *OPERATIONS,
        *RECORD_OPERATIONS,
    ):
        responses: dict[str, Any] = {
            str(status): {"description": "Done"}
            if schema is None
            else {"description": "Done", "content": {"application/json": {"schema": schema}}}
        }
        for code, (text, more) in MORE_ANSWERS.get((method, path), {}).items():
            responses[code] = {
                "description": text,
                "content": {"application/json": {"schema": more}},
            }
        for code, text in ERRORS.items():
            responses[code] = {
                "description": text,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
        operation: dict[str, Any] = {
            "summary": summary,
            "description": f"For: {roles}.",
            "parameters": params,
            "responses": responses,
        }
        if roles == "anyone":
            operation["security"] = []
        if body is not None:
            operation["requestBody"] = body
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "blindmark API",
            "version": "1",
            "description": "Blind marking and score aggregation. Authenticate with a bearer token "
            "(made on the account page), or with the browser's login cookie plus an "
            "X-CSRFToken header on calls that change something.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {"cookie": []}],
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "blindmark"},
            },
            "schemas": {"Error": ERROR},
        },
        "paths": paths,
    }
