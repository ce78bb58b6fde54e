"""Datetimes go in and come back as they were (both backends): ``UTCDateTime`` stores
naive UTC and returns aware UTC (``tzinfo is UTC``, which the domain's fast paths test),
and on MySQL pymysql's DATETIME values are read by ``db._pymysql_conversions``, which
must give what pymysql's own ``convert_datetime`` gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pymysql.converters import convert_datetime
from sqlalchemy import Engine, insert, select
from srvpulse.adapters.sql.db import _pymysql_conversions
from srvpulse.adapters.sql.tables import ping_receipts

VALUES = [
    datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
    datetime(2026, 3, 2, 12, 0, 1, 250_000, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(999, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    # Another offset: stored as the same instant in UTC.
    datetime(2026, 6, 1, 2, 30, 0, 1, tzinfo=timezone(timedelta(hours=-7))),
]


def test_datetimes_come_back_as_the_same_instants_in_utc(engine: Engine) -> None:
    with engine.begin() as conn:
        for i, at in enumerate(VALUES):
            conn.execute(insert(ping_receipts).values(ping_id=f"r{i}", received_at=at))
    with engine.connect() as conn:
        rows = conn.execute(
            select(ping_receipts.c.ping_id, ping_receipts.c.received_at).order_by(
                ping_receipts.c.ping_id
            )
        ).all()
    assert [r.received_at for r in rows] == VALUES
    assert all(r.received_at.tzinfo is UTC for r in rows)
    # Stored naive UTC: the raw driver value is the instant's UTC wall clock.
    with engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT received_at FROM ping_receipts WHERE ping_id = 'r4'")
        stored = raw.scalar()
        if engine.dialect.name == "mysql":  # the engine's connections read them so
            from pymysql.constants import FIELD_TYPE

            decoders = conn.connection.dbapi_connection.decoders  # type: ignore[union-attr]
            assert decoders[FIELD_TYPE.DATETIME] is not convert_datetime
    expected = datetime(2026, 6, 1, 9, 30, 0, 1)
    assert stored == (expected if engine.dialect.name == "mysql" else str(expected))


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-02 12:00:00",
        "2026-03-02 12:00:00.000001",
        "2026-03-02 12:00:00.5",
        "2026-03-02 12:00:00.123",
        "0999-01-02 03:04:05.000006",
        "0000-00-00 00:00:00",  # a zero date: pymysql gives it back as text
        "2026-02-31 00:00:00",  # not a date: text too
        "2026-03-02T12:00:00+05:00",  # never sent by the server: pymysql's reading
    ],
)
def test_mysql_datetimes_are_read_as_pymysql_reads_them(text: str) -> None:
    from pymysql.constants import FIELD_TYPE

    read = _pymysql_conversions()[FIELD_TYPE.DATETIME]
    assert read(text) == convert_datetime(text)
    assert type(read(text)) is type(convert_datetime(text))


@pytest.mark.parametrize(
    "stored",
    [
        "2026-03-02 12:00:00.000000",
        "2026-03-02 12:00:00.250000",
        "0999-01-02 03:04:05.000006",
        "2026-03-02 12:00:00",  # what CURRENT_TIMESTAMP writes
        "2026-03-02T12:00:00.5",
        "2026-03-02",
    ],
)
def test_sqlite_datetime_texts_are_read_as_sqlalchemy_reads_them(
    sqlite_engine: Engine, stored: str
) -> None:
    from sqlalchemy import DateTime
    from srvpulse.adapters.sql.types import UTCDateTime

    dialect = sqlite_engine.dialect
    ours = UTCDateTime().result_processor(dialect, None)
    theirs = DateTime().dialect_impl(dialect).result_processor(dialect, None)
    assert theirs is not None
    read = theirs(stored)
    assert read is not None
    expected = read.replace(tzinfo=UTC)
    assert ours(stored) == expected
    assert ours(stored).tzinfo is UTC
    assert ours(None) is None
