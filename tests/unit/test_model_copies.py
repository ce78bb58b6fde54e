"""``model.replaced``, the domain's fast ``dataclasses.replace``: the same copy."""

from __future__ import annotations

import dataclasses
import json
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


_TEXTS = [
    "",
    'say "hi"\\ \n\t\x00\x1f\x7f',
    "caf\u00e9 \u2028 \U0001f600",
    "lone \ud83d",
    "</script>",
]


@pytest.mark.parametrize("text", _TEXTS)
@pytest.mark.parametrize("anomaly_id", [None, 0, 12])
def test_an_alert_event_is_the_text_json_dumps_gives(text: str, anomaly_id: int | None) -> None:
    # AlertEvent.to_json writes the JSON out field by field (for speed): the same text.
    event = AlertEvent(
        flip_id=2**40,
        channel_id=3,
        check_uuid=text,
        check_name=text,
        project_id=-1,
        status=Status.DOWN,
        reason=FlipReason.TOO_LONG,
        created=datetime(2026, 3, 2, 12, 0, 0, 5, tzinfo=UTC),
        is_reminder=anomaly_id is None,
        last_ping=None if anomaly_id else T0,
        last_ping_summary=text or None,
        check_url=text,
        extra={} if anomaly_id == 0 else {"late_by_seconds": "60", text: text},
        channel_kind=text,
        anomaly_id=anomaly_id,
        anomaly_kind=text,
    )
    assert event.to_json() == event._to_json_dumps()
    assert list(json.loads(event.to_json())) == [f.name for f in dataclasses.fields(AlertEvent)]
    assert AlertEvent.from_json(event.to_json()) == event


def test_an_alert_event_of_other_value_types_goes_through_json_dumps() -> None:
    # Not what the analyzer builds (ints and texts), still the same text as before.
    event = AlertEvent(True, 2, "u", "n", 1, Status.UP, FlipReason.RECOVERED, T0, extra={"n": 3})  # type: ignore[arg-type, dict-item]
    assert event.to_json() == event._to_json_dumps()
    assert json.loads(event.to_json())["extra"] == {"n": 3}


def test_an_alert_event_with_a_text_field_of_another_type_goes_through_json_dumps() -> None:
    event = AlertEvent(1, 2, "u", None, 1, Status.UP, FlipReason.RECOVERED, T0)  # type: ignore[arg-type]
    assert event.to_json() == event._to_json_dumps()
    assert json.loads(event.to_json())["check_name"] is None
