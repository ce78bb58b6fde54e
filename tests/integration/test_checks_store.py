"""SqlCheckStore on SQLite and MariaDB: the generic row <-> Check mapping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import Engine
from srvpulse.adapters.sql.checks_store import SqlCheckStore
from srvpulse.adapters.sql.projects_store import SqlProjectStore
from srvpulse.domain.accounts import Project
from srvpulse.domain.model import Check, PingKind, ScheduleKind, Status

T0 = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)


def new_project(engine: Engine) -> int:
    project = Project(0, str(uuid.uuid4()), "p", f"ping-key-{uuid.uuid4().hex[:8]}", T0)
    return SqlProjectStore(engine).create_project(project, None, T0).id


def test_every_check_field_survives_a_round_trip(engine: Engine) -> None:
    store = SqlCheckStore(engine)
    project_id = new_project(engine)
    check = Check(
        id=0,
        uuid=str(uuid.uuid4()),
        project_id=project_id,
        name="Nightly ✓",
        slug="nightly",
        tags="prod db",
        desc="multi\nline",
        kind=ScheduleKind.CRON,
        timeout=600,
        grace=120,
        schedule="30 2 * * *",
        tz="Europe/Riga",
        manual_resume=True,
        methods="POST",
        rule_settings={"max_duration": 50, "min_duration": 5, "min_interval": 600},
        recovery_threshold=3,
        status=Status.STARTED,
        n_pings=41,
        last_ping=T0,
        last_start=T0,
        last_start_rid=str(uuid.uuid4()),
        last_duration_ms=12_345,
        last_ping_kind=PingKind.START,
        consecutive_failures=2,
        consecutive_successes=1,
        alert_after=T0,
        next_reminder_at=T0,
        version=4,
        created=T0,
    )
    with store.transaction() as tx:
        saved = tx.insert_check(check)
    with store.transaction() as tx:
        loaded = tx.get_check(saved.id)
    assert loaded == saved
    assert isinstance(loaded.status, Status) and isinstance(loaded.kind, ScheduleKind)


def test_checks_without_a_slug_do_not_collide(engine: Engine) -> None:
    store = SqlCheckStore(engine)
    pid = new_project(engine)
    with store.transaction() as tx:
        for _ in range(2):
            tx.insert_check(Check(id=0, uuid=str(uuid.uuid4()), project_id=pid, created=T0))
        assert [c.slug for c in tx.list_checks(pid)] == ["", ""]
