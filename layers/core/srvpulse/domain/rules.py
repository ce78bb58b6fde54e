"""Alert rules per channel assignment, and maintenance windows (pure; ``now`` a parameter).

A check's flips say what happened; the rules here say, for each channel assigned to the
check, which alerts to send and when to look again:

- first alert of a down period only once the check has ``after_failures`` consecutive
  failures AND has been down ``after_down_minutes`` (defaults 1 and 0: at once, as in
  Healthchecks);
- reminders every ``reminder_every_minutes`` while down, at most ``reminder_max`` (0 =
  none);
- a recovery alert when the check comes back up, only if the down alert was sent and
  ``notify_on_recovery`` (so a channel never hears "up" about a "down" it never got);
- inside a maintenance window nothing is sent; what became due is looked at again when
  the window ends, against the state at that time (a check that went down and came back
  inside the window sends nothing; a recovery owed from before the window is sent).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from cronsim import CronSim

from ..errors import InvalidInput
from .model import Flip, FlipReason, Status, replaced, utc
from .schedule import validate_cron, validate_tz

MAX_AFTER_FAILURES = 100  # = status.MAX_COUNTED_FAILURES
MAX_WINDOW_SECONDS = 31 * 24 * 3600
# More than any DST shift (2 hours at most; Lord Howe moves by 30 minutes).
_MAX_SHIFT = timedelta(hours=3)


class NoticeKind(StrEnum):
    DOWN = "down"
    UP = "up"
    REMINDER = "reminder"


@dataclass(frozen=True, slots=True)
class Assignment:
    """A channel assigned to a check: its settings and its alerting state (one
    ``check_channels`` row). Defaults reproduce plain Healthchecks behaviour."""

    check_id: int
    channel_id: int
    channel_kind: str = ""
    after_failures: int = 1
    after_down_minutes: int = 0
    reminder_every_minutes: int = 0
    reminder_max: int = 0
    notify_on_recovery: bool = True
    anomaly_alerts: bool = True  # pattern detection's alerts go to this channel too
    # state of the current down period
    down_flip_id: int | None = None  # the flip that opened it; its alerts attach to it
    down_since: datetime | None = None
    down_reason: str = ""  # late / failed / too long / too short
    down_alert_sent_at: datetime | None = None
    reminders_sent: int = 0
    recovery_flip_id: int | None = None  # a recovery alert owed (held by maintenance)
    next_reminder_at: datetime | None = None  # when the rules must look at it again


@dataclass(frozen=True, slots=True)
class Notice:
    """An alert the rules want sent on one channel. ``flip_id`` None = a reminder, to be
    attached to a reminder flip the caller creates."""

    channel_id: int
    kind: NoticeKind
    flip_id: int | None
    reason: FlipReason


@dataclass(frozen=True, slots=True)
class MaintenanceWindow:
    """No alerts while it is open. One-off: ``starts_at``..``ends_at``. Recurring: opens
    whenever the 5-field cron ``schedule`` fires in ``tz``, for ``duration`` seconds."""

    id: int
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    schedule: str = ""
    duration: int = 0
    tz: str = "UTC"
    check_id: int | None = None  # None: every check of the project
    project_id: int = 0
    uuid: str = ""
    name: str = ""

    @property
    def recurring(self) -> bool:
        return bool(self.schedule)

    def open_until(self, now: datetime) -> datetime | None:
        """If the window is open at ``now``, when it closes; else None."""
        now = utc(now)
        if not self.recurring:
            if self.starts_at and self.ends_at and self.starts_at <= now < self.ends_at:
                return self.ends_at
            return None
        opened = self._last_opening(now)
        if opened is None:
            return None
        closes = opened + timedelta(seconds=self.duration)
        return closes if opened <= now < closes else None

    def _last_opening(self, now: datetime) -> datetime | None:
        """The most recent opening at or before ``now``. Reverse iteration walks the
        local wall clock (and starts strictly before its argument, hence the extra
        second). After a fall-back the wall clock repeats, so during the second pass an
        opening from the first pass looks later than now and is skipped: near a shift,
        start a few hours later and keep the latest opening not after now."""
        zone = ZoneInfo(self.tz)
        shifted = (
            now.astimezone(zone).utcoffset() != (now - _MAX_SHIFT).astimezone(zone).utcoffset()
        )
        probe = now + timedelta(seconds=1) + (_MAX_SHIFT if shifted else timedelta(0))
        latest: datetime | None = None
        for fire in CronSim(self.schedule, probe.astimezone(zone), reverse=True):
            at = utc(fire)
            if at <= now and (latest is None or at > latest):
                latest = at
            if not shifted and latest is not None:
                break
            if at < now - _MAX_SHIFT:
                break  # wall clock and real time differ by less than that
        return latest


def maintenance_until(windows: Iterable[MaintenanceWindow], now: datetime) -> datetime | None:
    """When maintenance ends if ``now`` is inside any window (chained and overlapping
    windows are followed to their common end), else None."""
    ws = list(windows)
    end: datetime | None = None
    at = utc(now)
    for _ in range(len(ws) + 1):
        ends = [e for w in ws if (e := w.open_until(at)) is not None]
        if not ends:
            break
        latest = max(ends)
        if end is not None and latest <= end:
            break
        end = at = latest
    return end


def validate_window(
    *,
    starts_at: datetime | None,
    ends_at: datetime | None,
    schedule: str,
    duration: int,
    tz: str,
) -> str:
    """Validate a window's settings (errors name the field); returns the schedule."""
    validate_tz(tz)
    if schedule:
        expr = validate_cron(schedule)
        if not 60 <= duration <= MAX_WINDOW_SECONDS:
            raise InvalidInput(
                f"duration: must be 60..{MAX_WINDOW_SECONDS} seconds for a recurring window",
                "duration",
            )
        return expr
    if starts_at is None:
        raise InvalidInput(
            "starts_at: required for a one-off window (or give a schedule)", "starts_at"
        )
    if ends_at is None:
        raise InvalidInput("ends_at: required for a one-off window", "ends_at")
    if ends_at <= starts_at:
        raise InvalidInput("ends_at: must be after starts_at", "ends_at")
    return ""


