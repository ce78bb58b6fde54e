"""Cron schedules against a reference iteration written from the rules, not from cronsim:
day by day in the check's time zone, DST gaps and overlaps and leap days included.

The rules (Debian cron, documented in domain/schedule.py):
- fixed minute AND fixed hour: wall-clock time, once per matching local day; a time in
  a DST gap fires at the first real minute after the gap, a repeated time fires once
  (first occurrence);
- anything else: every real minute whose local wall-clock time matches.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from srvpulse.domain.schedule import next_cron_fire, validate_cron
from srvpulse.errors import InvalidInput

ZONES = ["Europe/Riga", "America/New_York", "Australia/Lord_Howe", "UTC"]
# Transition days (local dates) of 2026 for the zones under test.
TRANSITIONS = {
    "Europe/Riga": [date(2026, 3, 29), date(2026, 10, 25)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],
    "UTC": [date(2028, 2, 29)],
}


def _expand(field: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in field.split(","):
        step = 1
        if "/" in part:
            part, step_s = part.split("/")
            step = int(step_s)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-")
            start, end = int(a), int(b)
        else:
            start = end = int(part)
            if step != 1:
                end = high
        values.update(range(start, end + 1, step))
    return values


def _exists(naive: datetime, zone: ZoneInfo) -> bool:
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def reference_fires(expr: str, tz: str, after: datetime, count: int) -> list[datetime]:
    minute_f, hour_f, dom_f, month_f, dow_f = expr.split()
    minutes = _expand(minute_f, 0, 59)
    hours = _expand(hour_f, 0, 23)
    doms = _expand(dom_f, 1, 31)
    months = _expand(month_f, 1, 12)
    dows = {d % 7 for d in _expand(dow_f, 0, 7)}
    day_and = dom_f.startswith("*") or dow_f.startswith("*")
    wall_clock = not minute_f.startswith("*") and not hour_f.startswith("*")
    zone = ZoneInfo(tz)

    def day_matches(d: date) -> bool:
        if d.month not in months:
            return False
        dom_ok = d.day in doms
        dow_ok = (d.weekday() + 1) % 7 in dows
        return dom_ok and dow_ok if day_and else dom_ok or dow_ok

    out: list[datetime] = []
    d = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(366 * 9):
        if day_matches(d):
            found: set[datetime] = set()
            if wall_clock:
                for h in sorted(hours):
                    for m in sorted(minutes):
                        naive = datetime.combine(d, time(h, m))
                        while not _exists(naive, zone):
                            naive += timedelta(minutes=1)  # the first real minute after a gap
                        found.add(naive.replace(tzinfo=zone, fold=0).astimezone(UTC))
            else:
                start = datetime.combine(d, time(0)).replace(tzinfo=zone).astimezone(UTC)
                end = (
                    datetime.combine(d + timedelta(days=1), time(0))
                    .replace(tzinfo=zone)
                    .astimezone(UTC)
                )
                t = start
                while t < end:
                    local = t.astimezone(zone)
                    if local.date() == d and local.hour in hours and local.minute in minutes:
                        found.add(t)
                    t += timedelta(minutes=1)
            out.extend(sorted(f for f in found if f > after))
            if len(out) >= count:
                return out[:count]
        d += timedelta(days=1)
    return out


def actual_fires(expr: str, tz: str, after: datetime, count: int) -> list[datetime]:
    out = []
    for _ in range(count):
        after = next_cron_fire(expr, tz, after)
        out.append(after)
    return out


fields = st.fixed_dictionaries(
    {
        "minute": st.sampled_from(["0", "30", "45", "*/15", "*", "5,35", "59"]),
        "hour": st.sampled_from(["2", "1", "3", "*", "1-3", "*/6", "0,2"]),
        "dom": st.sampled_from(["*", "*", "1", "29", "15-31"]),
        "month": st.sampled_from(["*", "*", "2", "3,4,10,11"]),
        "dow": st.sampled_from(["*", "*", "0", "1-5", "6"]),
    }
)


@st.composite
def near_transition(draw: st.DrawFn) -> tuple[str, datetime]:
    tz = draw(st.sampled_from(ZONES))
    day = draw(st.sampled_from(TRANSITIONS[tz]))
    offset = draw(st.integers(min_value=-36 * 60, max_value=36 * 60))
    base = datetime.combine(day, time(2, 0)).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return tz, base + timedelta(minutes=offset, seconds=draw(st.integers(0, 59)))


@settings(max_examples=300, deadline=None)
@given(f=fields, where=near_transition())
def test_cron_fires_match_the_reference_around_dst_changes(
    f: dict[str, str], where: tuple[str, datetime]
) -> None:
    expr = " ".join([f["minute"], f["hour"], f["dom"], f["month"], f["dow"]])
    tz, after = where
    expected = reference_fires(expr, tz, after, 4)
    assert actual_fires(expr, tz, after, len(expected)) == expected


@pytest.mark.parametrize(
    ("tz", "day", "expected_local"),
    [
        # Riga moves 03:00 -> 04:00 and 04:00 -> 03:00: 02:30 is untouched both days.
        ("Europe/Riga", date(2026, 3, 29), "2026-03-29 02:30 +0200"),
        ("Europe/Riga", date(2026, 10, 25), "2026-10-25 02:30 +0300"),
        # New York skips 02:00-02:59 in March: the job runs at 03:00 EDT that day.
        ("America/New_York", date(2026, 3, 8), "2026-03-08 03:00 -0400"),
        ("America/New_York", date(2026, 11, 1), "2026-11-01 02:30 -0500"),
        # Lord Howe moves by half an hour: 02:00 -> 02:30 in October, 02:00 -> 01:30 in April.
        ("Australia/Lord_Howe", date(2026, 10, 4), "2026-10-04 02:30 +1100"),
        ("Australia/Lord_Howe", date(2026, 4, 5), "2026-04-05 02:30 +1030"),
    ],
)
def test_a_0230_job_runs_once_on_dst_change_days(tz: str, day: date, expected_local: str) -> None:
    zone = ZoneInfo(tz)
    after = datetime.combine(day, time(0, 0)).replace(tzinfo=zone).astimezone(UTC)
    fire = next_cron_fire("30 2 * * *", tz, after)
    assert fire.astimezone(zone).strftime("%Y-%m-%d %H:%M %z") == expected_local
    following = next_cron_fire("30 2 * * *", tz, fire)
    assert following.astimezone(zone).date() == day + timedelta(days=1)


def test_a_job_in_the_repeated_hour_runs_once_and_an_hourly_job_runs_twice() -> None:
    tz, zone = "America/New_York", ZoneInfo("America/New_York")
    after = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT
    fixed = actual_fires("30 1 * * *", tz, after, 2)
    assert [f.astimezone(zone).strftime("%d %H:%M %z") for f in fixed] == [
        "01 01:30 -0400",
        "02 01:30 -0500",
    ]
    hourly = actual_fires("30 * * * *", tz, after, 3)
    assert [f.astimezone(zone).strftime("%H:%M %z") for f in hourly] == [
        "00:30 -0400",
        "01:30 -0400",
        "01:30 -0500",
    ]


def test_a_fixed_time_job_asked_during_the_second_pass_of_the_hour_waits_a_day() -> None:
    tz = "America/New_York"
    second_pass = datetime(2026, 11, 1, 6, 40, tzinfo=UTC)  # 01:40 EST, after 01:30 EDT ran
    fire = next_cron_fire("30 1 * * *", tz, second_pass)
    assert fire == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_leap_day_jobs_wait_for_the_next_leap_year() -> None:
    fire = next_cron_fire("0 12 29 2 *", "UTC", datetime(2026, 3, 1, tzinfo=UTC))
    assert fire == datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    riga = next_cron_fire("0 0 29 2 *", "Europe/Riga", datetime(2028, 1, 1, tzinfo=UTC))
    assert riga == datetime(2028, 2, 28, 22, 0, tzinfo=UTC)  # midnight in Riga (UTC+2)


def test_month_end_and_leap_day_match_the_reference() -> None:
    after = datetime(2027, 12, 31, tzinfo=UTC)
    for expr in ("0 0 29 * *", "15 3 28-31 2 *", "0 12 29 2 1"):
        expected = reference_fires(expr, "Europe/Riga", after, 3)
        assert actual_fires(expr, "Europe/Riga", after, 3) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("* * * *", "has 5 fields"),
        ("* * * * * *", "got 6"),
        ("61 * * * *", "bad minute field '61'"),
        ("* 24 * * *", "bad hour field '24'"),
        ("* * 32 * *", "bad day-of-month field '32'"),
        ("* * * 13 *", "bad month field '13'"),
        ("* * * * 8", "bad day-of-week field '8'"),
        ("*/0 * * * *", "bad minute field"),
        ("0 0 30 2 *", "never occurs"),
    ],
)
def test_a_bad_crontab_says_which_field_is_wrong(expr: str, message: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_cron(expr)
    assert message in err.value.message
    assert err.value.field == "schedule"
