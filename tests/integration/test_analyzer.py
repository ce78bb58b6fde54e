"""The analyzer on SQLite and MariaDB: pings go through the real ingest service, the clock
is a parameter, alert events land on the in-process bus and in the outbox table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, update
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.adapters.sql.tables import alert_events, channels, check_channels, checks, flips
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import Check, PingKind, PingMessage, ScheduleKind, Status
from srvpulse.domain.rules import MaintenanceWindow
from srvpulse.services.analyzing import Analyzer
from srvpulse.services.ingesting import ingest_ping

from tests.analyzer_seed import seed_checks

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def new_check(runtime: Runtime, project_id: int, **fields: Any) -> Check:
    fields.setdefault("timeout", 3600)
    fields.setdefault("grace", 600)
    with runtime.check_store.transaction() as tx:
        return tx.insert_check(
            Check(id=0, uuid=str(uuid.uuid4()), project_id=project_id, created=T0, **fields)
        )


def add_channel(
    engine: Engine, project_id: int, check: Check, kind: str = "email", **rules: Any
) -> int:
    with engine.begin() as conn:
        channel_id = conn.execute(
            insert(channels).values(
                uuid=str(uuid.uuid4()),
                project_id=project_id,
                kind=kind,
                name=kind,
                config="{}",
                created=T0,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(check_channels).values(
                check_id=check.id, channel_id=channel_id, created=T0, **rules
            )
        )
    return int(channel_id)


def send(
    runtime: Runtime, check: Check, kind: PingKind = PingKind.SUCCESS, at: datetime = T0, **kw: Any
) -> None:
    ingest_ping(
        runtime.check_store,
        PingMessage(
            ping_id=str(uuid.uuid4()), received_at=at, kind=kind, check_uuid=check.uuid, **kw
        ),
    )


def load(runtime: Runtime, check: Check) -> Check:
    with runtime.check_store.transaction() as tx:
        found = tx.get_check(check.id)
    assert found is not None
    return found


def flip_rows(engine: Engine, check: Check) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(flips).where(flips.c.check_id == check.id).order_by(flips.c.id))
        return [(r.old_status, r.new_status, r.reason) for r in rows]


def sent(bus: LocalAlertBus) -> list[tuple[str, str, bool]]:
    return [(e.status.value, e.reason.value, e.is_reminder) for e in bus.published]


def test_a_check_goes_late_then_down_on_the_clock_and_alerts_each_channel_once(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, name="nightly")
    email = add_channel(engine, project_id, check, "email")
    slack = add_channel(engine, project_id, check, "slack")
    send(runtime, check, at=T0)
    assert load(runtime, check).alert_after == T0 + timedelta(minutes=70)

    assert analyzer.run_pass(T0 + timedelta(minutes=65)).due == 0  # in grace: nothing due
    report = analyzer.run_pass(T0 + timedelta(minutes=70, seconds=3))
    assert (report.due, report.flips, report.published) == (1, 1, 2)
    assert load(runtime, check).status is Status.DOWN
    assert flip_rows(engine, check) == [("up", "down", "late")]
    assert sorted((e.channel_id, e.channel_kind, e.reason.value) for e in bus.published) == sorted(
        [(email, "email", "late"), (slack, "slack", "late")]
    )
    assert bus.published[0].check_url == f"https://srvpulse.test/checks/{check.uuid}"

    for minute in range(71, 75):  # later passes find nothing new to say
        analyzer.run_pass(T0 + minute * MIN)
    assert len(bus.published) == 2
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(alert_events)).scalar() == 2


def test_a_fail_ping_alerts_at_once_and_the_next_success_sends_the_recovery(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id)
    add_channel(engine, project_id, check)
    send(runtime, check, at=T0)
    send(runtime, check, PingKind.FAIL, at=T0 + MIN, summary="disk full")
    analyzer.run_pass(T0 + MIN + timedelta(seconds=2))
    assert sent(bus) == [("down", "failed", False)]
    assert bus.published[0].last_ping_summary == "disk full"
    send(runtime, check, at=T0 + 2 * MIN)
    analyzer.run_pass(T0 + 2 * MIN + timedelta(seconds=2))
    assert sent(bus) == [("down", "failed", False), ("up", "recovered", False)]
    assert flip_rows(engine, check) == [("up", "down", "failed"), ("down", "up", "recovered")]


def test_the_first_alert_waits_for_n_failures_and_recovery_for_k_successes(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, recovery_threshold=2)
    add_channel(engine, project_id, check, after_failures=3)
    send(runtime, check, at=T0)
    for i in (1, 2):
        send(runtime, check, PingKind.FAIL, at=T0 + i * MIN)
        analyzer.run_pass(T0 + i * MIN + timedelta(seconds=1))
    assert bus.published == []  # two failures: not yet
    send(runtime, check, PingKind.FAIL, at=T0 + 3 * MIN)
    analyzer.run_pass(T0 + 3 * MIN + timedelta(seconds=1))
    assert sent(bus) == [("down", "failed", False)]
    send(runtime, check, at=T0 + 4 * MIN)
    analyzer.run_pass(T0 + 4 * MIN + timedelta(seconds=1))
    assert load(runtime, check).status is Status.DOWN  # one success of two
    send(runtime, check, at=T0 + 5 * MIN)
    analyzer.run_pass(T0 + 5 * MIN + timedelta(seconds=1))
    assert load(runtime, check).status is Status.UP
    assert sent(bus) == [("down", "failed", False), ("up", "recovered", False)]


def test_a_job_that_stopped_running_alerts_after_n_missed_runs(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, timeout=3600, grace=600)
    add_channel(engine, project_id, check, after_failures=2)
    send(runtime, check, at=T0)
    analyzer.run_pass(T0 + timedelta(minutes=71))  # first missed run: down, no alert yet
    assert load(runtime, check).status is Status.DOWN
    assert bus.published == []
    assert load(runtime, check).alert_after == T0 + timedelta(minutes=130)
    analyzer.run_pass(T0 + timedelta(minutes=131))  # second missed run
    assert sent(bus) == [("down", "late", False)]


def test_reminders_repeat_while_down_at_most_y_times(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id)
    add_channel(engine, project_id, check, reminder_every_minutes=10, reminder_max=2)
    send(runtime, check, PingKind.FAIL, at=T0)
    for minute in range(0, 60):
        analyzer.run_pass(T0 + minute * MIN + timedelta(seconds=5))
    assert sent(bus) == [
        ("down", "failed", False),
        ("down", "reminder", True),
        ("down", "reminder", True),
    ]
    assert [e.extra.get("down_reason") for e in bus.published[1:]] == ["failed", "failed"]
    assert flip_rows(engine, check)[1:] == [("down", "down", "reminder")] * 2
    assert load(runtime, check).next_reminder_at is None


def test_a_started_run_past_max_duration_goes_down_as_too_long(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, rule_settings={"max_duration": 300})
    add_channel(engine, project_id, check)
    send(runtime, check, at=T0)
    send(runtime, check, PingKind.START, at=T0 + MIN, rid="run-1")
    analyzer.run_pass(T0 + 5 * MIN)
    assert load(runtime, check).status is Status.STARTED
    analyzer.run_pass(T0 + 6 * MIN + timedelta(seconds=1))
    assert load(runtime, check).status is Status.DOWN
    assert sent(bus) == [("down", "too long", False)]


def test_a_run_that_finished_too_fast_is_a_failure(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, rule_settings={"min_duration": 60})
    add_channel(engine, project_id, check)
    send(runtime, check, PingKind.START, at=T0)
    send(runtime, check, at=T0 + timedelta(seconds=2))
    analyzer.run_pass(T0 + timedelta(seconds=5))
    assert sent(bus) == [("down", "too short", False)]


def test_no_alert_inside_a_maintenance_window_and_the_due_alert_goes_out_when_it_ends(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id)
    add_channel(engine, project_id, check)
    runtime.maintenance_store.add_window(
        MaintenanceWindow(
            id=0,
            project_id=project_id,
            check_id=check.id,
            starts_at=T0,
            ends_at=T0 + timedelta(minutes=30),
        ),
        T0,
    )
    send(runtime, check, PingKind.FAIL, at=T0 + MIN)
    analyzer.run_pass(T0 + MIN + timedelta(seconds=2))
    assert load(runtime, check).status is Status.DOWN  # the status still moves
    assert bus.published == []
    assert load(runtime, check).next_reminder_at == T0 + timedelta(minutes=30)
    analyzer.run_pass(T0 + timedelta(minutes=30, seconds=1))
    assert sent(bus) == [("down", "failed", False)]


def test_a_check_that_failed_and_recovered_inside_a_window_sends_nothing(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id)
    add_channel(engine, project_id, check)
    runtime.maintenance_store.add_window(
        MaintenanceWindow(
            id=0, project_id=project_id, schedule="0 2 * * *", duration=3600, tz="UTC"
        ),
        T0,
    )
    night = T0.replace(hour=2, minute=0)
    send(runtime, check, PingKind.FAIL, at=night + MIN)
    analyzer.run_pass(night + 2 * MIN)
    send(runtime, check, at=night + 5 * MIN)
    analyzer.run_pass(night + 6 * MIN)
    analyzer.run_pass(night + timedelta(minutes=61))
    assert bus.published == []
    assert load(runtime, check).status is Status.UP


def test_a_crash_between_commit_and_publish_is_republished_by_a_later_pass(
    runtime: Runtime, project_id: int, engine: Engine
) -> None:
    class BrokenBus:
        def publish(self, events: Any) -> None:
            raise ConnectionError("SNS unreachable")

    check = new_check(runtime, project_id)
    add_channel(engine, project_id, check)
    send(runtime, check, PingKind.FAIL, at=T0)
    broken = Analyzer(runtime.analyzer_store, BrokenBus())
    assert broken.run_pass(T0 + timedelta(seconds=2)).published == 0
    bus = LocalAlertBus()
    healthy = Analyzer(runtime.analyzer_store, bus)
    assert healthy.run_pass(T0 + timedelta(seconds=30)).published == 0  # lease not over
    report = healthy.run_pass(T0 + timedelta(seconds=63))
    assert report.republished == 1
    assert sent(bus) == [("down", "failed", False)]
    healthy.run_pass(T0 + timedelta(minutes=5))
    assert len(bus.published) == 1


def test_events_marked_published_are_never_republished_and_the_others_are(
    runtime: Runtime, project_id: int, engine: Engine
) -> None:
    # mark_published marks runs of consecutive ids by range and scattered ids by list:
    # either way exactly the events it was given.
    class BrokenBus:
        def publish(self, events: Any) -> None:
            raise ConnectionError("SNS unreachable")

    for _ in range(24):
        check = new_check(runtime, project_id)
        add_channel(engine, project_id, check)
        send(runtime, check, PingKind.FAIL, at=T0)
    Analyzer(runtime.analyzer_store, BrokenBus()).run_pass(T0 + timedelta(seconds=2))
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(select(alert_events.c.id).order_by(alert_events.c.id))]
    assert len(ids) == 24
    scattered, run = ids[0:18:2], ids[18:22]  # 9 single ids (a list), 4 in a row (a range)
    runtime.analyzer_store.mark_published(scattered, T0 + timedelta(seconds=3))
    runtime.analyzer_store.mark_published(run, T0 + timedelta(seconds=3))
    bus = LocalAlertBus()
    report = Analyzer(runtime.analyzer_store, bus).run_pass(T0 + timedelta(seconds=63))
    left = sorted(set(ids) - set(scattered) - set(run))
    assert report.republished == len(left) == 11
    assert sorted(e.flip_id for e in bus.published) == sorted(
        r.flip_id for r in _events(engine) if r.id in left
    )
    with engine.connect() as conn:
        unpublished = conn.execute(
            select(func.count())
            .select_from(alert_events)
            .where(alert_events.c.published_at.is_(None))
        ).scalar()
    assert unpublished == 0


def _events(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(select(alert_events)))


def test_a_cron_check_in_a_time_zone_is_due_at_its_local_time_plus_grace(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(
        runtime,
        project_id,
        kind=ScheduleKind.CRON,
        schedule="30 2 * * *",
        tz="Europe/Riga",
        grace=900,
    )
    add_channel(engine, project_id, check)
    send(runtime, check, at=datetime(2026, 3, 2, 0, 31, tzinfo=UTC))  # 02:31 in Riga (UTC+2)
    expected = datetime(2026, 3, 3, 0, 30, tzinfo=UTC) + timedelta(minutes=15)
    assert load(runtime, check).alert_after == expected
    analyzer.run_pass(expected - timedelta(seconds=1))
    assert bus.published == []
    analyzer.run_pass(expected + timedelta(seconds=1))
    assert sent(bus) == [("down", "late", False)]


def test_a_pass_reads_only_due_checks(
    runtime: Runtime, project_id: int, engine: Engine, analyzer: Analyzer
) -> None:
    quiet = [new_check(runtime, project_id) for _ in range(30)]
    for c in quiet:
        send(runtime, c, at=T0)
    with engine.begin() as conn:  # three of them overdue
        conn.execute(
            update(checks)
            .where(checks.c.id.in_([c.id for c in quiet[:3]]))
            .values(alert_after=T0 + MIN)
        )
    report = analyzer.run_pass(T0 + 2 * MIN)
    assert report.due == 3
    assert report.rows_read <= 3 * 2


def test_a_backlog_is_worked_through_in_growing_passes_each_check_decided_once(
    runtime: Runtime, engine: Engine, bus: LocalAlertBus
) -> None:
    # 1 000 checks overdue at once (a fleet at :00). A pass after a full one takes twice
    # as many, up to 2x batch_limit.
    seed_checks(engine, 1000, T0)
    analyzer = Analyzer(runtime.analyzer_store, bus, batch_limit=100)
    now = T0 + timedelta(hours=2)
    reports = [analyzer.run_pass(now) for _ in range(7)]
    assert [r.due for r in reports] == [100, 200, 200, 200, 200, 100, 0]
    assert [r.full for r in reports] == [True] * 5 + [False, False]
    assert sum(r.flips for r in reports) == sum(r.published for r in reports) == 1000
    assert len({e.idempotency_key for e in bus.published}) == 1000
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(flips)).scalar() == 1000
    # Once the backlog is gone, a pass is batch_limit again.
    with engine.begin() as conn:
        conn.execute(update(checks).values(alert_after=T0))
    assert analyzer.run_pass(now).due == 100


def test_the_scheduled_function_repeats_passes_until_the_minute_is_nearly_over(
    runtime: Runtime,
    project_id: int,
    engine: Engine,
    bus: LocalAlertBus,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from functions.analyzer import handler as analyzer_function

    monkeypatch.setattr(analyzer_function, "PASS_INTERVAL_S", 0.01)

    check = new_check(runtime, project_id)
    add_channel(engine, project_id, check)
    send(runtime, check, PingKind.FAIL, at=datetime.now(UTC) - MIN)

    class Context:  # a 60 s invocation whose clock runs 2.5 s per question
        left = 60_000

        def get_remaining_time_in_millis(self) -> int:
            self.left -= 2_500
            return self.left

    reply = analyzer_function.handler({"source": "aws.events"}, Context())
    assert reply["passes"] >= 5
    assert reply["published"] == 1
    assert sent(bus) == [("down", "failed", False)]


def test_the_local_worker_runs_passes_in_the_background(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus
) -> None:
    from srvpulse.local.analyzer_worker import AnalyzerWorker

    check = new_check(runtime, project_id)
    add_channel(engine, project_id, check)
    send(runtime, check, PingKind.FAIL, at=datetime.now(UTC) - MIN)
    worker = AnalyzerWorker(runtime.analyzer, interval=0.05)
    worker.start()
    event = bus.queue.get(timeout=10)
    worker.stop(drain=True)
    assert (event.check_uuid, event.status) == (check.uuid, Status.DOWN)
    assert worker.passes >= 1
