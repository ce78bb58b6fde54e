"""Recurring maintenance windows across DST changes: a window is open exactly when one
of its openings (the times its cron schedule fires, as check schedules fire them) is at
or before now and less than ``duration`` ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cronsim import CronSim
from srvpulse.domain.rules import MaintenanceWindow

MIN = timedelta(minutes=1)


def openings(schedule: str, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """The reference: iterate forward, as the schedule fires for checks."""
    found: list[datetime] = []
    for fire in CronSim(schedule, (start - timedelta(days=2)).astimezone(ZoneInfo(tz))):
        at = fire.astimezone(UTC)
        if at > end:
            return found
        found.append(at)
    return found


@pytest.mark.parametrize(
    ("tz", "schedule", "day"),
    [
        ("America/New_York", "30 1 * * *", datetime(2026, 11, 1, 3, tzinfo=UTC)),  # fall back
        ("America/New_York", "30 2 * * *", datetime(2026, 3, 8, 4, tzinfo=UTC)),  # spring fwd
        ("Europe/Riga", "30 3 * * *", datetime(2026, 10, 25, 0, tzinfo=UTC)),
        ("Australia/Lord_Howe", "45 1 * * *", datetime(2026, 4, 4, 12, tzinfo=UTC)),
        ("Australia/Lord_Howe", "15 2 * * *", datetime(2026, 10, 3, 13, tzinfo=UTC)),
    ],
)
def test_a_recurring_window_stays_open_its_whole_duration_on_dst_change_days(
    tz: str, schedule: str, day: datetime
) -> None:
    window = MaintenanceWindow(id=1, schedule=schedule, duration=3600, tz=tz)
    end = day + timedelta(hours=8)
    opened = openings(schedule, tz, day, end)
    at = day
    while at < end:
        expected = next(
            (o + timedelta(hours=1) for o in reversed(opened) if o <= at < o + timedelta(hours=1)),
            None,
        )
        assert window.open_until(at) == expected, at
        at += 5 * MIN
