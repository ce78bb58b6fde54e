"""Engines and migrations for the SQL store (SQLite locally, MySQL in production)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

MIGRATIONS = Path(__file__).parent / "migrations"
# SQLite: checkpoint the write-ahead log from this many pages on (see make_engine).
WAL_AUTOCHECKPOINT_PAGES = 10_000


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine with the settings each backend needs.

    SQLite: WAL, foreign keys, a busy timeout (the local mode has several threads), a
    64 MB page cache, a checkpoint from 10 000 pages of log on (not 1 000).
    MySQL: utf8mb4, READ COMMITTED (no gap locks on the analyzer's conditional updates),
    pre-ping so a Lambda container thawed after hours reconnects, and pymysql's own
    conversions except a faster reading of DATETIME values (``_pymysql_conversions``).
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # FULL: a commit is on disk before it returns. The local queue's consumer
            # deletes a batch once ingest has committed it, and that delete becomes
            # durable with the edge's next fsync of the queue file; with NORMAL a
            # power cut could keep the delete and lose the commit (an acknowledged
            # ping gone). One fsync per commit (about 0.1 ms here, per batch of 500
            # pings at ingest).
            cur.execute("PRAGMA synchronous=FULL")
            # Up to 64 MB of pages kept per connection (SQLite's default: 2 MB). An
            # ingest batch reads and rewrites a few thousand pages (checks, each check's
            # pings, the receipts and series keys): with 2 MB most were read again from
            # the file on every batch (pread, 7 % of a batch) and dirty ones spilled
            # before the commit. Pages stay cached between transactions while no other
            # connection writes. Memory is taken as pages are used.
            cur.execute("PRAGMA cache_size=-65536")
            # The write-ahead log is copied back into the database (a checkpoint, in
            # the commit that takes it past the limit) from 10 000 pages (40 MB) on,
            # not SQLite's 1 000: an ingest batch of 500 pings writes about 1 000 pages,
            # so with the default nearly every batch's commit also copied its pages
            # back and fsynced the database file. A page rewritten by many batches
            # (the checks table's, the newest pings') is copied once per checkpoint.
            # Measured (bench/ingest_throughput.py's batches, two runs side by side on
            # the two CPUs): 1.17-1.18x the pings/s, 0.89-0.92x the CPU per ping.
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cur.close()

        return engine
    if url.startswith("mysql") and "charset=" not in url:
        url += ("&" if "?" in url else "?") + "charset=utf8mb4"
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_recycle", 3600)
    if url.startswith("mysql+pymysql"):
        kwargs["connect_args"] = {"conv": _pymysql_conversions(), **kwargs.get("connect_args", {})}
    return create_engine(url, isolation_level="READ COMMITTED", **kwargs)


def _pymysql_conversions() -> dict[Any, Any]:
    """pymysql's conversions (``pymysql.converters.conversions``), DATETIME and TIMESTAMP
    values read by ``datetime.fromisoformat`` (C) instead of pymysql's regular expression
    and seven ``int()`` calls (3.7 us a value against 0.3; an analyzer pass reads some
    4 000). The server sends ``YYYY-MM-DD HH:MM:SS[.ffffff]``, which both read as the
    same naive datetime; anything else (a zero date, which pymysql returns as text) goes
    to pymysql's own ``convert_datetime``. tests/integration/test_sql_types.py compares."""
    from pymysql.constants import FIELD_TYPE
    from pymysql.converters import conversions, convert_datetime

    def read_datetime(text: str) -> Any:
        try:
            value = _fromisoformat(text)
        except ValueError:
            return convert_datetime(text)
        return value if value.tzinfo is None else convert_datetime(text)

    conv = dict(conversions)
    conv[FIELD_TYPE.DATETIME] = conv[FIELD_TYPE.TIMESTAMP] = read_datetime
    return conv


_fromisoformat = datetime.fromisoformat


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.connect() as conn, foreign_keys_off(conn):
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


@contextmanager
def foreign_keys_off(conn: Connection) -> Iterator[None]:
    """SQLite enforces no foreign keys while migrations run, and again after them.

    Alembic's batch mode alters a SQLite table by copying it to a new one and dropping
    the old: with foreign keys on, that DROP deletes every row referencing it through ON
    DELETE CASCADE (a migration of ``checks`` emptied pings, flips and channel
    assignments). The pragma is a no-op inside a transaction, so it is switched outside
    one, on this connection only."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
    try:
        yield
    finally:
        if sqlite:
            conn.rollback()
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()
