"""Alert events and notifier contexts shared by the alerting tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from srvpulse.domain.model import AlertEvent, FlipReason, Status

CHECK_UUID = "5b2f0c64-6a8e-4c1f-9a52-0f3c1d2e4b6a"
ROUTING_KEY = "R0123456789abcdef0123456789abcde"


def down_event(**changes: Any) -> AlertEvent:
    base: dict[str, Any] = {
        "flip_id": 41,
        "channel_id": 7,
        "check_uuid": CHECK_UUID,
        "check_name": "nightly-backup",
        "project_id": 1,
        "status": Status.DOWN,
        "reason": FlipReason.LATE,
        "created": datetime(2026, 11, 25, 3, 12, tzinfo=UTC),
        "last_ping": datetime(2026, 11, 24, 3, 0, 5, tzinfo=UTC),
        "last_ping_summary": "backup of db1 finished, 3.2 GB",
        "check_url": f"https://srvpulse.test/checks/{CHECK_UUID}/",
        "extra": {"late_by_seconds": "720"},
    }
    base.update(changes)
    return AlertEvent(**base)


def up_event(**changes: Any) -> AlertEvent:
    changes.setdefault("flip_id", 42)
    changes.setdefault("status", Status.UP)
    changes.setdefault("reason", FlipReason.RECOVERED)
    changes.setdefault("extra", {})
    return down_event(**changes)


def reminder_event(**changes: Any) -> AlertEvent:
    changes.setdefault("flip_id", 41)
    changes.setdefault("is_reminder", True)
    return down_event(**changes)
