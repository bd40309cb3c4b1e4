"""What the actions share: exact JSON values, marks as typed, sessions and responses as shown."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any

from flask import url_for
from sqlalchemy.orm import Session

from marking.queue import handles, marks
from marking.read.status import session_status
from marking.store.models import ExamSession


def plain(value: Any) -> Any:
    """Decimals as exact strings, dates as ISO: JSON that loses nothing."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def parse_mark(value: object) -> Decimal:
    """A mark as typed or sent (text, or a JSON number), checked as text by the engine's
    one gate (``rules.parse_mark``); the engine checks it again against the question."""
    return marks.validate_mark(value)


def session_summary(exam: ExamSession) -> dict[str, Any]:
    return {
        "code": exam.code,
        "occupation": exam.occupation,
        "occupation_code": exam.occupation_code,
        "level": exam.level,
        "date": exam.date.isoformat(),
        "station": exam.station,
        "state": exam.state.value,
    }


def progress(db: Session, exam: ExamSession) -> dict[str, Any]:
    """Counts per marking group and what is open: nothing that names a candidate."""
    status = session_status(db, exam)
    data: dict[str, Any] = plain(dataclasses.asdict(status))
    data["has_key"] = exam.public_key is not None
    return data


def addressed(exam: ExamSession, item: Any) -> dict[str, Any]:
    """A response an examiner or the lead looks at, as JSON: addressed by its handle and its
    image by a URL built on the handle; no row id, no image digest (marking/queue/handles.py)."""
    data: dict[str, Any] = plain(dataclasses.asdict(item))
    response_id, check_id = data.pop("response_id"), data.pop("check_id", None)
    # A check (seed, 回评, qualification) is addressed by its own handle, of the same format:
    # the examiner's screen cannot tell it from live work (DESIGN §13).
    handle = (
        handles.response_handle(exam, response_id)
        if check_id is None
        else handles.check_handle(exam, check_id)
    )
    if "id" in data:  # an anomaly report
        data = {"anomaly": handles.anomaly_handle(exam, data.pop("id")), **data}
    data = {"response": handle, **data}
    if "component" in data:  # its name as the office gave it (理论知识), beside its key
        names = {c.key: c.name for c in exam.components}
        data["component_name"] = names.get(data["component"], data["component"])
        # The question as printed (题干), for the heading above the response.
        data["question_text"] = question_text(exam, data["component"], data.get("question"))
    if "group" in data:  # the marking group's name (简答题), for the marking screen
        data["group_name"] = group_name(exam, data["group"])
    data["image_url"] = (
        url_for("api.response_image", code=exam.code, handle=handle)
        if data.pop("image_sha256")
        else None
    )
    return data


def upload_name(filename: str | None, default: str) -> str:
    """An uploaded file's name as its sender gave it, for messages: no folders, no control
    characters, not too long."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable())[:100]
    return name or default


def group_name(exam: ExamSession, key: str) -> str:
    """A marking group's name as the definition gives it (简答题), for messages: a reader
    sees names, not keys; the key itself when the session has no such group."""
    return next((g.name for g in exam.groups if g.key == key), key)


def question_text(exam: ExamSession, component: str, number: object) -> str:
    """The question as printed (题干) of ``component``/``number``; empty when not given."""
    for c in exam.components:
        if c.key == component:
            return next((q.text for q in c.questions if q.number == number), "")
    return ""
