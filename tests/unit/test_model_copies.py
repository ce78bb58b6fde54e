"""``model.replaced``, the domain's fast ``dataclasses.replace``: the same copy."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from srvpulse.domain.model import AlertEvent, Check, FlipReason, Status, replaced
from srvpulse.domain.rules import Assignment

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def test_replaced_is_dataclasses_replace() -> None:
    check = Check(id=7, uuid="u", project_id=1, name="backup", last_ping=T0, version=3)
    for changes in ({}, {"name": "x"}, {"status": Status.DOWN, "alert_after": None}):
        assert replaced(check, **changes) == dataclasses.replace(check, **changes)
    moved = check.with_changes(consecutive_failures=2, created=T0)
    assert (moved.consecutive_failures, moved.created, moved.version) == (2, T0, 3)
    assert check.consecutive_failures == 0  # the original is untouched
    a = Assignment(check_id=7, channel_id=2, reminder_max=3)
    assert replaced(a, reminders_sent=1) == dataclasses.replace(a, reminders_sent=1)


def test_replaced_refuses_an_unknown_field() -> None:
    event = AlertEvent(1, 2, "u", "n", 1, Status.DOWN, FlipReason.LATE, T0)
    with pytest.raises(TypeError, match="no field 'colour'"):
        replaced(event, colour="red")
