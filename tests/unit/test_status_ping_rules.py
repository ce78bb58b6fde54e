"""How one ping moves a check (domain.status.apply_ping): pure, no I/O, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from srvpulse.domain.model import Check, FlipReason, PingKind, PingMessage, Status
from srvpulse.domain.status import RunLog, apply_ping

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def check(**fields: Any) -> Check:
    return Check(id=7, uuid="c7", project_id=1, created=T0 - timedelta(days=1), **fields)


def ping(kind: PingKind = PingKind.SUCCESS, at: datetime = T0, **fields: Any) -> PingMessage:
    return PingMessage(ping_id="p", received_at=at, kind=kind, check_uuid="c7", **fields)


def test_the_first_success_takes_a_new_check_up_without_a_flip() -> None:
    out = apply_ping(check(), ping(), None)
    assert out.check.status is Status.UP
    assert (out.check.n_pings, out.check.last_ping, out.flip, out.counted) == (1, T0, None, True)


def test_a_fail_ping_takes_the_check_down_at_once() -> None:
    out = apply_ping(
        check(status=Status.UP, last_ping=T0 - timedelta(hours=1)), ping(PingKind.FAIL), None
    )
    assert out.check.status is Status.DOWN
    assert out.flip is not None
    assert (out.flip.old_status, out.flip.new_status, out.flip.reason) == (
        Status.UP,
        Status.DOWN,
        FlipReason.FAILED,
    )
    assert out.check.consecutive_failures == 1
    # The analyzer must look at it now to run the alert rules.
    assert out.check.next_reminder_at == T0


def test_a_failing_first_ping_is_a_flip_too() -> None:
    out = apply_ping(check(), ping(PingKind.FAIL), None)
    assert out.flip is not None and out.flip.old_status is Status.NEW


@pytest.mark.parametrize(
    ("exit_status", "expected"), [(0, Status.UP), (1, Status.DOWN), (255, Status.DOWN)]
)
def test_an_exit_status_decides_success_or_failure(exit_status: int, expected: Status) -> None:
    out = apply_ping(check(status=Status.UP, last_ping=T0), ping(exit_status=exit_status), None)
    assert out.check.status is expected


def test_a_success_after_a_failure_recovers_with_a_flip() -> None:
    out = apply_ping(check(status=Status.DOWN, consecutive_failures=2), ping(), None)
    assert out.check.status is Status.UP
    assert out.flip is not None and out.flip.reason is FlipReason.RECOVERED
    assert (out.check.consecutive_failures, out.check.consecutive_successes) == (0, 1)


def test_a_log_ping_is_counted_but_changes_nothing_else() -> None:
    before = check(status=Status.UP, last_ping=T0 - timedelta(minutes=5))
    out = apply_ping(before, ping(PingKind.LOG), None)
    assert out.counted is False and out.flip is None
    assert out.check == before.with_changes(n_pings=1)


def test_a_get_ping_is_ignored_when_the_check_wants_post() -> None:
    before = check(status=Status.UP, last_ping=T0 - timedelta(minutes=5), methods="POST")
    ignored = apply_ping(before, ping(PingKind.FAIL, method="GET"), None)
    assert ignored.counted is False and ignored.check.status is Status.UP
    taken = apply_ping(before, ping(PingKind.FAIL, method="POST"), None)
    assert taken.check.status is Status.DOWN


def test_a_paused_check_with_manual_resume_ignores_pings() -> None:
    out = apply_ping(check(status=Status.PAUSED, manual_resume=True), ping(), None)
    assert (out.check.status, out.counted, out.flip) == (Status.PAUSED, False, None)


def test_a_paused_check_without_manual_resume_comes_back_on_a_ping() -> None:
    out = apply_ping(check(status=Status.PAUSED), ping(), None)
    assert out.check.status is Status.UP
    assert out.flip is not None and out.flip.reason is FlipReason.RESUMED


def test_a_start_marks_the_check_started_without_a_flip() -> None:
    out = apply_ping(
        check(status=Status.UP, last_ping=T0 - timedelta(hours=1)), ping(PingKind.START), None
    )
    assert out.check.status is Status.STARTED
    assert (out.check.last_start, out.flip) == (T0, None)


def test_a_start_does_not_hide_a_failure() -> None:
    out = apply_ping(check(status=Status.DOWN), ping(PingKind.START), None)
    assert out.check.status is Status.DOWN


def test_a_completion_measures_the_run_from_its_start() -> None:
    started = apply_ping(
        check(status=Status.UP, last_ping=T0 - timedelta(hours=1)), ping(PingKind.START), None
    )
    done = apply_ping(started.check, ping(at=T0 + timedelta(seconds=42)), None)
    assert done.duration_ms == 42_000
    assert done.check.last_duration_ms == 42_000
    assert done.check.last_start is None
    assert done.check.status is Status.UP


def test_concurrent_runs_are_paired_by_run_id() -> None:
    c = check(status=Status.UP, last_ping=T0 - timedelta(hours=1))
    c = apply_ping(c, ping(PingKind.START, at=T0, rid="a"), None).check
    c = apply_ping(c, ping(PingKind.START, at=T0 + timedelta(seconds=10), rid="b"), None).check
    first = apply_ping(c, ping(at=T0 + timedelta(seconds=15), rid="b"), None)
    assert first.duration_ms == 5_000
    second = apply_ping(first.check, ping(at=T0 + timedelta(seconds=60), rid="a"), None)
    assert second.duration_ms == 60_000


def test_the_kept_start_with_the_same_run_id_times_a_run_the_check_no_longer_holds() -> None:
    runs = RunLog(starts={"r": T0})
    out = apply_ping(
        check(status=Status.UP, last_ping=T0), ping(at=T0 + timedelta(seconds=3), rid="r"), runs
    )
    assert out.duration_ms == 3_000


def test_a_start_after_the_completion_gives_no_duration() -> None:
    runs = RunLog(starts={"r": T0 + timedelta(seconds=5)})
    out = apply_ping(check(status=Status.UP, last_ping=T0), ping(rid="r"), runs)
    assert out.duration_ms is None


@pytest.mark.parametrize(
    ("seconds", "reason"),
    [(5, FlipReason.TOO_SHORT), (30, None), (120, FlipReason.TOO_LONG)],
)
def test_duration_rules_turn_a_success_into_a_failure(
    seconds: int, reason: FlipReason | None
) -> None:
    durations = {"min_duration": 10, "max_duration": 60}
    c = check(status=Status.UP, last_ping=T0 - timedelta(hours=1), rule_settings=durations)
    out = apply_ping(c, ping(at=T0 + timedelta(seconds=seconds), rid="r"), RunLog(starts={"r": T0}))
    if reason is None:
        assert out.check.status is Status.UP and out.flip is None
    else:
        assert out.check.status is Status.DOWN
        assert out.flip is not None and out.flip.reason is reason


def test_recovery_needs_the_configured_number_of_successes() -> None:
    c = check(status=Status.DOWN, recovery_threshold=2)
    first = apply_ping(c, ping(), None)
    assert first.check.status is Status.DOWN and first.flip is None
    second = apply_ping(first.check, ping(at=T0 + timedelta(minutes=1)), None)
    assert second.check.status is Status.UP and second.flip is not None


def test_a_completion_older_than_the_last_one_is_recorded_but_moves_nothing() -> None:
    up = check(status=Status.UP, last_ping=T0 + timedelta(minutes=5), n_pings=4)
    out = apply_ping(up, ping(PingKind.FAIL, at=T0 + timedelta(minutes=1)))
    assert (out.late, out.recorded_kind, out.flip) == (True, "fail", None)
    assert out.check == up.with_changes(n_pings=5)


def test_a_start_whose_run_already_completed_is_late_and_opens_no_run() -> None:
    runs = RunLog(completions={"a": T0 + timedelta(seconds=3)})
    down = check(status=Status.DOWN, last_ping=T0 + timedelta(seconds=3))
    out = apply_ping(down, ping(PingKind.START, at=T0, rid="a"), runs)
    assert out.late and out.check.open_runs == "" and out.check.status is Status.DOWN


def test_a_ping_by_the_wrong_method_is_recorded_as_ignored() -> None:
    out = apply_ping(check(status=Status.UP, methods="POST", n_pings=1), ping(method="GET"))
    assert (out.recorded_kind, out.counted, out.check.n_pings, out.check.status) == (
        "ign",
        False,
        2,
        Status.UP,
    )


def test_each_ping_adds_itself_to_the_run_log_for_the_next_ping_of_its_batch() -> None:
    c = check(status=Status.UP, last_ping=T0 - timedelta(hours=1))
    started = apply_ping(c, ping(PingKind.START, at=T0, rid="a"))
    assert started.runs == RunLog(starts={"a": T0})
    done = apply_ping(started.check, ping(at=T0 + timedelta(seconds=7), rid="a"), started.runs)
    assert done.duration_ms == 7_000
    assert done.runs.completions == {"a": T0 + timedelta(seconds=7)}
    # The same start delivered again later in the batch is now late: its run is done.
    again = apply_ping(done.check, ping(PingKind.START, at=T0, rid="a"), done.runs)
    assert again.late and again.check.status is Status.UP
