"""A flush writes tables no relationship links in class-name order, as when the models were one
module (``marking/store/models/__init__.py`` says why)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from marking.store.models import Image, LoginThrottle


def test_a_flush_writes_unrelated_tables_in_class_name_order(db: Session) -> None:
    # Image (models/scripts.py) comes first by class name, LoginThrottle (models/logins.py)
    # by module name: the split of the models must not change which is written first.
    inserted: list[str] = []

    def note(
        conn: Connection, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if statement.startswith("INSERT INTO"):
            inserted.append(statement.split()[2])

    db.add(LoginThrottle(scope="address", key="flush-order", failures=1))
    db.add(Image(sha256="0" * 64, media_type="image/png", size=1, content=b"x"))
    connection = db.connection()
    event.listen(connection, "before_cursor_execute", note)
    try:
        db.flush()
    finally:
        event.remove(connection, "before_cursor_execute", note)
    assert inserted == ["image", "login_throttle"]
