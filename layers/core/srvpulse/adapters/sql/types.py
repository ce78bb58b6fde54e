"""Column types that behave the same on SQLite and MySQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Text, TypeDecorator
from sqlalchemy.dialects import mysql

_combine = datetime.combine


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (microseconds kept on MySQL), returns aware UTC datetimes.

    The tzinfo is attached and dropped with ``datetime.combine(value, value.time()[,
    UTC])``, the same datetime as ``value.replace(tzinfo=...)`` (fold included) for a
    tenth of the cost: ``replace`` parses its eight keyword arguments on every call,
    1.4 us against 0.16, and a 1 000-check analyzer pass converts some 4 000 values.
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        return _combine(value, value.time())  # naive: time() carries no tzinfo

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return _combine(value, value.time(), UTC)


# Reports are up to 100 KB: MySQL's TEXT holds only 64 KB.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql")
