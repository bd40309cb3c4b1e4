"""The marking records of a session as plain tables for its archive: every mark, withdrawal,
ruling, anomaly and key correction, whole rows, one CSV per table.

A table is one line of ``RECORD_TABLES``: its model and how its rows reach the session.
Every column is written (account ids followed by the account's username), so a record kept
in the database is kept in the archive without a list of its fields to maintain here.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, Select, select
from sqlalchemy.orm import Session

from marking.store.models import (
    Account,
    Anomaly,
    Arbitration,
    Component,
    ExamSession,
    KeyCorrection,
    Mark,
    MarkCorrection,
    MarkingGroup,
    MarkWithdrawal,
    Question,
    Response,
    RevisedResponse,
    Revision,
    RulingWithdrawal,
    Script,
)

Reach = Callable[[ExamSession], ColumnElement[bool]]


def _responses_of(exam: ExamSession) -> Select[Any]:
    return (
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id)
    )


def via_response(column: Any) -> Reach:
    """Rows whose ``column`` names a response of the session."""
    return lambda exam: column.in_(_responses_of(exam))


def via_mark(column: Any) -> Reach:
    """Rows whose ``column`` names a mark on a response of the session."""
    return lambda exam: column.in_(select(Mark.id).where(Mark.response_id.in_(_responses_of(exam))))


def via_question(column: Any) -> Reach:
    """Rows whose ``column`` names a question of the session."""
    return lambda exam: column.in_(
        select(Question.id)
        .join(Component, Component.id == Question.component_id)
        .where(Component.session_id == exam.id)
    )


def _rulings_of(exam: ExamSession) -> ColumnElement[bool]:
    arbitrations = select(Arbitration.id).where(Arbitration.response_id.in_(_responses_of(exam)))
    anomalies = select(Anomaly.id).where(Anomaly.session_id == exam.id)
    return RulingWithdrawal.arbitration_id.in_(arbitrations) | RulingWithdrawal.anomaly_id.in_(
        anomalies
    )


@dataclass(frozen=True)
class RecordTable:
    name: str  # the file: records/<name>.csv
    model: Any
    reach: Reach


#: The session's marking records. A new kind of record is one more line here. The archive
#: check reads them all (``marking.audit.bundle_finals``): corrections for the value of a
#: mark in force, the revisions and their revised responses for the finals each earlier
#: revision published (archives made before them lack those files: read as none).
RECORD_TABLES: tuple[RecordTable, ...] = (
    RecordTable("mark", Mark, via_response(Mark.response_id)),
    RecordTable("mark_withdrawal", MarkWithdrawal, via_mark(MarkWithdrawal.mark_id)),
    RecordTable("mark_correction", MarkCorrection, via_mark(MarkCorrection.mark_id)),
    RecordTable("arbitration", Arbitration, via_response(Arbitration.response_id)),
    RecordTable("anomaly", Anomaly, lambda exam: Anomaly.session_id == exam.id),
    RecordTable("ruling_withdrawal", RulingWithdrawal, _rulings_of),
    RecordTable("key_correction", KeyCorrection, via_question(KeyCorrection.question_id)),
    RecordTable("revision", Revision, lambda exam: Revision.session_id == exam.id),
    RecordTable("revised_response", RevisedResponse, via_response(RevisedResponse.response_id)),
)

_ACCOUNT_TABLES = ("account", "examiner")


def cell(value: object) -> str:
    """A stored value as text: exact decimals, UTC times to the microsecond, enums by value."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def usernames(db: Session) -> dict[int, str]:
    """Every account's username by id (a few hundred accounts at most)."""
    return {aid: name for aid, name in db.execute(select(Account.id, Account.username))}


def record_rows(
    db: Session, exam: ExamSession, table: RecordTable, names: dict[int, str]
) -> tuple[list[str], Iterator[list[str]]]:
    """A record table's header and rows (by id), every column but binary ones; a column
    naming an account is followed by ``<column>_username``."""
    columns = [c for c in table.model.__table__.columns if not isinstance(c.type, LargeBinary)]
    header: list[str] = []
    for c in columns:
        header.append(c.name)
        if _names_account(c):
            header.append(f"{c.name}_username")
    statement = (
        select(*columns).where(table.reach(exam)).order_by(*table.model.__table__.primary_key)
    )

    def rows() -> Iterator[list[str]]:
        for row in db.execute(statement.execution_options(yield_per=5000)):
            out: list[str] = []
            for c, value in zip(columns, row, strict=True):
                out.append(cell(value))
                if _names_account(c):
                    out.append("" if value is None else names.get(value, ""))
            yield out

    return header, rows()


def _names_account(column: Any) -> bool:
    return any(fk.column.table.name in _ACCOUNT_TABLES for fk in column.foreign_keys)


RESPONSE_COLUMNS = (
    "response_id",
    "script_code",
    "component",
    "question",
    "group",
    "marks_required",
    "key_score",
    "final_rule",
)


def response_rows(db: Session, exam: ExamSession) -> Iterator[list[str]]:
    """Each response: its script, question and group, its score from the key (objective
    questions) and the rule its final came by; the finals themselves are in finals.csv."""
    statement = (
        select(
            Response.id,
            Script.code,
            Component.key,
            Question.number,
            MarkingGroup.key,
            MarkingGroup.marks_required,
            Response.key_score,
            Response.final_rule,
        )
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .outerjoin(MarkingGroup, MarkingGroup.id == Response.group_id)
        .where(Script.session_id == exam.id)
        .order_by(Response.id)
        .execution_options(yield_per=5000)
    )
    for row in db.execute(statement):
        yield [cell(v) for v in row]
