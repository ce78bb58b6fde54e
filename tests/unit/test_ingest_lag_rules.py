"""No false alarms while ingestion lags, in the pure decision (services.analyzing.plan_check
over domain.status): deadlines are judged up to the instant ingestion has caught up to,
never the wall clock; what a ping already said is never held back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from srvpulse.domain.model import Check, FlipReason, PingKind, PingMessage, Status
from srvpulse.domain.rules import Assignment
from srvpulse.domain.status import apply_ping, evaluate
from srvpulse.ports import CheckContext
from srvpulse.services.analyzing import plan_check

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def every_five_minutes(**fields: object) -> Check:
    """Pinged every 5 minutes with 1 minute of grace; up, last pinged at T0."""
    check = Check(id=1, uuid="c1", project_id=1, timeout=300, grace=60, created=T0 - MIN)
    ping = PingMessage(ping_id="p0", received_at=T0, kind=PingKind.SUCCESS, check_uuid="c1")
    return apply_ping(check.with_changes(**fields), ping).check


def context(check: Check) -> CheckContext:
    return CheckContext(check, [], [Assignment(check_id=check.id, channel_id=9)], [])


def test_a_deadline_after_the_caught_up_instant_is_not_judged() -> None:
    check = every_five_minutes()
    # Deadline T0 + 6 min. Ingestion stalled at T0 + 1 min; the clock says T0 + 10 min.
    plan = plan_check(context(check), T0 + 10 * MIN, caught_up_to=T0 + MIN)
    assert plan.check.status is Status.UP
    assert (plan.new_flips, plan.events) == ([], [])
    # It waits for ingestion to pass its deadline, not for the clock.
    assert plan.check.alert_after == T0 + 6 * MIN


def test_once_caught_up_a_check_that_really_went_silent_goes_down_at_its_deadline() -> None:
    check = every_five_minutes()
    plan = plan_check(context(check), T0 + 10 * MIN, caught_up_to=T0 + 10 * MIN)
    assert plan.check.status is Status.DOWN
    [flip] = plan.new_flips
    assert (flip.reason, flip.created) == (FlipReason.LATE, T0 + 6 * MIN)
    assert [e.status for e in plan.events] == [Status.DOWN]


def test_pings_that_were_queued_during_the_stall_keep_the_check_up_after_catch_up() -> None:
    check = every_five_minutes()
    for i, at in enumerate((T0 + 5 * MIN, T0 + 10 * MIN), start=1):
        ping = PingMessage(ping_id=f"p{i}", received_at=at, kind=PingKind.SUCCESS, check_uuid="c1")
        check = apply_ping(check, ping).check  # ingested late, after the stall
    plan = plan_check(context(check), T0 + 11 * MIN, caught_up_to=T0 + 11 * MIN)
    assert (plan.check.status, plan.new_flips, plan.events) == (Status.UP, [], [])


def test_a_run_is_not_called_too_long_while_its_completion_may_still_be_queued() -> None:
    started = apply_ping(
        every_five_minutes(rule_settings={"max_duration": 120}),
        PingMessage(ping_id="s", received_at=T0 + MIN, kind=PingKind.START, check_uuid="c1"),
    ).check
    # Limit T0 + 3 min; ingestion caught up only to T0 + 2 min.
    assert evaluate(started, T0 + 2 * MIN).flip is None
    assert plan_check(context(started), T0 + 9 * MIN, caught_up_to=T0 + 2 * MIN).new_flips == []
    late = plan_check(context(started), T0 + 9 * MIN, caught_up_to=T0 + 4 * MIN)
    assert [f.reason for f in late.new_flips] == [FlipReason.TOO_LONG]


def test_a_failure_a_ping_reported_is_alerted_at_once_whatever_the_lag() -> None:
    check = every_five_minutes()
    failed = apply_ping(
        check,
        PingMessage(ping_id="f", received_at=T0 + MIN, kind=PingKind.FAIL, check_uuid="c1"),
    )
    assert failed.flip is not None
    # The rules' wake-up, which the lag never holds (the clock's alert_after is held).
    assert failed.check.next_reminder_at == T0 + MIN
    flip = replace(failed.flip, id=41)
    ctx = CheckContext(failed.check, [flip], [Assignment(check_id=1, channel_id=9)], [])
    plan = plan_check(ctx, T0 + 2 * MIN, caught_up_to=T0)
    assert [(e.flip_id, e.status) for e in plan.events] == [(41, Status.DOWN)]
