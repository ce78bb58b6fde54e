"""The plain-tuple writes of adapters/sql/bulk.py store exactly what SQLAlchemy's own
``execute()`` stores (both backends): SQLite keeps datetimes as text, so a timestamp in
another format (no ``.000000`` for whole seconds) would compare and sort wrongly against
the others (the runs history lost its paging that way)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import StatementError
from srvpulse.adapters.sql.bulk import _mysql_literal, insert_rows, select_in
from srvpulse.adapters.sql.tables import checks, ping_receipts, pings, projects, series_points

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


# Values a batch sends, with everything that escaping must get right.
TRICKY: list[object] = [
    None,
    True,
    False,
    0,
    -7,
    2**63 - 1,
    1.5,
    "",
    "plain",
    'it\'s "quoted"',
    "back\\slash \\' \\\\",
    "nul \x00 ctrl-z \x1a cr \r lf \n tab \t",
    "100 % sure, %s and %(name)s",
    "caf\u00e9 \u2713 \U0001f600",
    # Long text (a baseline's JSON) is escaped another way: the same characters again.
    '{"runs": [{"d": 1.5, "rid": "a\'b"}], '
    '"note": "back\\slash \\\' nul \x00 \x1a \r\n\t %s caf\u00e9"}' * 3,
    datetime(2026, 3, 2, 12, 0),
    datetime(2026, 3, 2, 12, 0, 0, 1),
    datetime(999, 1, 2, 3, 4, 5, 600_000),
    b"\x00\xffbytes",
]


@pytest.mark.parametrize("sql_mode", ["", "NO_BACKSLASH_ESCAPES"])
def test_mysql_literals_are_what_pymysql_escapes(mysql_engine: Engine, sql_mode: str) -> None:
    with mysql_engine.connect() as conn:
        conn.exec_driver_sql(f"SET SESSION sql_mode = '{sql_mode}'")
        raw: Any = conn.connection.dbapi_connection
        literal = _mysql_literal(conn)
        assert [literal(v) for v in TRICKY] == [raw.escape(v) for v in TRICKY]
        conn.rollback()
        conn.exec_driver_sql("SET SESSION sql_mode = DEFAULT")


@pytest.mark.parametrize("sql_mode", ["", "NO_BACKSLASH_ESCAPES"])
def test_text_of_every_kind_round_trips_through_bulk_writes(engine: Engine, sql_mode: str) -> None:
    texts = [v for v in TRICKY if isinstance(v, str)]
    with engine.begin() as conn:
        if sql_mode and engine.dialect.name == "mysql":
            conn.exec_driver_sql(f"SET SESSION sql_mode = '{sql_mode}'")
        insert_rows(
            conn,
            series_points,
            ("check_uuid", "at", "kind", "summary", "report_bytes", "remote_addr"),
            [(f"c{i}", WHOLE_SECOND, "log", t, i, t[:64]) for i, t in enumerate(texts)],
        )
        found = select_in(conn, series_points, ("summary",), "check_uuid", ["c3", "c4"])
        if engine.dialect.name == "mysql":
            conn.exec_driver_sql("SET SESSION sql_mode = DEFAULT")
    assert sorted(s for (s,) in found) == sorted(texts[3:5])
    with engine.connect() as conn:
        rows = conn.execute(select(series_points.c.report_bytes, series_points.c.summary))
        assert sorted(rows) == list(enumerate(texts))


def test_a_long_multi_row_insert_is_cut_into_statements_the_server_takes(
    engine: Engine,
) -> None:
    # 30 reports of 90 000 characters (non-ASCII: 180 000 bytes each): several statements.
    report = "\u00e9" * 90_000
    with engine.begin() as conn:
        project = conn.execute(
            insert(projects).values(uuid="p", name="p", ping_key="k", created=WHOLE_SECOND)
        ).inserted_primary_key
        assert project is not None
        check = conn.execute(
            insert(checks).values(uuid="c", project_id=project[0], name="c", created=WHOLE_SECOND)
        ).inserted_primary_key
        assert check is not None
        columns = ("ping_id", "check_id", "n", "created", "kind", "method", "scheme", "remote_addr")
        row = (WHOLE_SECOND, "log", "GET", "http", "", "", report, False)
        insert_rows(
            conn,
            pings,
            (*columns, "ua", "body", "body_truncated"),
            [(f"p{n:02}", check[0], n, *row) for n in range(30)],
        )
    with engine.connect() as conn:
        rows = list(conn.execute(select(pings.c.n, pings.c.body)))
    assert sorted(n for n, _ in rows) == list(range(30))
    assert {body for _, body in rows} == {report}


def test_the_analyzers_id_list_reads_search_an_index_per_id_on_sqlite(
    sqlite_engine: Engine,
) -> None:
    # bulk.by_ids: on SQLite the list is one JSON parameter (json_each); each read must
    # still look the ids up in an index, never scan the table.
    from srvpulse.adapters.sql import analyzer_store, anomalies_store
    from srvpulse.adapters.sql.bulk import by_ids

    reads = {
        name: getattr(analyzer_store, name)
        for name in (
            "_CHECKS_BY_ID",
            "_NEW_FLIPS",
            "_ASSIGNMENTS",
            "_CHANNEL_KINDS",
            "_WINDOWS",
            "_LATEST_PINGS",
            "_FLIPS_MADE",
            "_EVENTS_OF_FLIPS",
            "_EVENT_IDS",
        )
    }
    reads["unprocessed anomalies"] = anomalies_store._UNPROCESSED
    values = {"ids": [1, 2, 3], "projects": [1], "now": WHOLE_SECOND}
    with sqlite_engine.connect() as conn:
        for name, statement in reads.items():
            compiled = (
                by_ids(conn, statement)
                .params(values)
                .compile(conn, compile_kwargs={"literal_binds": True})
            )
            assert "json_each" in str(compiled), name
            plan = [r[3] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")]
            scans = [step for step in plan if step.startswith("SCAN") and "VIRTUAL" not in step]
            assert not scans, (name, plan)
