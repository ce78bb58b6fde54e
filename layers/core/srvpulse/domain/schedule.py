"""Schedules: when the next ping of a check is due (pure; ``now`` is a parameter).

Simple: a period (``timeout``) after the last ping. Cron: the next time the crontab
expression fires after the last ping, evaluated in the check's IANA time zone. Both are
followed by ``grace`` before the check is late.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError

from ..errors import InvalidInput
from .model import Check, ScheduleKind, utc

MIN_TIMEOUT = 60  # seconds
MAX_TIMEOUT = 365 * 24 * 3600
MIN_GRACE = 60
MAX_GRACE = 365 * 24 * 3600


def validate_tz(tz: str, field: str = "tz") -> ZoneInfo:
    if tz not in _zones():
        raise InvalidInput(f"{field}: unknown time zone {tz!r} (use an IANA name)", field)
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{field}: unknown time zone {tz!r}", field) from exc


def validate_cron(expr: str, field: str = "schedule") -> str:
    """Return the normalised expression or raise InvalidInput saying what is wrong."""
    text = " ".join(expr.split())
    if len(text.split(" ")) != 5:
        raise InvalidInput(
            f"{field}: a crontab expression has 5 fields (minute hour day month weekday), "
            f"got {len(text.split(' ')) if text else 0}",
            field,
        )
    try:
        CronSim(text, datetime(2000, 1, 1))
    except CronSimError as exc:
        raise InvalidInput(f"{field}: {exc}", field) from exc
    return text


def next_cron_fire(expr: str, tz: str, after: datetime) -> datetime:
    """The first time ``expr`` fires strictly after ``after``, in UTC."""
    zone = ZoneInfo(tz)
    local = utc(after).astimezone(zone)
    fire = next(CronSim(expr, local))
    return utc(fire)


def next_expected_ping(check: Check) -> datetime | None:
    """When the next ping is expected (before grace), or None for a check that has
    never been pinged (new) or is paused."""
    if check.last_ping is None or check.status.value in ("new", "paused"):
        return None
    if check.kind is ScheduleKind.CRON:
        return next_cron_fire(check.schedule, check.tz, check.last_ping)
    return check.last_ping + timedelta(seconds=check.timeout)


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES
