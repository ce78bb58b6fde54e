"""Schedules: when the next ping of a check is due (pure; ``now`` is a parameter).

Simple: a period (``timeout``) after the last ping. Cron: the next time the crontab
expression fires after the last ping, evaluated in the check's IANA time zone. Both are
followed by ``grace`` before the check is late.

Daylight-saving time follows Debian cron (as cronsim implements it), which is what
users' crontabs already do:

- an expression with a fixed minute AND a fixed hour (``30 2 * * *``) is wall-clock
  time: it fires once per matching local day. If that wall-clock time does not exist
  (spring forward) it fires at the first real minute after the gap; if it exists twice
  (fall back) it fires only at the first occurrence.
- any other expression (``*/15 * * * *``, ``0 * * * *``) is real time: it fires at every
  instant whose local wall-clock time matches, so an hour that repeats runs twice and an
  hour that does not exist does not run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from zoneinfo import TZPATH, ZoneInfo, ZoneInfoNotFoundError, available_timezones

from cronsim import CronSim, CronSimError
from oncalendar import OnCalendar, OnCalendarError

from ..errors import InvalidInput
from .model import Check, ScheduleKind, Status, utc

MIN_TIMEOUT = 60  # seconds
MAX_TIMEOUT = 365 * 24 * 3600
MIN_GRACE = 60
MAX_GRACE = 365 * 24 * 3600

CRON_FIELDS = ("minute", "hour", "day-of-month", "month", "day-of-week")
_FIELD_RANGES = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT")


def validate_tz(tz: str, field: str = "tz") -> ZoneInfo:
    if tz not in _zones():
        raise InvalidInput(f"{field}: unknown time zone {tz!r} (use an IANA name)", field)
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"{field}: unknown time zone {tz!r}", field) from exc


def canonical_tz(tz: str, field: str = "tz") -> str:
    """``tz`` validated, with a legacy name replaced by its current one, as Healthchecks
    does ("Europe/Kiev" -> "Europe/Kyiv", "Asia/Calcutta" -> "Asia/Kolkata",
    "US/Eastern" -> "America/New_York"). Legacy = an IANA backward-compatibility link
    with a "/" in its name that zone.tab does not list; "UTC" and "GMT" stay as given."""
    validate_tz(tz, field)
    return _legacy_names().get(tz, tz)


def validate_cron(expr: str, field: str = "schedule") -> str:
    """Return the normalised expression or raise InvalidInput saying what is wrong:
    the number of fields, or which field (minute, hour, ...) is bad and its range."""
    text = " ".join(expr.split())
    parts = text.split(" ") if text else []
    if len(parts) != 5:
        raise InvalidInput(
            f"{field}: a crontab expression has 5 fields (minute hour day-of-month month "
            f"day-of-week), got {len(parts)}",
            field,
        )
    # Check the fields one at a time so the message names the one that is wrong.
    for i, (name, allowed) in enumerate(zip(CRON_FIELDS, _FIELD_RANGES, strict=True)):
        probe = ["*"] * 5
        probe[i] = parts[i]
        try:
            CronSim(" ".join(probe), datetime(2000, 1, 1))
        except CronSimError as exc:
            raise InvalidInput(
                f"{field}: bad {name} field {parts[i]!r} (allowed: {allowed}, lists, "
                f"ranges and steps)",
                field,
            ) from exc
    try:
        sim = CronSim(text, datetime(2000, 1, 1))
    except CronSimError as exc:  # fields fine alone, impossible together (31 2 *)
        raise InvalidInput(f"{field}: this day-of-month never occurs in that month", field) from exc
    try:
        next(sim)
    except StopIteration as exc:
        raise InvalidInput(f"{field}: this expression never fires", field) from exc
    return text


def schedule_kind(schedule: str) -> ScheduleKind:
    """Healthchecks' rule: one line of 5 fields is cron, anything else OnCalendar."""
    text = schedule.strip()
    if "\n" not in text and len(text.split()) == 5:
        return ScheduleKind.CRON
    return ScheduleKind.ONCALENDAR


def validate_oncalendar(expr: str, field: str = "schedule") -> str:
    """One or more systemd OnCalendar expressions (one a line, each may end with a time
    zone), as Healthchecks accepts them; InvalidInput when one does not parse or never
    fires."""
    text = "\n".join(line.strip() for line in expr.strip().splitlines() if line.strip())
    try:
        next(OnCalendar(text, datetime(2000, 1, 1, tzinfo=UTC)))
    except (OnCalendarError, StopIteration) as exc:
        raise InvalidInput(f"{field}: not a valid cron or OnCalendar expression", field) from exc
    return text


def next_oncalendar_fire(expr: str, tz: str, after: datetime) -> datetime:
    """The first time ``expr`` fires strictly after ``after``, in UTC (systemd's DST
    rules: a wall-clock time that does not exist is skipped, a repeated one fires twice)."""
    return utc(next(OnCalendar(expr, utc(after).astimezone(ZoneInfo(tz)))))


