"""Pattern detection (domain.detection): scenarios a user would recognise, and properties."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from srvpulse.domain.detection import (
    WARMUP_RUNS,
    AnomalyKind,
    Baseline,
    DetectorConfig,
    HistoryPing,
    Sensitivity,
    check_running,
    observe_completion,
    replay,
    running_limit,
    teach_expected,
)
from srvpulse.domain.schedule import next_cron_fire

MON = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)  # a Monday


def runs(starts: list[datetime], durations: list[float], rid: bool = False) -> list[HistoryPing]:
    pings: list[HistoryPing] = []
    for i, (s, d) in enumerate(zip(starts, durations, strict=True)):
        r = f"run-{i}" if rid else None
        pings.append(HistoryPing(s, "start", r))
        pings.append(HistoryPing(s + timedelta(seconds=d), "success", r))
    return pings


def daily(n: int, first: datetime = MON) -> list[datetime]:
    return [first + timedelta(days=i) for i in range(n)]


def noisy(n: int, seconds: float, spread: float = 0.05, seed: int = 1) -> list[float]:
    r = random.Random(seed)
    return [seconds * r.lognormvariate(0, spread) for _ in range(n)]


def kinds(pings: list[HistoryPing], config: DetectorConfig | None = None) -> list[str]:
    found, _ = replay(pings, config or DetectorConfig())
    return [d.verdict.kind.value for d in found]


def verdicts_at(pings: list[HistoryPing], config: DetectorConfig | None = None) -> dict[int, str]:
    """Verdict kinds by the index of the run (day) they concern."""
    found, _ = replay(pings, config or DetectorConfig())
    first = min(p.ts for p in pings)
    return {(d.verdict.run_started - first).days: d.verdict.kind.value for d in found}


# ---------------------------------------------------------------- durations


def test_no_duration_verdict_before_ten_runs_and_one_right_after() -> None:
    durations = noisy(30, 120)
    durations[WARMUP_RUNS - 1] = 120 * 50  # inside the warm-up: learned, not judged
    durations[20] = 120 * 50
    assert verdicts_at(runs(daily(30), durations)) == {20: "still_running_long"}


def test_a_run_far_longer_than_usual_is_explained_with_numbers_a_person_can_act_on() -> None:
    _, baseline = replay(runs(daily(30), noisy(30, 115)), DetectorConfig())
    start = MON + timedelta(days=30)
    done = start + timedelta(minutes=14, seconds=3)
    (verdict,) = observe_completion(baseline, DetectorConfig(), done, start).verdicts
    assert verdict.kind == AnomalyKind.DURATION_LONG
    assert verdict.run_started == start
    text = verdict.explanation
    assert text.startswith("ran 14 min 3 s; usually 1 min ")
    assert "over the last 30 runs" in text
    assert "the usual 1 min 5" in text  # the usual median, about 115 s


def test_a_backup_that_succeeded_in_three_seconds_is_flagged_as_far_too_short() -> None:
    durations = noisy(40, 20 * 60)
    durations[35] = 3
    found, _ = replay(runs(daily(40), durations), DetectorConfig())
    assert [d.verdict.kind for d in found] == [AnomalyKind.DURATION_SHORT]
    assert found[0].verdict.explanation.startswith("finished in 3.0 s; usually 20 min")


def test_a_started_run_far_past_its_usual_length_is_flagged_before_it_finishes_and_once() -> None:
    durations = noisy(30, 120)
    durations[25] = 3 * 3600
    found, _ = replay(runs(daily(30), durations), DetectorConfig())
    assert [d.verdict.kind for d in found] == [AnomalyKind.STILL_RUNNING_LONG]
    started = MON + timedelta(days=25)
    assert started < found[0].ts < started + timedelta(minutes=10)
    assert found[0].verdict.explanation.startswith("still running after ")


def test_the_analyzer_asks_about_a_run_still_going_only_after_its_limit() -> None:
    _, baseline = replay(runs(daily(20), noisy(20, 60)), DetectorConfig())
    started = MON + timedelta(days=21)
    limit = running_limit(baseline, DetectorConfig(), started)
    assert limit is not None and limit > started + timedelta(seconds=60)
    assert check_running(baseline, DetectorConfig(), started, limit - timedelta(seconds=1)) is None
    verdict = check_running(baseline, DetectorConfig(), started, limit)
    assert verdict is not None and verdict.run_started == started


def test_a_long_sunday_backup_is_normal_on_sundays_and_anomalous_on_a_thursday() -> None:
    starts = daily(70)
    durations = [
        (3000.0 if s.weekday() == 6 else 300.0) * f
        for s, f in zip(starts, noisy(70, 1.0), strict=True)
    ]
    thursday = next(i for i in range(50, 70) if starts[i].weekday() == 3)
    durations[thursday] = 3000
    found = verdicts_at(runs(starts, durations), DetectorConfig(tz="Europe/Riga"))
    assert found == {thursday: "still_running_long"}


def test_a_job_growing_one_percent_a_day_is_followed_without_alarms() -> None:
    durations = [60 * 1.01**i * f for i, f in enumerate(noisy(200, 1.0))]
    assert kinds(runs(daily(200), durations)) == []


def test_a_sudden_step_is_one_alert_and_then_the_new_normal() -> None:
    durations = noisy(60, 100)
    durations[30:] = noisy(30, 400, seed=2)
    assert verdicts_at(runs(daily(60), durations)) == {30: "still_running_long"}


def test_a_noisy_job_gets_a_band_wide_enough_for_its_noise() -> None:
    durations = noisy(80, 100, spread=0.5, seed=3)
    clean = kinds(runs(daily(80), durations))
    durations[70] = 100 * 60  # 60x its median is still news
    assert clean == []
    assert kinds(runs(daily(80), durations)) == ["still_running_long"]


def test_sensitivity_decides_whether_one_and_three_quarter_times_usual_is_news() -> None:
    durations = noisy(40, 600, spread=0.02)
    durations[35] = 600 * 1.75
    pings = runs(daily(40), durations)
    assert kinds(pings, DetectorConfig(sensitivity=Sensitivity.HIGH)) == ["still_running_long"]
    assert kinds(pings, DetectorConfig(sensitivity=Sensitivity.NORMAL)) == []
    assert kinds(pings, DetectorConfig(sensitivity=Sensitivity.LOW)) == []


def test_switched_off_detection_says_nothing_but_keeps_learning() -> None:
    pings = runs(daily(30), noisy(30, 120))
    found, learned = replay(pings, DetectorConfig(enabled=False))
    assert found == []
    assert learned.n_runs == 30
    outcome = observe_completion(
        learned, DetectorConfig(), MON + timedelta(days=31, hours=1), MON + timedelta(days=31)
    )
    assert [v.kind for v in outcome.verdicts] == [AnomalyKind.DURATION_LONG]


def test_marking_an_anomaly_expected_makes_runs_like_it_normal() -> None:
    config = DetectorConfig()
    _, baseline = replay(runs(daily(30), noisy(30, 120)), config)
    start = MON + timedelta(days=30)
    first = observe_completion(baseline, config, start + timedelta(minutes=20), start)
    (verdict,) = first.verdicts

    def two_usual_days_then_21_minutes(b: Baseline) -> tuple[AnomalyKind, ...]:
        for day in (31, 32):
            s = MON + timedelta(days=day)
            b = observe_completion(b, config, s + timedelta(seconds=121), s).baseline
        s = MON + timedelta(days=33)
        found = observe_completion(b, config, s + timedelta(minutes=21), s).verdicts
        return tuple(v.kind for v in found)

    taught = teach_expected(first.baseline, verdict.kind, verdict.facts)
    assert two_usual_days_then_21_minutes(taught) == ()
    assert two_usual_days_then_21_minutes(first.baseline) == (AnomalyKind.DURATION_LONG,)


def test_a_failed_run_is_neither_judged_nor_learned() -> None:
    _, baseline = replay(runs(daily(20), noisy(20, 120)), DetectorConfig())
    start = MON + timedelta(days=20)
    outcome = observe_completion(
        baseline, DetectorConfig(), start + timedelta(seconds=2), start, failed=True
    )
    assert outcome.verdicts == ()
    assert outcome.baseline.durs == baseline.durs


# ---------------------------------------------------------------- timing


def test_a_run_at_an_unusual_time_of_day_is_flagged_with_the_usual_times() -> None:
    starts = daily(30)
    starts[25] = starts[25].replace(hour=14, minute=2)
    found, _ = replay(runs(starts, noisy(30, 60)), DetectorConfig(tz="Europe/Riga"))
    assert [d.verdict.kind for d in found] == [AnomalyKind.UNUSUAL_TIME]
    assert found[0].verdict.explanation.startswith("started at 16:02 (")
    assert "it started at 05:00" in found[0].verdict.explanation


def test_a_job_that_runs_twice_gets_one_too_often_verdict() -> None:
    starts = daily(30)
    starts.insert(21, starts[20] + timedelta(seconds=90))
    found = verdicts_at(runs(starts, noisy(31, 30)))
    assert found == {20: "too_often"}


def test_a_burst_of_pings_on_a_period_only_check_is_one_verdict() -> None:
    hourly = [MON + timedelta(hours=i, seconds=(i * 7) % 40) for i in range(48)]
    burst = [hourly[40] + timedelta(seconds=5 * k) for k in range(1, 8)]
    pings = [HistoryPing(t, "success") for t in sorted(hourly + burst)]
    assert kinds(pings) == ["too_often"]


def test_a_weekday_job_running_on_a_saturday_is_flagged_once() -> None:
    starts = [s for s in daily(60) if s.weekday() < 5]
    saturday = MON + timedelta(days=40)
    starts.append(saturday)
    starts.sort()
    found, _ = replay(runs(starts, noisy(len(starts), 60)), DetectorConfig(tz="Europe/Riga"))
    assert [d.verdict.kind for d in found] == [AnomalyKind.UNUSUAL_DAY]
    assert "ran only on Mon, Tue, Wed, Thu, Fri" in found[0].verdict.explanation


def test_a_job_that_moved_to_a_new_time_is_told_once_then_learned() -> None:
    starts = daily(50)
    starts[30:] = [s.replace(hour=9) for s in starts[30:]]
    assert verdicts_at(runs(starts, noisy(50, 60))) == {30: "unusual_time"}


# ---------------------------------------------------------------- daylight saving time


def cron_starts(expr: str, tz: str, first: datetime, n: int) -> list[datetime]:
    out, t = [], first
    for _ in range(n):
        t = next_cron_fire(expr, tz, t)
        out.append(t)
    return out


def test_a_wall_clock_job_in_riga_across_both_dst_changes_is_never_an_anomaly() -> None:
    for first in (datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 9, 25, tzinfo=UTC)):
        starts = cron_starts("30 3 * * *", "Europe/Riga", first, 60)
        for sensitivity in Sensitivity:
            config = DetectorConfig(tz="Europe/Riga", sensitivity=sensitivity)
            assert kinds(runs(starts, noisy(60, 300)), config) == []


def test_a_new_york_job_in_the_spring_forward_gap_runs_an_hour_off_without_an_anomaly() -> None:
    # 02:00 does not exist on 2026-03-08: cron runs it at 03:00 EDT.
    starts = cron_starts("0 2 * * *", "America/New_York", datetime(2026, 2, 1, tzinfo=UTC), 60)
    local = [s.astimezone(ZoneInfo("America/New_York")) for s in starts]
    assert any(t.hour == 3 for t in local)
    config = DetectorConfig(tz="America/New_York", sensitivity=Sensitivity.HIGH)
    assert kinds(runs(starts, noisy(60, 300)), config) == []


def test_a_job_on_a_utc_server_watched_in_new_york_time_is_no_anomaly_after_dst() -> None:
    starts = daily(80, datetime(2026, 10, 1, 4, 0, tzinfo=UTC))  # across 2026-11-01
    config = DetectorConfig(tz="America/New_York", sensitivity=Sensitivity.HIGH)
    assert kinds(runs(starts, noisy(80, 300)), config) == []


def test_an_hourly_job_in_the_repeated_fall_back_hour_is_not_too_often() -> None:
    starts = cron_starts("0 * * * *", "America/New_York", datetime(2026, 10, 30, tzinfo=UTC), 96)
    assert kinds(runs(starts, noisy(96, 20)), DetectorConfig(tz="America/New_York")) == []


# ---------------------------------------------------------------- properties


ZONES = ["UTC", "Europe/Riga", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


def steady_job(
    first: datetime, period_s: int, seconds: float, n: int, seed: int
) -> Iterator[HistoryPing]:
    r = random.Random(seed)
    for i in range(n):
        s = first + timedelta(seconds=period_s * i + r.uniform(0, 20))
        yield HistoryPing(s, "start")
        yield HistoryPing(s + timedelta(seconds=seconds * r.lognormvariate(0, 0.05)), "success")


@settings(max_examples=40, deadline=None)
@given(
    first=st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1)),
    period=st.sampled_from([600, 3600, 6 * 3600, 86400, 7 * 86400]),
    seconds=st.floats(1, 4 * 3600),
    zone=st.sampled_from(ZONES),
    seed=st.integers(0, 1000),
)
def test_a_steady_job_never_gets_a_verdict_in_any_zone_across_any_dst_change(
    first: datetime, period: int, seconds: float, zone: str, seed: int
) -> None:
    seconds = min(seconds, period / 3)
    pings = list(steady_job(first.replace(tzinfo=UTC), period, seconds, 60, seed))
    assert kinds(pings, DetectorConfig(tz=zone)) == []


ping_lists = st.lists(
    st.tuples(
        st.integers(0, 90 * 86400),
        st.sampled_from(["start", "success", "fail", "log"]),
        st.sampled_from([None, "a", "b"]),
    ),
    max_size=400,
)


def to_pings(raw: list[tuple[int, str, str | None]]) -> list[HistoryPing]:
    return [HistoryPing(MON + timedelta(seconds=s), k, r) for s, k, r in raw]


@settings(max_examples=60, deadline=None)
@given(raw=ping_lists, zone=st.sampled_from(ZONES))
def test_the_baseline_stays_small_and_survives_its_json_column(
    raw: list[tuple[int, str, str | None]], zone: str
) -> None:
    _, baseline = replay(to_pings(raw), DetectorConfig(tz=zone))
    text = baseline.to_json()
    assert len(text) < 4096
    assert Baseline.from_json(text).to_json() == text
    json.loads(text)


@settings(max_examples=40, deadline=None)
@given(raw=ping_lists, cut=st.integers(0, 400))
def test_a_verdict_never_depends_on_a_later_ping(
    raw: list[tuple[int, str, str | None]], cut: int
) -> None:
    pings = sorted(to_pings(raw), key=lambda p: p.ts)
    cut = min(cut, len(pings))
    assume(cut in (0, len(pings)) or pings[cut - 1].ts != pings[cut].ts)
    full, _ = replay(pings, DetectorConfig())
    prefix, _ = replay(pings[:cut], DetectorConfig())
    last = pings[cut - 1].ts if cut else None
    expected = [d for d in full if last is not None and d.ts <= last]
    assert [(d.ts, d.verdict.kind) for d in prefix] == [(d.ts, d.verdict.kind) for d in expected]


def test_an_unreadable_stored_baseline_starts_a_new_warm_up_instead_of_failing() -> None:
    assert Baseline.from_json("{not json").n_runs == 0
    assert Baseline.from_json(None).durs == []
    assert Baseline.from_json('["a list"]').n_starts == 0
