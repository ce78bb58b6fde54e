"""The status machine as a scenario table: ping sequences x clock -> status and flips.

Each step is ``(minute, what)``: a ping kind ("success", "fail", "start", "log", "exit:N"
optionally with "@rid"), or "tick" (the analyzer looks at the clock). Checks here have a
60-minute period and 10 minutes of grace unless a scenario says otherwise.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from srvpulse.domain import check_rules
from srvpulse.domain.model import Check, PingKind, PingMessage, ScheduleKind, Status
from srvpulse.domain.status import (
    MAX_OPEN_RUNS,
    apply_ping,
    evaluate,
    open_runs,
    pause,
    resume,
    status_at,
)

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
Step = tuple[float, str]


def run(steps: list[Step], **settings: Any) -> tuple[Check, list[tuple[str, str, str, float]]]:
    settings.setdefault("timeout", 3600)
    settings.setdefault("grace", 600)
    # Check rule settings (domain/check_rules) by their API names, like the other fields.
    rules = {k: settings.pop(k) for k in list(settings) if check_rules.is_setting(k)}
    check = Check(id=1, uuid="c", project_id=1, rule_settings=rules, **settings)
    flips: list[tuple[str, str, str, float]] = []
    for minute, what in steps:
        now = T0 + timedelta(minutes=minute)
        if what == "tick":
            ev = evaluate(check, now)
            check, flip = ev.check, ev.flip
        else:
            kind_s, _, rid = what.partition("@")
            exit_status = None
            if kind_s.startswith("exit:"):
                exit_status, kind_s = int(kind_s[5:]), "success"
            ping = PingMessage(
                ping_id=str(uuid.uuid4()),
                received_at=now,
                kind=PingKind(kind_s),
                check_uuid="c",
                rid=rid or None,
                exit_status=exit_status,
            )
            outcome = apply_ping(check, ping, None)
            check, flip = outcome.check, outcome.flip
        if flip is not None:
            at = (flip.created - T0).total_seconds() / 60
            flips.append((flip.old_status.value, flip.new_status.value, flip.reason.value, at))
    return check, flips


SCENARIOS: list[
    tuple[str, dict[str, Any], list[Step], Status, list[tuple[str, str, str, float]]]
] = [
    ("a new check stays new on the clock", {}, [(0, "tick"), (600, "tick")], Status.NEW, []),
    ("the first success takes a new check up quietly", {}, [(0, "success")], Status.UP, []),
    ("within grace a late check is still up", {}, [(0, "success"), (69, "tick")], Status.UP, []),
    (
        "a missed ping takes the check down at deadline plus grace",
        {},
        [(0, "success"), (70.5, "tick")],
        Status.DOWN,
        [("up", "down", "late", 70)],
    ),
    (
        "a fail ping takes the check down at once",
        {},
        [(0, "success"), (5, "fail")],
        Status.DOWN,
        [("up", "down", "failed", 5)],
    ),
    (
        "a fail ping on a new check takes it down",
        {},
        [(0, "fail")],
        Status.DOWN,
        [("new", "down", "failed", 0)],
    ),
    (
        "a non-zero exit status is a failure and zero a success",
        {},
        [(0, "exit:0"), (1, "exit:3"), (2, "exit:0")],
        Status.UP,
        [("up", "down", "failed", 1), ("down", "up", "recovered", 2)],
    ),
    (
        "the next success recovers a down check",
        {},
        [(0, "fail"), (3, "success")],
        Status.UP,
        [("new", "down", "failed", 0), ("down", "up", "recovered", 3)],
    ),
    (
        "with recovery_threshold 3 it takes three successes to come back up",
        {"recovery_threshold": 3},
        [
            (0, "fail"),
            (1, "success"),
            (2, "success"),
            (3, "fail"),
            (4, "success"),
            (5, "success"),
            (6, "success"),
        ],
        Status.UP,
        [("new", "down", "failed", 0), ("down", "up", "recovered", 6)],
    ),
    (
        "a start ping shows started and the success closes the run",
        {},
        [(0, "success"), (60, "start"), (62, "success")],
        Status.UP,
        [],
    ),
    (
        "a run that never finishes goes down after grace (no max_duration)",
        {},
        [(0, "start"), (9, "tick"), (10, "tick")],
        Status.DOWN,
        [("started", "down", "too long", 10)],
    ),
    (
        "a run past max_duration goes down as too long",
        {"max_duration": 1800, "grace": 3600},
        [(0, "success"), (60, "start"), (89, "tick"), (90, "tick")],
        Status.DOWN,
        [("started", "down", "too long", 90)],
    ),
    (
        "a run that completes after max_duration is a failure",
        {"max_duration": 60, "grace": 3600},
        [(0, "start"), (2, "success")],
        Status.DOWN,
        [("started", "down", "too long", 2)],
    ),
    (
        "a run shorter than min_duration is a failure",
        {"min_duration": 120},
        [(0, "success"), (60, "start"), (61, "success")],
        Status.DOWN,
        [("started", "down", "too short", 61)],
    ),
    (
        "concurrent runs keep their own start: b was too short, a (from minute 0) is fine",
        {"min_duration": 60, "max_duration": 600, "grace": 3600},
        [(0, "start@a"), (5, "start@b"), (5.5, "success@b"), (5.75, "success@a")],
        Status.UP,
        [("started", "down", "too short", 5.5), ("down", "up", "recovered", 5.75)],
    ),
    (
        "a run that finishes sooner than min_interval after the previous one: too often",
        {"min_interval": 1800},
        [(0, "success"), (10, "start"), (11, "success"), (50, "success")],
        Status.UP,
        [("started", "down", "too often", 11), ("down", "up", "recovered", 50)],
    ),
    (
        "runs min_interval apart (or more) are fine; the first run has nothing before it",
        {"min_interval": 1800},
        [(0, "success"), (30, "success"), (90, "success")],
        Status.UP,
        [],
    ),
    (
        "an open run masks lateness; its own limit still applies",
        {"grace": 600, "max_duration": 7200},
        [(0, "success"), (50, "start"), (75, "tick"), (170, "tick")],
        Status.DOWN,
        [("started", "down", "too long", 170)],
    ),
    (
        "a start never hides a failure",
        {},
        [(0, "fail"), (1, "start"), (2, "tick")],
        Status.DOWN,
        [("new", "down", "failed", 0)],
    ),
    (
        "log pings change nothing",
        {},
        [(0, "success"), (30, "log"), (70.5, "tick")],
        Status.DOWN,
        [("up", "down", "late", 70)],
    ),
    (
        "a cron check is due at the next fire plus grace",
        {"kind": ScheduleKind.CRON, "schedule": "0 13 * * *", "tz": "UTC", "grace": 300},
        [(0, "success"), (64, "tick"), (65, "tick")],
        Status.DOWN,
        [("up", "down", "late", 65)],
    ),
]


@pytest.mark.parametrize(
    ("settings", "steps", "status", "flips"),
    [pytest.param(s, st, status, f, id=name) for name, s, st, status, f in SCENARIOS],
)
def test_status_machine_scenarios(
    settings: dict[str, Any], steps: list[Step], status: Status, flips: list[Any]
) -> None:
    check, got = run(steps, **settings)
    assert check.status is status
    assert got == flips


def test_while_down_every_missed_run_counts_as_one_more_failure() -> None:
    check, _ = run([(0, "success"), (71, "tick")])
    assert check.consecutive_failures == 1
    assert check.alert_after == T0 + timedelta(minutes=130)
    check2 = evaluate(check, T0 + timedelta(minutes=250)).check  # 3 more runs missed
    assert check2.consecutive_failures == 4
    assert evaluate(check2, T0 + timedelta(minutes=250)).failures_added == 0  # idempotent


def test_alert_after_is_the_deadline_plus_grace_and_the_rules_run_now_after_a_flip() -> None:
    check, _ = run([(0, "success")])
    assert check.alert_after == T0 + timedelta(minutes=70)
    check, _ = run([(0, "success"), (5, "fail")])
    assert check.next_reminder_at == T0 + timedelta(minutes=5)  # the rules run now
    check, _ = run([(0, "start")], max_duration=300, grace=3600)
    assert check.alert_after == T0 + timedelta(minutes=5)


def test_status_shows_grace_between_the_expected_time_and_the_deadline() -> None:
    check, _ = run([(0, "success")])
    assert status_at(check, T0 + timedelta(minutes=59)) is Status.UP
    assert status_at(check, T0 + timedelta(minutes=61)) is Status.GRACE
    assert status_at(check, T0 + timedelta(minutes=71)) is Status.DOWN


def test_a_paused_check_ignores_the_clock_and_manual_resume_ignores_pings() -> None:
    check, _ = run([(0, "success")], manual_resume=True)
    paused, flip = pause(check, T0 + timedelta(minutes=1))
    assert flip is not None and flip.new_status is Status.PAUSED
    assert evaluate(paused, T0 + timedelta(days=3)).check.status is Status.PAUSED
    ping = PingMessage("p", T0 + timedelta(days=3), PingKind.SUCCESS, check_uuid="c")
    outcome = apply_ping(paused, ping, None)
    assert (outcome.check.status, outcome.counted) == (Status.PAUSED, False)
    resumed, _ = resume(paused, T0 + timedelta(days=3))
    assert resumed.status is Status.NEW


def test_a_paused_check_without_manual_resume_comes_back_on_a_ping() -> None:
    check, _ = run([(0, "success")])
    paused, _ = pause(check, T0 + timedelta(minutes=1))
    ping = PingMessage("p", T0 + timedelta(minutes=2), PingKind.SUCCESS, check_uuid="c")
    outcome = apply_ping(paused, ping, None)
    assert outcome.check.status is Status.UP
    assert outcome.flip is not None and outcome.flip.reason.value == "resumed"


def test_open_runs_are_bounded() -> None:
    steps: list[Step] = [(i * 0.01, f"start@r{i}") for i in range(MAX_OPEN_RUNS + 10)]
    check, _ = run(steps, grace=3600)
    runs = open_runs(check)
    assert len(runs) == MAX_OPEN_RUNS
    assert "r0" not in runs and f"r{MAX_OPEN_RUNS + 9}" in runs
