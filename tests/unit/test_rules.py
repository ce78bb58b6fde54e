"""Alert rules per channel assignment and maintenance windows (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from srvpulse.domain.model import Flip, FlipReason, Status
from srvpulse.domain.rules import (
    Assignment,
    Decision,
    MaintenanceWindow,
    decide,
    maintenance_until,
    validate_assignment_settings,
    validate_window,
)
from srvpulse.errors import InvalidInput

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
DOWN = Flip(1, T0, Status.UP, Status.DOWN, FlipReason.LATE, id=10)
UP = Flip(1, T0 + 30 * MIN, Status.DOWN, Status.UP, FlipReason.RECOVERED, id=11)


def step(
    a: Assignment,
    flips: list[Flip],
    at: datetime,
    *,
    down: bool = True,
    failures: int = 1,
    maintenance_end: datetime | None = None,
) -> Decision:
    return decide(
        a, flips, check_down=down, failures=failures, now=at, maintenance_end=maintenance_end
    )


def kinds(d: Decision) -> list[str]:
    return [n.kind.value for n in d.notices]


def test_defaults_alert_at_once_on_down_and_on_recovery_like_healthchecks() -> None:
    a = Assignment(check_id=1, channel_id=7)
    d = step(a, [DOWN], T0 + 5 * 1e-3 * MIN)
    assert kinds(d) == ["down"]
    assert d.notices[0].flip_id == 10 and d.notices[0].reason is FlipReason.LATE
    assert d.assignment.next_reminder_at is None  # no reminders by default
    d = step(d.assignment, [UP], T0 + 30 * MIN, down=False, failures=0)
    assert kinds(d) == ["up"] and d.notices[0].flip_id == 11


def test_first_alert_waits_for_n_consecutive_failures() -> None:
    a = Assignment(check_id=1, channel_id=7, after_failures=3)
    d = step(a, [DOWN], T0, failures=1)
    assert kinds(d) == [] and d.assignment.next_reminder_at is None
    d = step(d.assignment, [], T0 + MIN, failures=2)
    assert kinds(d) == []
    d = step(d.assignment, [], T0 + 2 * MIN, failures=3)
    assert kinds(d) == ["down"] and d.notices[0].flip_id == 10


def test_first_alert_waits_until_down_for_m_minutes() -> None:
    a = Assignment(check_id=1, channel_id=7, after_down_minutes=15)
    d = step(a, [DOWN], T0 + MIN)
    assert kinds(d) == [] and d.assignment.next_reminder_at == T0 + 15 * MIN
    d = step(d.assignment, [], T0 + 15 * MIN)
    assert kinds(d) == ["down"]


def test_a_check_that_recovers_before_its_first_alert_sends_no_recovery() -> None:
    a = Assignment(check_id=1, channel_id=7, after_down_minutes=60)
    d = step(a, [DOWN], T0)
    d = step(d.assignment, [UP], T0 + 30 * MIN, down=False, failures=0)
    assert kinds(d) == [] and d.assignment.next_reminder_at is None


def test_reminders_every_x_minutes_at_most_y_times() -> None:
    a = Assignment(check_id=1, channel_id=7, reminder_every_minutes=60, reminder_max=2)
    d = step(a, [DOWN], T0)
    assert kinds(d) == ["down"] and d.assignment.next_reminder_at == T0 + 60 * MIN
    sent = []
    now = T0
    for _ in range(6 * 60):
        now += MIN
        d = step(d.assignment, [], now)
        sent += [(k, now) for k in kinds(d)]
    assert sent == [("reminder", T0 + 60 * MIN), ("reminder", T0 + 120 * MIN)]
    assert d.assignment.next_reminder_at is None


def test_no_recovery_alert_when_the_channel_opts_out() -> None:
    a = Assignment(check_id=1, channel_id=7, notify_on_recovery=False)
    d = step(a, [DOWN], T0)
    d = step(d.assignment, [UP], T0 + MIN, down=False, failures=0)
    assert kinds(d) == []


def test_inside_maintenance_nothing_is_sent_and_the_alert_waits_for_the_end() -> None:
    a = Assignment(check_id=1, channel_id=7)
    end = T0 + 45 * MIN
    d = step(a, [DOWN], T0, maintenance_end=end)
    assert kinds(d) == [] and d.assignment.next_reminder_at == end
    d = step(d.assignment, [], end)
    assert kinds(d) == ["down"] and d.notices[0].flip_id == 10


def test_a_recovery_owed_from_before_the_window_is_sent_when_it_ends() -> None:
    a = Assignment(check_id=1, channel_id=7)
    d = step(a, [DOWN], T0)
    end = T0 + 60 * MIN
    d = step(d.assignment, [UP], T0 + 30 * MIN, down=False, failures=0, maintenance_end=end)
    assert kinds(d) == [] and d.assignment.next_reminder_at == end
    d = step(d.assignment, [], end, down=False, failures=0)
    assert kinds(d) == ["up"] and d.notices[0].flip_id == 11


def test_a_new_down_period_resets_the_reminder_count() -> None:
    a = Assignment(check_id=1, channel_id=7, reminder_every_minutes=1, reminder_max=1)
    d = step(a, [DOWN], T0)
    d = step(d.assignment, [], T0 + MIN)
    assert kinds(d) == ["reminder"]
    again = Flip(1, T0 + 3 * MIN, Status.UP, Status.DOWN, FlipReason.FAILED, id=12)
    d = step(d.assignment, [UP, again], T0 + 3 * MIN)
    assert kinds(d) == ["up", "down"]
    assert d.notices[1].reason is FlipReason.FAILED
    assert d.assignment.reminders_sent == 0


def test_a_recurring_window_opens_on_its_local_schedule() -> None:
    # Saturdays 02:00-04:00 in Riga (UTC+2 in winter, UTC+3 in summer).
    w = MaintenanceWindow(id=1, schedule="0 2 * * 6", duration=7200, tz="Europe/Riga")
    winter = datetime(2026, 1, 3, 0, 30, tzinfo=UTC)  # Saturday 02:30 in Riga
    assert w.open_until(winter) == datetime(2026, 1, 3, 2, 0, tzinfo=UTC)
    assert w.open_until(winter - timedelta(hours=1)) is None
    summer = datetime(2026, 7, 4, 23, 30, tzinfo=UTC) - timedelta(days=1)  # Sat 02:30
    assert w.open_until(summer) == datetime(2026, 7, 4, 1, 0, tzinfo=UTC)
    assert w.open_until(datetime(2026, 1, 5, 0, 30, tzinfo=UTC)) is None  # Monday


def test_chained_windows_are_followed_to_their_common_end() -> None:
    a = MaintenanceWindow(id=1, starts_at=T0, ends_at=T0 + 30 * MIN)
    b = MaintenanceWindow(id=2, starts_at=T0 + 20 * MIN, ends_at=T0 + 90 * MIN)
    assert maintenance_until([a, b], T0 + 5 * MIN) == T0 + 90 * MIN
    assert maintenance_until([a, b], T0 + 95 * MIN) is None
    assert maintenance_until([a], T0 + 30 * MIN) is None  # the end is exclusive


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"starts_at": None, "ends_at": None, "schedule": "", "duration": 0}, "starts_at"),
        ({"starts_at": T0, "ends_at": T0, "schedule": "", "duration": 0}, "ends_at"),
        ({"starts_at": None, "ends_at": None, "schedule": "0 2 * *", "duration": 60}, "schedule"),
        ({"starts_at": None, "ends_at": None, "schedule": "0 2 * * *", "duration": 5}, "duration"),
    ],
)
def test_window_validation_names_the_field(kwargs: dict, field: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput) as err:
        validate_window(tz="UTC", **kwargs)
    assert err.value.field == field


def settings(failures: int, down_minutes: int, every: int, most: int) -> dict[str, object]:
    return {
        "after_failures": failures,
        "after_down_minutes": down_minutes,
        "reminder_every_minutes": every,
        "reminder_max": most,
    }


def test_assignment_settings_validation_names_the_field() -> None:
    validate_assignment_settings(settings(1, 0, 0, 0))
    with pytest.raises(InvalidInput) as err:
        validate_assignment_settings(settings(0, 0, 0, 0))
    assert err.value.field == "after_failures"
    with pytest.raises(InvalidInput) as err:
        validate_assignment_settings(settings(1, 0, 0, 3))
    assert err.value.field == "reminder_every_minutes"


def test_a_failure_that_recovers_before_any_pass_still_alerts_down_then_up() -> None:
    # A failed run and a good one seconds later, both seen by one analyzer pass:
    # Healthchecks (and so the defaults) tell about the failure, then the recovery.
    failed = Flip(1, T0, Status.UP, Status.DOWN, FlipReason.FAILED, id=20)
    back = Flip(1, T0 + timedelta(seconds=3), Status.DOWN, Status.UP, FlipReason.RECOVERED, id=21)
    d = step(Assignment(check_id=1, channel_id=7), [failed, back], T0 + 5 * MIN, down=False)
    assert [(n.kind.value, n.flip_id, n.reason) for n in d.notices] == [
        ("down", 20, FlipReason.FAILED),
        ("up", 21, FlipReason.RECOVERED),
    ]
    assert d.assignment.down_flip_id is None and d.assignment.next_reminder_at is None


def test_a_short_failure_stays_quiet_when_the_rule_asks_for_more_failures_or_minutes() -> None:
    failed = Flip(1, T0, Status.UP, Status.DOWN, FlipReason.FAILED, id=20)
    back = Flip(1, T0 + 2 * MIN, Status.DOWN, Status.UP, FlipReason.RECOVERED, id=21)
    for a in (
        Assignment(check_id=1, channel_id=7, after_failures=2),
        Assignment(check_id=1, channel_id=7, after_down_minutes=5),
    ):
        assert kinds(step(a, [failed, back], T0 + 3 * MIN, down=False, failures=0)) == []


def test_a_short_failure_inside_maintenance_sends_nothing() -> None:
    failed = Flip(1, T0, Status.UP, Status.DOWN, FlipReason.FAILED, id=20)
    back = Flip(1, T0 + MIN, Status.DOWN, Status.UP, FlipReason.RECOVERED, id=21)
    a = Assignment(check_id=1, channel_id=7)
    d = step(a, [failed, back], T0 + 2 * MIN, down=False, maintenance_end=T0 + 60 * MIN)
    assert kinds(d) == []
