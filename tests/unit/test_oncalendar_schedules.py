"""OnCalendar schedules (systemd's syntax, as Healthchecks accepts it) next to cron."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from srvpulse.domain.model import Check, ScheduleKind, Status
from srvpulse.domain.schedule import (
    next_expected_ping,
    next_oncalendar_fire,
    schedule_kind,
    validate_oncalendar,
)
from srvpulse.errors import InvalidInput


@pytest.mark.parametrize(
    ("schedule", "kind"),
    [
        ("0 3 * * *", ScheduleKind.CRON),
        ("*-*-* 03:00", ScheduleKind.ONCALENDAR),
        ("Mon..Fri 09:00", ScheduleKind.ONCALENDAR),
        ("daily", ScheduleKind.ONCALENDAR),
        ("0 3 * * *\n0 4 * * *", ScheduleKind.ONCALENDAR),
    ],
)
def test_five_fields_on_one_line_are_cron_anything_else_oncalendar(
    schedule: str, kind: ScheduleKind
) -> None:
    assert schedule_kind(schedule) is kind


def test_an_oncalendar_schedule_fires_in_its_time_zone_and_across_dst() -> None:
    after = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # a Friday
    assert next_oncalendar_fire("Mon..Fri 09:00", "Europe/Riga", after) == datetime(
        2026, 3, 9, 7, 0, tzinfo=UTC
    )
    # New York springs forward on 2026-03-08: 02:30 does not exist that day.
    fire = next_oncalendar_fire(
        "*-*-* 02:30", "America/New_York", datetime(2026, 3, 8, 5, tzinfo=UTC)
    )
    assert fire == datetime(2026, 3, 9, 6, 30, tzinfo=UTC)
    both = "*-*-* 06:00 UTC\n*-*-* 05:00 UTC"
    assert next_oncalendar_fire(both, "UTC", after) == datetime(2026, 3, 7, 5, 0, tzinfo=UTC)


def test_an_oncalendar_check_expects_its_next_ping_at_the_next_fire() -> None:
    check = Check(
        id=1,
        uuid="5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
        project_id=1,
        kind=ScheduleKind.ONCALENDAR,
        schedule="hourly",
        status=Status.UP,
        last_ping=datetime(2026, 3, 6, 12, 10, tzinfo=UTC),
    )
    assert next_expected_ping(check) == datetime(2026, 3, 6, 13, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["Mon..Frii 09:00", "*-*-* 25:00", "1999-01-01 00:00"])
def test_a_bad_or_never_firing_expression_names_the_schedule(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        validate_oncalendar(bad)
    assert info.value.field == "schedule"