def validate_schedule(
    kind: ScheduleKind | str,
    timeout: int,
    grace: int,
    schedule: str,
    tz: str,
) -> tuple[ScheduleKind, str]:
    """Validate a check's schedule settings; returns (kind, normalised cron expression).
    Every error names its field (timeout, grace, schedule, tz)."""
    try:
        k = ScheduleKind(kind)
    except ValueError as exc:
        raise InvalidInput("kind: must be 'simple', 'cron' or 'oncalendar'", "kind") from exc
    _range("timeout", timeout, MIN_TIMEOUT, MAX_TIMEOUT)
    _range("grace", grace, MIN_GRACE, MAX_GRACE)
    validate_tz(tz)
    expr = schedule
    if k is ScheduleKind.CRON:
        expr = validate_cron(schedule)
    elif k is ScheduleKind.ONCALENDAR:
        expr = validate_oncalendar(schedule)
    return k, expr


def _range(field: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field}: must be a whole number of seconds, {low}..{high}", field)


def next_cron_fire(expr: str, tz: str, after: datetime) -> datetime:
    """The first time ``expr`` fires strictly after ``after``, in UTC."""
    zone = ZoneInfo(tz)
    after = utc(after)
    parts = expr.split()
    if tz != "UTC" and (parts[0].startswith("*") or parts[1].startswith("*")):
        return _next_real_time_fire(expr, zone, after)
    local = after.astimezone(zone)
    # cronsim iterates fixed-time expressions on the naive wall clock, so an ``after``
    # in the second pass of a repeated hour can yield the first pass (earlier in real
    # time): skip anything not strictly later.
    for fire in CronSim(expr, local):
        fire_utc = utc(fire)
        if fire_utc > after:
            return fire_utc
    raise ValueError(f"{expr!r} never fires")  # validate_cron rejects these


def next_cron_fires(expr: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` times ``expr`` fires in ``tz`` strictly after ``after`` (UTC),
    after validating both (InvalidInput names the bad one): the schedule preview the
    dashboard shows while a cron check is edited."""
    text = validate_cron(expr)
    validate_tz(tz)
    fires: list[datetime] = []
    at = utc(after)
    for _ in range(count):
        at = next_cron_fire(text, tz, at)
        fires.append(at)
    return fires


def _next_real_time_fire(expr: str, zone: ZoneInfo, after: datetime) -> datetime:
    """Real-time expressions in a zone with DST, day by day: every instant whose local
    wall-clock time matches. cronsim 2.8 steps whole hours from the local time and so
    skips fires across a shift that is not a whole hour (Australia/Lord_Howe moves by
    30 minutes; tests/unit/test_schedule_properties.py found it); its field parsing and
    day matching are used as they are."""
    sim = CronSim(expr, datetime(2000, 1, 1))
    hours, minutes = sorted(sim.hours), sorted(sim.minutes)
    local_after = after.astimezone(zone)
    day = local_after.date()
    for _ in range(366 * 60):
        if day.month in sim.months and sim.match_day(day):
            fires: list[datetime] = []
            first_hour: int | None = None
            for h in hours:
                # No DST shift exceeds 2 hours: wall-clock hours more than 2 before
                # ``after`` are gone, and more than 2 after the first found fire are later.
                if day == local_after.date() and h < local_after.hour - 2:
                    continue
                if first_hour is not None and h > first_hour + 2:
                    break
                for m in minutes:
                    wall = datetime(day.year, day.month, day.day, h, m)
                    for fold in (0, 1):
                        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(UTC)
                        real = instant.astimezone(zone).replace(tzinfo=None) == wall
                        if real and instant > after:
                            fires.append(instant)
                            first_hour = h if first_hour is None else first_hour
            if fires:
                return min(fires)
        day += timedelta(days=1)
    raise ValueError(f"{expr!r} never fires")


def next_expected_after(check: Check, after: datetime) -> datetime:
    """When the next ping is expected after ``after`` (a ping, or a missed run)."""
    if check.kind is ScheduleKind.CRON:
        return next_cron_fire(check.schedule, check.tz, after)
    if check.kind is ScheduleKind.ONCALENDAR:
        return next_oncalendar_fire(check.schedule, check.tz, after)
    return after + timedelta(seconds=check.timeout)


def next_expected_ping(check: Check) -> datetime | None:
    """When the next ping is expected (before grace), or None for a check that has
    never been pinged (new) or is paused. While the check is down and has missed runs,
    this is the run after the last missed one."""
    if check.status in (Status.NEW, Status.PAUSED):
        return None
    ref = check.missed_deadline or check.last_ping
    if ref is None:
        return None
    return next_expected_after(check, ref)


_ZONES: frozenset[str] | None = None


_LEGACY: dict[str, str] | None = None


def _tzdata_file(name: str) -> str:
    """A file of the IANA database, from where zoneinfo reads it: the system's
    TZPATH first, then the ``tzdata`` package (what Lambda has)."""
    for base in TZPATH:
        path = Path(base) / name
        if path.is_file():
            return path.read_text()
    try:
        return resources.files("tzdata.zoneinfo").joinpath(name).read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        return ""


def _legacy_names() -> dict[str, str]:
    global _LEGACY
    if _LEGACY is None:
        listed = {
            line.split("\t")[2]
            for line in _tzdata_file("zone.tab").splitlines()
            if line and not line.startswith("#") and line.count("\t") >= 2
        }
        links: dict[str, str] = {}
        for line in _tzdata_file("tzdata.zi").splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "L" and "/" in parts[2]:
                target, link = parts[1], parts[2]
                if link not in listed and not link.startswith("Etc/"):
                    links[link] = target
        _LEGACY = links
    return _LEGACY


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones()) | {"UTC"}
    return _ZONES
