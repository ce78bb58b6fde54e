"""Upgrading a database that holds pings keeps them: a SQLite batch migration of
``checks`` (0009 copies the table and drops the old one) must not cascade-delete the
pings, flips and channel assignments that reference it."""

from __future__ import annotations

from datetime import datetime

from alembic import command
from sqlalchemy import Engine, select, text
from srvpulse.adapters.sql.checks_store import SqlCheckStore, check_from_row, check_values
from srvpulse.adapters.sql.db import alembic_config, make_engine, migrate
from srvpulse.adapters.sql.tables import checks

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


def test_0011_moves_the_duration_settings_into_rule_settings(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0009")
    engine = make_engine(fresh_url)
    try:
        _a_check_with_a_ping(engine)
        with engine.begin() as conn:
            conn.execute(text("UPDATE checks SET max_duration = 1800, min_duration = 5"))
        migrate(engine)
        with engine.begin() as conn:
            row = conn.execute(select(checks).where(checks.c.uuid == "c")).one()
        check = check_from_row(dict(row._mapping))
        assert check.rule_settings == {"max_duration": 1800, "min_duration": 5}
        assert _pings(engine) == 1
        # The check store keeps the old columns right for the previous release.
        edited = check.with_changes(rule_settings={"min_interval": 60})
        with engine.begin() as conn:
            values = check_values(edited)
            conn.execute(checks.update().where(checks.c.id == check.id).values(**values))
            old = conn.execute(select(checks.c.min_duration, checks.c.max_duration)).one()
        assert tuple(old) == (None, None)
    finally:
        engine.dispose()


def test_0012_keeps_each_checks_pings_in_ping_order(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0011")
    engine = make_engine(fresh_url)
    try:
        _a_check_with_a_ping(engine)
        with engine.begin() as conn:
            for ping_id, n in (("h", 2), ("i", 3), ("j", 3)):  # j: a repeated number
                conn.execute(
                    text(
                        "INSERT INTO pings (ping_id, check_id, n, created, kind, method, scheme,"
                        " remote_addr, ua, body_truncated) VALUES (:p, 1, :n, :at, 'success',"
                        " 'GET', 'http', '127.0.0.1', 'curl', 0)"
                    ),
                    {"p": ping_id, "n": n, "at": AT},
                )
            conn.execute(text("UPDATE checks SET n_pings = 3"))
        migrate(engine)
        with SqlCheckStore(engine).transaction() as tx:
            kept = tx.list_pings(1, 100)
        assert [(p.n, p.ping_id) for p in kept] == [(3, "j"), (2, "h"), (1, "g")]
        command.downgrade(cfg, "0011")
        assert _pings(engine) == 3
        command.upgrade(cfg, "head")
        assert _pings(engine) == 3
    finally:
        engine.dispose()
