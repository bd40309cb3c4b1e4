"""The schema: typed SQLAlchemy models whose constraints carry the invariants too.

Blindness starts here: no table holds a candidate's name, ID number or exam number in
clear. Identities live only inside ``IntakeBatch.identities`` and ``SealedRecord``
(AES-256-GCM, batch key sealed to the session's public key). Scripts carry random
codes and no batch, time or roster position.

The models, module by module: ``accounts`` (accounts, examiners, four-eyes requests),
``sessions`` (a session, its groups, components and questions, assignments, key custody),
``scripts`` (what intake stores: batches, scripts, images, responses, recusal records),
``marks`` (leases, marks, rulings, anomalies, key corrections), ``paper`` (answer-sheet
serials issued; scan batches, their pages and quarantine, identity in clear only while a
batch is open), ``jobs`` (reports rendered in the background), ``ledger`` (the hash
chains), ``checks`` (quality control: qualification sets, seeds, 回评, alarms,
suspensions), ``publication`` (approvals, the publication, results), ``logins`` (the web
application's own records) and ``columns`` (the column types they share). Importing this
package registers every table on ``Base.metadata`` (Alembic's env.py relies on it);
callers import the models from here.
"""

from marking.store.db import Base
from marking.store.models.accounts import (
    Account,
    AccountChange,
    AccountDecision,
    AccountRequest,
    CardStatus,
    Examiner,
    ExaminerScope,
    ExaminerStatus,
    Grade,
    Misconduct,
    MisconductKind,
    Relation,
    Role,
)
from marking.store.models.checks import (
    AlarmKind,
    CheckAlarm,
    CheckCorrection,
    CheckItem,
    CheckMark,
    CheckPurpose,
    CheckState,
    GroupSuspension,
    MonitoringSnapshot,
    QualificationOverride,
)
from marking.store.models.columns import UTCDateTime, utcnow
from marking.store.models.jobs import ReportRun, RunState
from marking.store.models.ledger import (
    AccountLedgerEntry,
    AccountLedgerTip,
    ChainLink,
    LedgerEntry,
    LedgerLane,
)
from marking.store.models.logins import (
    ApiToken,
    Invitation,
    LoginAttempt,
    LoginThrottle,
    WebLogin,
)
from marking.store.models.marks import (
    Anomaly,
    AnomalyKind,
    AnomalyResolution,
    Arbitration,
    KeyCorrection,
    Lease,
    LeaseState,
    Mark,
    MarkCorrection,
    MarkKind,
    MarkWithdrawal,
    RulingWithdrawal,
    effective_value,
    latest_corrections,
)
from marking.store.models.paper import (
    IssuedSheet,
    QuarantineItem,
    QuarantineKind,
    QuarantineState,
    ScanAnswer,
    ScanBatch,
    ScanBatchState,
    ScanBox,
    ScanFile,
    ScanFileContent,
    ScanFileState,
    ScanPage,
    ScanPageState,
    ScanSheet,
    ScanSheetState,
)
from marking.store.models.publication import (
    Publication,
    PublicationApproval,
    Result,
    RevisedResponse,
    Revision,
)
from marking.store.models.records import CollectiveDecision, RecordWithdrawal
from marking.store.models.scripts import (
    Exclusion,
    Image,
    IntakeBatch,
    PendingConflict,
    Response,
    ResponseState,
    Script,
    SealedKind,
    SealedRecord,
)
from marking.store.models.sessions import (
    Assignment,
    Component,
    Custody,
    CustodyShare,
    ExamSession,
    KeyCustodian,
    MarkingGroup,
    Question,
    SessionState,
    TeamOverride,
    TeamRule,
    new_recusal_key,
)

__all__ = [
    "Account",
    "AccountChange",
    "AccountDecision",
    "AccountLedgerEntry",
    "AccountLedgerTip",
    "AccountRequest",
    "AlarmKind",
    "Anomaly",
    "AnomalyKind",
    "AnomalyResolution",
    "ApiToken",
    "Arbitration",
    "Assignment",
    "CardStatus",
    "ChainLink",
    "CheckAlarm",
    "CheckCorrection",
    "CheckItem",
    "CheckMark",
    "CheckPurpose",
    "CheckState",
    "CollectiveDecision",
    "Component",
    "Custody",
    "CustodyShare",
    "ExamSession",
    "Examiner",
    "ExaminerScope",
    "ExaminerStatus",
    "Exclusion",
    "Grade",
    "GroupSuspension",
    "Image",
    "IntakeBatch",
    "Invitation",
    "IssuedSheet",
    "KeyCorrection",
    "KeyCustodian",
    "Lease",
    "LeaseState",
    "LedgerEntry",
    "LedgerLane",
    "LoginAttempt",
    "LoginThrottle",
    "Mark",
    "MarkCorrection",
    "MarkKind",
    "MarkWithdrawal",
    "MarkingGroup",
    "Misconduct",
    "MisconductKind",
    "MonitoringSnapshot",
    "PendingConflict",
    "Publication",
    "PublicationApproval",
    "QualificationOverride",
    "QuarantineItem",
    "QuarantineKind",
    "QuarantineState",
    "Question",
    "RecordWithdrawal",
    "Relation",
    "ReportRun",
    "Response",
    "ResponseState",
    "Result",
    "RevisedResponse",
    "Revision",
    "Role",
    "RulingWithdrawal",
    "RunState",
    "ScanAnswer",
    "ScanBatch",
    "ScanBatchState",
    "ScanBox",
    "ScanFile",
    "ScanFileContent",
    "ScanFileState",
    "ScanPage",
    "ScanPageState",
    "ScanSheet",
    "ScanSheetState",
    "Script",
    "SealedKind",
    "SealedRecord",
    "SessionState",
    "TeamOverride",
    "TeamRule",
    "UTCDateTime",
    "WebLogin",
    "effective_value",
    "latest_corrections",
    "new_recusal_key",
    "utcnow",
]


def _flush_in_one_order() -> None:
    """Keep each flush's statements in the order they had when the models were one module.

    SQLAlchemy orders a flush's INSERTs and UPDATEs of mappers that no ``relationship()``
    links by ``Mapper._sort_key``, "module.Class"; many of these tables are linked by foreign
    keys alone (a response to its question, a script to its component, a batch to its
    session), so spreading the models over modules would reorder statements (the ledger's
    before intake's, a script before its component). One module name for all keeps the
    order by class name, as before the split. Runs before the mappers are configured.
    """
    for mapper in Base.registry.mappers:
        mapper._sort_key = f"{__name__}.{mapper.class_.__name__}"


_flush_in_one_order()
