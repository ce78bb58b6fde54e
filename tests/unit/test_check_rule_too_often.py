""" "Runs too often" (domain/check_rules/too_often.py): a run that finishes less than
``min_interval`` seconds after the previous one is a failure; off by default."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from srvpulse.domain import check_rules
from srvpulse.domain.delivery import headline
from srvpulse.domain.model import AlertEvent, FlipReason, Status
from srvpulse.errors import InvalidInput

from tests.unit.test_status_machine import Step, run

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_a_second_run_within_the_interval_takes_the_check_down_as_too_often() -> None:
    check, flips = run([(0, "success"), (9.5, "success")], min_interval=600)
    assert check.status is Status.DOWN
    assert flips == [("up", "down", "too often", 9.5)]
    assert check.consecutive_failures == 1


def test_exactly_the_interval_apart_is_fine() -> None:
    check, flips = run([(0, "success"), (10, "success"), (20, "success")], min_interval=600)
    assert check.status is Status.UP and flips == []


def test_without_the_setting_any_interval_is_fine() -> None:
    check, flips = run([(0, "success"), (0.1, "success"), (0.2, "success")])
    assert check.status is Status.UP and flips == []


def test_the_previous_run_counts_even_when_it_failed_and_a_failure_stays_a_failure() -> None:
    _, flips = run([(0, "fail"), (20, "success"), (21, "fail")], min_interval=600)
    # 20 min after the failure is fine (recovered); the failure a minute later is "failed".
    assert flips == [
        ("new", "down", "failed", 0),
        ("down", "up", "recovered", 20),
        ("up", "down", "failed", 21),
    ]
    _, flips = run([(0, "fail"), (1, "success")], min_interval=600)
    assert flips == [("new", "down", "failed", 0)]  # still down: now too often


def test_runs_are_told_apart_by_their_completions_not_their_starts() -> None:
    # Starts 2 minutes apart are fine when the completions are an hour apart.
    steps: list[Step] = [(0, "start@a"), (2, "start@b"), (3, "success@a"), (63, "success@b")]
    check, flips = run(steps, min_interval=1800, grace=7200)
    assert check.status is Status.UP and flips == []


def test_the_alert_says_what_interval_was_expected() -> None:
    check, _ = run([(0, "success"), (1, "success")], min_interval=3600)
    details = check_rules.alert_details("too often", check, T0)
    event = AlertEvent(
        flip_id=1,
        channel_id=1,
        check_uuid="c",
        check_name="report",
        project_id=1,
        status=Status.DOWN,
        reason=FlipReason.TOO_OFTEN,
        created=T0,
        extra=details,
    )
    assert headline(event) == "DOWN: report (ran too often (less than 1 h after the previous run))"


@pytest.mark.parametrize("bad", [0, -5, 366 * 86400, True, "600"])
def test_a_bad_interval_is_refused_naming_the_field(bad: object) -> None:
    with pytest.raises(InvalidInput) as err:
        check_rules.update_settings({}, {"min_interval": bad})
    assert err.value.field == "min_interval"
