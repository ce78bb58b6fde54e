"""The plain-tuple writes of adapters/sql/bulk.py store exactly what SQLAlchemy's own
``execute()`` stores (both backends): SQLite keeps datetimes as text, so a timestamp in
another format (no ``.000000`` for whole seconds) would compare and sort wrongly against
the others (the runs history lost its paging that way)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import StatementError
from srvpulse.adapters.sql.bulk import insert_rows
from srvpulse.adapters.sql.tables import ping_receipts, series_points

WHOLE_SECOND = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FRACTION = datetime(2026, 3, 2, 12, 0, 1, 250_000, tzinfo=UTC)


def _stored(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(sql)]


def test_rows_written_in_bulk_are_stored_as_execute_stores_them(engine: Engine) -> None:
    with engine.begin() as conn:
        for at in (WHOLE_SECOND, FRACTION):
            conn.execute(insert(ping_receipts).values(ping_id=f"core-{at.second}", received_at=at))
        insert_rows(
            conn,
            ping_receipts,
            ("ping_id", "received_at"),
            [(f"bulk-{at.second}", at) for at in (WHOLE_SECOND, FRACTION)],
        )
    rows = _stored(engine, "SELECT ping_id, received_at FROM ping_receipts ORDER BY ping_id")
    by_id = {str(i): at for i, at in rows}
    assert by_id["bulk-0"] == by_id["core-0"]
    assert by_id["bulk-1"] == by_id["core-1"]


def test_an_upsert_in_bulk_replaces_the_row_execute_wrote(engine: Engine) -> None:
    columns = (
        *("check_uuid", "at", "kind", "exit_status", "duration_ms", "rid", "summary"),
        *("report_bytes", "remote_addr"),
    )
    with engine.begin() as conn:
        conn.execute(
            insert(series_points).values(
                check_uuid="c", at=WHOLE_SECOND, kind="start", report_bytes=0, remote_addr=""
            )
        )
        insert_rows(
            conn,
            series_points,
            columns,
            [("c", WHOLE_SECOND, "success", 0, 1500, None, "ok", 2, "192.0.2.1")],
            update=columns[2:],
        )
    assert _stored(engine, "SELECT kind, duration_ms, summary FROM series_points") == [
        ("success", 1500, "ok")
    ]


def test_timestamps_of_every_shape_are_stored_as_execute_stores_them(engine: Engine) -> None:
    # SQLite binds them through a faster function than SQLAlchemy's: the same text.
    shapes = [
        WHOLE_SECOND,
        FRACTION,
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, 0, 7, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        datetime(2026, 10, 25, 2, 30, tzinfo=ZoneInfo("Europe/Riga")),
        datetime(1000, 1, 1, tzinfo=UTC),
    ]
    with engine.begin() as conn:
        for i, at in enumerate(shapes):
            conn.execute(insert(ping_receipts).values(ping_id=f"core-{i}", received_at=at))
        insert_rows(
            conn,
            ping_receipts,
            ("ping_id", "received_at"),
            [(f"bulk-{i}", at) for i, at in enumerate(shapes)],
        )
    raw = "SELECT ping_id, CAST(received_at AS CHAR) FROM ping_receipts"
    texts = {str(i): text for i, text in _stored(engine, raw)}
    for i in range(len(shapes)):
        assert texts[f"bulk-{i}"] == texts[f"core-{i}"]
    with engine.connect() as conn:
        q = select(ping_receipts.c.ping_id, ping_receipts.c.received_at)
        read = {str(i): at for i, at in conn.execute(q)}
    assert [read[f"bulk-{i}"] for i in range(len(shapes))] == shapes


def test_a_naive_timestamp_is_refused_in_bulk_too(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), engine.begin() as conn:
        conn.execute(insert(ping_receipts).values(ping_id="core", received_at=datetime(2026, 3, 2)))
    with pytest.raises(ValueError, match="naive datetime"), engine.begin() as conn:
        insert_rows(conn, ping_receipts, ("ping_id", "received_at"), [("b", datetime(2026, 3, 2))])
