"""Migration 0008 (pattern detection) on SQLite and MariaDB: existing checks get
detection on at normal sensitivity, existing alert events survive, and it goes down and
up again."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import Engine, inspect, text
from srvpulse.adapters.sql.db import alembic_config, make_engine

from tests.integration.test_email_verification import fresh_url

__all__ = ["fresh_url"]  # the fixture: an empty database of each kind

AT = datetime(2026, 1, 2, 3, 4, 5)


def test_0008_turns_detection_on_for_existing_checks_and_downgrades_cleanly(
    fresh_url: str,
) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0007")
    engine: Engine = make_engine(fresh_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO projects (uuid, name, ping_key, created)"
                    " VALUES ('p', 'p', 'k', :at)"
                ),
                {"at": AT},
            )
            conn.execute(
                text(
                    "INSERT INTO checks (uuid, project_id, name, tags, `desc`, kind, timeout,"
                    " grace, schedule, tz, manual_resume, methods, recovery_threshold, status,"
                    " n_pings, consecutive_failures, consecutive_successes, version, created)"
                    " VALUES ('c', 1, 'c', '', '', 'simple', 60, 60, '* * * * *', 'UTC', 0, '', 1,"
                    " 'up', 0, 0, 0, 0, :at)"
                ),
                {"at": AT},
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            row = conn.execute(text("SELECT detection, sensitivity, baseline FROM checks")).one()
        assert (bool(row.detection), row.sensitivity, row.baseline) == (True, "normal", None)
        columns = {c["name"]: c for c in inspect(engine).get_columns("alert_events")}
        assert columns["flip_id"]["nullable"] and "anomaly_id" in columns
        command.downgrade(cfg, "0007")
        assert "anomalies" not in inspect(engine).get_table_names()
        command.upgrade(cfg, "head")
        assert "anomalies" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
