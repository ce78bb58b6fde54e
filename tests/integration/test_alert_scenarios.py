"""User scenarios against the analyzer on a controlled clock (both databases): what the
alerts say, and what happens when a check's channel settings change while it is down."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.bootstrap import Runtime
from srvpulse.domain.delivery import headline
from srvpulse.domain.model import PingKind
from srvpulse.domain.rules import MAX_AFTER_FAILURES
from srvpulse.services.analyzing import Analyzer

from tests.integration.conftest import Api
from tests.integration.test_analyzer import MIN, T0, add_channel, new_check, send, sent

SEC = timedelta(seconds=1)


def headlines(bus: LocalAlertBus) -> list[str]:
    return [headline(e) for e in bus.published]


def test_a_late_alert_says_by_how_much_the_job_is_late_and_reminders_say_it_again(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, name="nightly-backup", timeout=3600, grace=600)
    add_channel(engine, project_id, check, reminder_every_minutes=60, reminder_max=1)
    send(runtime, check, at=T0)
    analyzer.run_pass(T0 + 72 * MIN)  # expected at 13:00, grace to 13:10, now 13:12
    analyzer.run_pass(T0 + 133 * MIN)
    send(runtime, check, at=T0 + 140 * MIN)
    analyzer.run_pass(T0 + 140 * MIN + SEC)
    assert headlines(bus) == [
        "DOWN: nightly-backup (late by 12 min)",
        "REMINDER DOWN: nightly-backup (late by 1 h 13 min)",
        "UP: nightly-backup (back up)",
    ]


def test_a_failure_alert_names_the_exit_status_and_a_too_short_run_its_duration(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    failing = new_check(runtime, project_id, name="backup")
    add_channel(engine, project_id, failing)
    send(runtime, failing, PingKind.FAIL, at=T0, exit_status=3)
    fast = new_check(runtime, project_id, name="export", rule_settings={"min_duration": 60})
    add_channel(engine, project_id, fast)
    send(runtime, fast, PingKind.START, at=T0)
    send(runtime, fast, at=T0 + 2 * SEC)
    analyzer.run_pass(T0 + 5 * SEC)
    assert sorted(headlines(bus)) == [
        "DOWN: backup (failed (exit status 3))",
        "DOWN: export (finished too fast (2 s))",
    ]


def test_a_job_that_runs_too_often_alerts_with_the_interval_it_should_keep(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, name="report", rule_settings={"min_interval": 3600})
    add_channel(engine, project_id, check)
    send(runtime, check, at=T0)
    send(runtime, check, at=T0 + 2 * MIN)
    analyzer.run_pass(T0 + 2 * MIN + 5 * SEC)
    assert headlines(bus) == ["DOWN: report (ran too often (less than 1 h after the previous run))"]


def test_the_largest_accepted_after_failures_still_alerts(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id)
    channel = add_channel(engine, project_id, check)
    runtime.channel_store.assign(check.id, channel, {"after_failures": MAX_AFTER_FAILURES}, T0)
    for i in range(MAX_AFTER_FAILURES):
        send(runtime, check, PingKind.FAIL, at=T0 + i * MIN)
    analyzer.run_pass(T0 + MAX_AFTER_FAILURES * MIN)
    assert sent(bus) == [("down", "failed", False)]


def test_an_assignment_asking_for_more_failures_than_are_ever_counted_is_refused(
    rw: Api,
) -> None:
    _, check = rw.call("post", "/api/v3/checks", {"name": "nightly"})
    _, channel = rw.call(
        "post", "/api/v3/channels", {"kind": "email", "config": {"to": "a@example.com"}}
    )
    path = f"/api/v3/checks/{check['uuid']}/channels/{channel['id']}"
    assert rw.call("put", path, {"after_failures": MAX_AFTER_FAILURES})[0] == 200
    status, reply = rw.call("put", path, {"after_failures": MAX_AFTER_FAILURES + 1})
    assert (status, reply["field"]) == (400, "after_failures")


def test_reminders_switched_on_while_the_check_is_down_start_without_another_ping(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, timeout=86400)
    channel = add_channel(engine, project_id, check)
    send(runtime, check, PingKind.FAIL, at=T0)
    analyzer.run_pass(T0 + 5 * SEC)
    assert sent(bus) == [("down", "failed", False)]
    settings: dict[str, object] = {"reminder_every_minutes": 10, "reminder_max": 2}
    runtime.channel_store.assign(check.id, channel, settings, T0 + MIN)
    for minute in range(2, 60):
        analyzer.run_pass(T0 + minute * MIN)
    assert sent(bus) == [
        ("down", "failed", False),
        ("down", "reminder", True),
        ("down", "reminder", True),
    ]


def test_a_failed_run_retried_successfully_before_the_next_pass_is_still_reported(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id, name="sync")
    add_channel(engine, project_id, check)
    send(runtime, check, PingKind.FAIL, at=T0, exit_status=1)
    send(runtime, check, at=T0 + 3 * SEC)  # the wrapper retried, and it worked
    analyzer.run_pass(T0 + 5 * SEC)
    # (the exit status is read from the latest ping, here the successful retry)
    assert headlines(bus) == ["DOWN: sync (failed)", "UP: sync (back up)"]
    analyzer.run_pass(T0 + 10 * SEC)
    assert len(bus.published) == 2  # exactly once
