"""Everything the dashboard's check page shows, in one call: the check, its last pings,
its flips, every notification about it (each delivery's result), the channels assigned
to it with their first-alert and reminder settings, and the maintenance windows that
apply to it (its own and the project-wide ones).

Composed from the check, channel and maintenance use cases, so each part is what its
own route answers; each part is read in its own short transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..domain.delivery import ChannelRow, NotificationRecord
from ..domain.model import Flip
from ..ports import ChannelStore, CheckStore, MaintenanceStore, StoredPing
from . import channels, checks, maintenance


@dataclass(frozen=True, slots=True)
class Assignment:
    """A channel assigned to the check and the assignment's settings."""

    channel: ChannelRow
    settings: dict[str, object]


@dataclass(frozen=True, slots=True)
class CheckSummary:
    view: checks.CheckView
    pings: list[StoredPing]  # newest first
    flips: list[Flip]  # newest first
    notifications: list[NotificationRecord]  # newest first
    assignments: list[Assignment]
    windows: list[maintenance.WindowView]


def check_summary(
    check_store: CheckStore,
    channel_store: ChannelStore,
    maintenance_store: MaintenanceStore,
    project_id: int,
    key: str,
    now: datetime,
    *,
    pings: int,
    flips: int,
    notifications: int,
) -> CheckSummary:
    """The check addressed by ``key`` (uuid, or unique_key for read-only callers) and
    what surrounds it; NotFound when the project has no such check."""
    view = checks.get_check(check_store, project_id, key)
    check_uuid = view.check.uuid
    _, found_pings = checks.list_pings(check_store, project_id, check_uuid, pings)
    found_flips = checks.list_flips(
        check_store, project_id, check_uuid, start=None, end=None, limit=flips
    )
    sent = channels.notifications_for_check(channel_store, project_id, check_uuid, notifications)
    by_uuid = {row.uuid: row for row in channels.list_channels(channel_store, project_id)}
    assigned = [
        Assignment(by_uuid[str(a["uuid"])], {k: v for k, v in a.items() if k != "uuid"})
        for a in channels.assignments(channel_store, project_id, check_uuid)
        if str(a["uuid"]) in by_uuid
    ]
    windows = [
        w
        for w in maintenance.list_windows(maintenance_store, project_id, now)
        if w.check_uuid in (None, check_uuid)
    ]
    return CheckSummary(view, found_pings, found_flips, sent, assigned, windows)