# Per-assignment settings and their allowed ranges: the one place the API validates
# with. after_failures stops at what the status machine counts (MAX_AFTER_FAILURES): a
# larger value could never be reached.
ASSIGNMENT_LIMITS: dict[str, tuple[int, int]] = {
    "after_failures": (1, MAX_AFTER_FAILURES),
    "after_down_minutes": (0, 30 * 24 * 60),
    "reminder_every_minutes": (0, 30 * 24 * 60),
    "reminder_max": (0, 1000),
}


def validate_assignment_settings(settings: Mapping[str, object]) -> None:
    """Settings of a check-channel assignment (untrusted values, e.g. a request's JSON);
    errors name the field."""
    for name, (low, high) in ASSIGNMENT_LIMITS.items():
        value = settings[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise InvalidInput(f"{name}: must be a whole number, {low}..{high}", name)
    if settings["reminder_max"] != 0 and settings["reminder_every_minutes"] == 0:
        raise InvalidInput(
            "reminder_every_minutes: needed when reminder_max is above 0",
            "reminder_every_minutes",
        )


@dataclass(frozen=True, slots=True)
class Decision:
    assignment: Assignment
    notices: tuple[Notice, ...]


def _was_due(a: Assignment, down_since: datetime, ended: datetime) -> bool:
    """Whether a down period from ``down_since`` to ``ended`` met the assignment's
    first-alert conditions. The failure count then is known only to have been at least
    one (the flip), so a rule asking for more failures was not met."""
    return a.after_failures <= 1 and ended >= down_since + timedelta(minutes=a.after_down_minutes)


def decide(
    a: Assignment,
    flips: Sequence[Flip],
    *,
    check_down: bool,
    failures: int,
    now: datetime,
    maintenance_end: datetime | None,
) -> Decision:
    """Apply new ``flips`` (oldest first, with ids) to one assignment, then look at the
    clock. ``failures`` is the check's consecutive failure count now, ``check_down``
    whether it is down now. Returns the new assignment state (``next_reminder_at`` =
    when to look again) and the alerts to send now."""
    now = utc(now)
    notices: list[Notice] = []
    held = maintenance_end is not None and maintenance_end > now
    for flip in flips:
        if flip.id is None or flip.old_status is flip.new_status:
            continue  # reminder flips are the rules' own output
        if flip.new_status is Status.DOWN:
            # A new down period; a recovery still owed for the previous one is moot.
            a = replaced(
                a,
                down_flip_id=flip.id,
                down_since=flip.created,
                down_reason=flip.reason.value,
                down_alert_sent_at=None,
                reminders_sent=0,
                recovery_flip_id=None,
            )
        elif flip.old_status is Status.DOWN or a.down_flip_id is not None:
            if (
                a.down_alert_sent_at is None
                and a.down_flip_id is not None
                and a.down_since is not None
                and _was_due(a, a.down_since, flip.created)
                and not held
            ):
                # The check was down long enough to alert and recovered before a pass
                # saw it (a failed run, then a good one seconds later): the failure is
                # still news. Sent as it would have been, then the recovery.
                reason = FlipReason(a.down_reason or FlipReason.FAILED.value)
                notices.append(Notice(a.channel_id, NoticeKind.DOWN, a.down_flip_id, reason))
                a = replaced(a, down_alert_sent_at=now)
            owed = a.down_alert_sent_at is not None and a.notify_on_recovery
            owed = owed and flip.new_status is Status.UP
            if owed and not held:
                notices.append(Notice(a.channel_id, NoticeKind.UP, flip.id, flip.reason))
            a = replaced(
                a,
                down_flip_id=None,
                down_since=None,
                down_reason="",
                down_alert_sent_at=None,
                reminders_sent=0,
                recovery_flip_id=flip.id if owed and held else None,
            )

    if held:
        # Nothing goes out inside the window: look again when it closes.
        pending = a.recovery_flip_id is not None or a.down_flip_id is not None
        return Decision(
            replaced(a, next_reminder_at=maintenance_end if pending else None), tuple(notices)
        )

    if a.recovery_flip_id is not None:
        if not check_down:
            notices.append(
                Notice(a.channel_id, NoticeKind.UP, a.recovery_flip_id, FlipReason.RECOVERED)
            )
        a = replaced(a, recovery_flip_id=None)

    next_at: datetime | None = None
    if a.down_flip_id is not None and a.down_since is not None and check_down:
        every = timedelta(minutes=a.reminder_every_minutes)
        reminders_left = a.reminder_every_minutes > 0 and a.reminders_sent < a.reminder_max
        if a.down_alert_sent_at is None:
            if failures >= a.after_failures:
                due = a.down_since + timedelta(minutes=a.after_down_minutes)
                if now >= due:
                    reason = FlipReason(a.down_reason or FlipReason.FAILED.value)
                    notices.append(Notice(a.channel_id, NoticeKind.DOWN, a.down_flip_id, reason))
                    a = replaced(a, down_alert_sent_at=now)
                    next_at = now + every if reminders_left else None
                else:
                    next_at = due
            # else: more failures are needed; a ping or a missed run wakes the check.
        elif reminders_left:
            due = a.next_reminder_at or (a.down_alert_sent_at + every)
            if now >= due:
                notices.append(Notice(a.channel_id, NoticeKind.REMINDER, None, FlipReason.REMINDER))
                a = replaced(a, reminders_sent=a.reminders_sent + 1)
                more = a.reminders_sent < a.reminder_max
                next_at = now + every if more else None
            else:
                next_at = due
    if a.next_reminder_at != next_at:
        a = replaced(a, next_reminder_at=next_at)
    return Decision(a, tuple(notices))
