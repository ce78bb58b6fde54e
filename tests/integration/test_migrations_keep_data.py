"""Upgrading a database that holds pings keeps them: a SQLite batch migration of
``checks`` (0009 copies the table and drops the old one) must not cascade-delete the
pings, flips and channel assignments that reference it."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import Engine, text
from srvpulse.adapters.sql.db import alembic_config, make_engine, migrate

from tests.integration.test_email_verification import fresh_url

__all__ = ["fresh_url"]  # the fixture: an empty database of each kind

AT = datetime(2026, 1, 2, 3, 4, 5)


def _a_check_with_a_ping(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO projects (uuid, name, ping_key, created) VALUES ('p', 'p', 'k', :at)"
            ),
            {"at": AT},
        )
        conn.execute(
            text(
                "INSERT INTO checks (uuid, project_id, name, tags, `desc`, kind, timeout,"
                " grace, schedule, tz, manual_resume, methods, recovery_threshold, status,"
                " n_pings, consecutive_failures, consecutive_successes, version, created)"
                " VALUES ('c', 1, 'c', '', '', 'simple', 60, 60, '* * * * *', 'UTC', 0, '', 1,"
                " 'up', 1, 0, 0, 0, :at)"
            ),
            {"at": AT},
        )
        conn.execute(
            text(
                "INSERT INTO pings (ping_id, check_id, n, created, kind, method, scheme,"
                " remote_addr, ua, body_truncated) VALUES ('g', 1, 1, :at, 'success', 'GET',"
                " 'http', '127.0.0.1', 'curl', 0)"
            ),
            {"at": AT},
        )


def _pings(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM pings")).scalar_one())


def test_upgrading_through_0009_keeps_the_pings_of_existing_checks(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0010")
    engine = make_engine(fresh_url)
    try:
        _a_check_with_a_ping(engine)
        migrate(engine)  # what the local mode runs at start
        assert _pings(engine) == 1
        if engine.dialect.name == "sqlite":  # and foreign keys are enforced again after it
            with engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        command.downgrade(cfg, "0010")  # and the alembic command line
        command.upgrade(cfg, "head")
        assert _pings(engine) == 1
    finally:
        engine.dispose()
