"""Column types and defaults the models share: UTC timestamps, enums stored by value."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import DateTime, Enum
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def utcnow() -> dt.datetime:
    """Now, timezone-aware in UTC: the default of every timestamp column."""
    return dt.datetime.now(dt.UTC)


def stored_enum(cls: type[enum.Enum], length: int = 32) -> Enum:
    """The column type of an enum, stored by its values."""
    # Stored by value as VARCHAR + CHECK: portable, readable in a dump, and Alembic-friendly.
    return Enum(
        cls,
        name=cls.__name__.lower(),
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: blindmark stores UTC-aware timestamps only")
        return value.astimezone(dt.UTC)

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
