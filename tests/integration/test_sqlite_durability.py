"""The SQLite database ingest writes commits to disk before a commit returns.

The local queue's consumer deletes a batch of pings once ingest has committed it, and
the delete becomes durable with the edge's next fsync of the queue file. If the
database's commit could still be in the page cache at that moment (``synchronous=NORMAL``
in WAL mode), a power cut would keep the delete and lose the pings: acknowledged pings
gone. A power cut cannot be staged here, so this checks the setting that rules it out on
every connection the engine hands out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import StaticPool
from srvpulse.adapters.sql.analyzer_store import SqlAnalyzerStore
from srvpulse.adapters.sql.db import make_engine, migrate

SQLITE_SYNCHRONOUS_FULL = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA


def test_every_sqlite_connection_commits_durably_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'srvpulse.sqlite3'}")
    try:
        with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                synchronous = conn.execute(text("PRAGMA synchronous")).scalar()
                assert synchronous == SQLITE_SYNCHRONOUS_FULL
    finally:
        engine.dispose()


def test_the_outbox_marks_leave_every_connection_durable_again(tmp_path: Path) -> None:
    # mark_published commits its marks without waiting for the disk (a lost mark only
    # re-publishes an event the alerters dedupe); the connection goes back to FULL.
    engine = make_engine(f"sqlite:///{tmp_path / 'srvpulse.sqlite3'}", poolclass=StaticPool)
    try:
        migrate(engine)
        SqlAnalyzerStore(engine).mark_published([1, 2, 3, 7], datetime(2026, 3, 2, tzinfo=UTC))
        with engine.connect() as conn:  # the same, only connection
            assert conn.execute(text("PRAGMA synchronous")).scalar() == SQLITE_SYNCHRONOUS_FULL
    finally:
        engine.dispose()
