"""Pattern detection: what is normal for one check, learned from its own runs (pure).

Input: a check's compact ``Baseline`` (JSON-serializable, bounded size), the check's
``DetectorConfig`` (time zone, sensitivity, on/off), one new event (a run that started,
a run that completed, or ``now`` for a run still going). Output: the updated baseline
and zero or more ``Verdict`` s, each with a kind, the run it concerns and an
explanation with numbers. No I/O; time is always a parameter.

The statistics (why each choice is made is in docs/architecture.md, "Pattern detection"):

- Durations are compared in log space (a job's noise is multiplicative: 2 s of jitter
  on a 10 s job is as normal as 2 min on a 10 min one). The level is the median of the
  last ``N_RECENT`` runs, after removing each weekday's learned offset (weekly
  seasonality: a Sunday full backup is measured against earlier Sundays). The spread is
  estimated from run-to-run differences (median absolute difference), which one outlier
  cannot ruin and a slow drift does not inflate; the band is ``k`` spreads, never
  narrower than the sensitivity's minimum ratio, and a difference must also exceed an
  absolute floor (a 0.4 s job that takes 1.2 s is not news).
- A flagged run is not learned. If the next runs confirm it (``SHIFT_RUNS`` in a row,
  or the same weekday the week after), the baseline moves to the new level: a sudden
  step is one alert, not one per run, and a slow drift never leaves the band.
- Timing: the local time of day of each start is compared, in the check's time zone
  and in UTC, with the last ``N_STARTS`` starts (either frame matching is enough, so a
  daylight-saving change is never an anomaly, for jobs on wall-clock cron and for jobs
  on a UTC server alike); the day of week with the weeks it ran in; the gap since the
  previous start with the 10th percentile of the usual gaps (extra runs, bursts).
- No verdict of a kind before ``WARMUP_RUNS`` observations of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson

if TYPE_CHECKING:
    from .model import Check

# Runs (durations) and starts (timing) observed before any verdict of that kind.
# Why 10: the band is built from run-to-run differences; with 9 differences their
# median is within a factor ~1.5 of the truth most of the time, which the minimum
# ratio band absorbs; with 5 the false alarms on clean jobs grow (bench/patterns_eval.py
# --warmup prints the comparison). More than 10 would leave a daily job unwatched for
# weeks: 10 is 10 days for a daily job, 10 hours for an hourly one.
WARMUP_RUNS = 10
N_RECENT = 30  # durations kept: "over the last 30 runs"
N_DAY = 6  # per weekday: offsets of the last 6 runs on that weekday
N_STARTS = 30  # start times kept
N_GAPS = 30  # gaps between starts kept
SHIFT_RUNS = 3  # consecutive consistent anomalies that make a new normal
FAST_RUNS = 6  # consecutive too-frequent runs that make a new rhythm
N_ACCEPTED = 8  # "this is expected" answers remembered per kind
DAY_WEEKS = 8  # a weekday is usual if the job ran on it in one of the last 8 weeks
DAY_MIN_WEEKS = 3  # ... and the history covers at least 3 weeks
MIN_SECONDS = 0.1  # durations below this are taken as 0.1 s (log space)
ACCEPT_RATIO = math.log(1.25)  # a run within 25 % of an accepted one is not flagged
# Spread from the median absolute run-to-run difference: for normal noise
# median |x_i - x_(i-1)| = 0.6745 * sqrt(2) * sigma.
_DIFF_TO_SIGMA = 1.0 / (0.6745 * math.sqrt(2.0))
_MIN_SIGMA = 0.02
DASH = "\u2013"  # en dash, for ranges
TIMES = "\u00d7"  # multiplication sign
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class Sensitivity(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class AnomalyKind(StrEnum):
    DURATION_LONG = "duration_long"
    DURATION_SHORT = "duration_short"
    STILL_RUNNING_LONG = "still_running_long"
    UNUSUAL_TIME = "unusual_time"
    UNUSUAL_DAY = "unusual_day"
    TOO_OFTEN = "too_often"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """How far from usual is far, per sensitivity."""

    k: float  # band half-width in spreads (log space)
    min_ratio: float  # ... but never narrower than this ratio to the usual duration
    floor_seconds: float  # and never a difference smaller than this
    time_tolerance_min: int  # a start this close to an earlier one is at a usual time
    often_fraction: float  # a gap below this fraction of the usual shortest gap is extra


THRESHOLDS: dict[Sensitivity, Thresholds] = {
    Sensitivity.LOW: Thresholds(6.0, 3.0, 30.0, 180, 0.25),
    Sensitivity.NORMAL: Thresholds(4.5, 2.0, 10.0, 90, 0.4),
    Sensitivity.HIGH: Thresholds(3.5, 1.5, 3.0, 45, 0.6),
}


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    tz: str = "UTC"
    sensitivity: Sensitivity = Sensitivity.NORMAL
    enabled: bool = True  # off: the baseline still learns, no verdicts are given


def detector_config(check: Check) -> DetectorConfig:
    """A check's detection settings (an unknown stored sensitivity reads as normal)."""
    return _config(check.tz, check.sensitivity, check.detection)


@lru_cache(maxsize=256)
def _config(tz: str, stored_sensitivity: str, enabled: bool) -> DetectorConfig:
    # A frozen value per setting: ingest asks for it several times per ping.
    try:
        sensitivity = Sensitivity(stored_sensitivity)
    except ValueError:
        sensitivity = Sensitivity.NORMAL
    return DetectorConfig(tz=tz, sensitivity=sensitivity, enabled=enabled)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One anomaly. ``run_started`` identifies the run it concerns (its start, or the
    completion ping's time for a job that sends no start); ``facts`` are what
    ``teach_expected`` needs to learn it was normal."""

    kind: AnomalyKind
    at: datetime
    run_started: datetime
    explanation: str
    facts: dict[str, float | int | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A recorded verdict (one ``anomalies`` row), as the API lists it."""

    id: int
    uuid: str
    check_id: int
    kind: AnomalyKind
    created: datetime  # when it was detected
    run_started: datetime
    explanation: str
    facts: dict[str, Any]
    ping_n: int | None = None  # the ping it was detected at; None: by the analyzer
    expected_at: datetime | None = None  # marked "expected" by a user
    processed_at: datetime | None = None  # its alerts decided by the analyzer


def _empty_days() -> list[list[float]]:
    return [[] for _ in range(7)]


def _empty_weeks() -> list[list[int]]:
    return [[] for _ in range(7)]


@dataclass(slots=True)
class Baseline:
    """What is normal for one check. Mutable for speed inside one observation; the
    functions below copy it first, so a caller's baseline never changes under it."""

    # durations
    n_runs: int = 0
    durs: list[list[float]] = field(default_factory=list)  # [log seconds, weekday]
    days: list[list[float]] = field(default_factory=_empty_days)  # offsets per weekday
    streak: list[list[float]] = field(default_factory=list)  # [log s, weekday, deviation]
    day_flag: dict[str, list[float]] = field(default_factory=dict)  # weekday -> [log s, dev]
    accepted: list[list[float]] = field(default_factory=list)  # [log s, weekday]
    # timing
    n_starts: int = 0
    last_start: float | None = None  # epoch seconds
    gaps: list[float] = field(default_factory=list)  # seconds
    fast_gaps: list[float] = field(default_factory=list)
    burst_since: float | None = None
    accepted_gap: float | None = None
    starts: list[list[int]] = field(default_factory=list)  # [local minute, UTC minute]
    pending_times: list[list[int]] = field(default_factory=list)
    accepted_times: list[list[int]] = field(default_factory=list)
    first_week: int | None = None  # local Monday's ordinal
    weeks: list[list[int]] = field(default_factory=_empty_weeks)  # per local weekday
    utc_weeks: list[list[int]] = field(default_factory=_empty_weeks)  # per UTC weekday
    pending_days: dict[str, int] = field(default_factory=dict)  # weekday -> week
    accepted_days: list[int] = field(default_factory=list)
    # runs (start, epoch seconds) already reported as still running far too long
    told: list[float] = field(default_factory=list)

    def to_json(self) -> str:
        # orjson, not json: ingest writes a check's baseline (a few hundred floats) once
        # per batch, and json.dumps spent 20x as long on it (float repr).
        return orjson.dumps(self).decode()

    @classmethod
    def from_json(cls, text: str | None) -> Baseline:
        """An empty or unreadable state is a fresh baseline (a warm-up again), never an
        error: detection must not stop ingest."""
        if not text:
            return cls()
        try:
            data = orjson.loads(text)
            if data.keys() <= _BASELINE_FIELDS:
                return cls(**data)
            return cls(**{k: v for k, v in data.items() if k in _BASELINE_FIELDS})
        except (ValueError, TypeError, AttributeError):
            return cls()

    def copy(self) -> Baseline:
        return Baseline(
            n_runs=self.n_runs,
            durs=[list(d) for d in self.durs],
            days=[list(d) for d in self.days],
            streak=[list(s) for s in self.streak],
            day_flag={k: list(v) for k, v in self.day_flag.items()},
            accepted=[list(a) for a in self.accepted],
            n_starts=self.n_starts,
            last_start=self.last_start,
            gaps=list(self.gaps),
            fast_gaps=list(self.fast_gaps),
            burst_since=self.burst_since,
            accepted_gap=self.accepted_gap,
            starts=[list(s) for s in self.starts],
            pending_times=[list(p) for p in self.pending_times],
            accepted_times=[list(a) for a in self.accepted_times],
            first_week=self.first_week,
            weeks=[list(w) for w in self.weeks],
            utc_weeks=[list(w) for w in self.utc_weeks],
            pending_days=dict(self.pending_days),
            accepted_days=list(self.accepted_days),
            told=list(self.told),
        )


_BASELINE_FIELDS = frozenset(f.name for f in fields(Baseline))


@dataclass(frozen=True, slots=True)
class Observation:
    baseline: Baseline
    verdicts: tuple[Verdict, ...] = ()


# ---------------------------------------------------------------- small statistics


def _median(values: list[float]) -> float:
    s = sorted(values)
    n = len(s)
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def _quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = q * (len(s) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _log(seconds: float) -> float:
    return round(math.log(max(seconds, MIN_SECONDS)), 4)


def _circular(a: int, b: int) -> int:
    d = abs(a - b) % 1440
    return min(d, 1440 - d)


def human_length(seconds: float) -> str:
    """A duration with the precision a person acts on: 3.2 s, 14 min 3 s, 2 h 5 min."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    minutes, sec = divmod(s, 60)
    if minutes < 60:
        return f"{minutes} min {sec} s" if sec else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} days {hours} h" if hours else f"{days} days"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# ---------------------------------------------------------------- durations


@dataclass(frozen=True, slots=True)
class _Expectation:
    center: float  # log seconds
    band: float  # half-width, log space
    low: float  # usual range (10th-90th percentile), seconds
    high: float
    runs: int
    weekday_note: str  # "" or " on Sundays"
    day_runs: int


def _offset(b: Baseline, weekday: int) -> float:
    day = b.days[weekday]
    return _median(day) if day else 0.0


def _expect(b: Baseline, weekday: int, t: Thresholds, seasonal: bool = True) -> _Expectation:
    # The level is the median of the raw recent runs, not of deseasonalized ones: the
    # weekday offsets are measured against it, so it must not depend on them (else
    # level and offsets could wander off together, each excusing the other).
    offsets = [_offset(b, w) for w in range(7)] if seasonal else [0.0] * 7
    level = _median([x for x, _ in b.durs])
    deseason = [x - offsets[int(w)] for x, w in b.durs]
    middle = _median(deseason)
    diffs = [abs(deseason[i] - deseason[i - 1]) for i in range(1, len(deseason))]
    sigma = max(_median(diffs) * _DIFF_TO_SIGMA if diffs else 0.0, _MIN_SIGMA)
    n_day = len(b.days[weekday]) if seasonal else 0
    if n_day:  # a weekday offset from few runs is itself uncertain
        sigma *= math.sqrt(1.0 + 1.0 / n_day)
    band = max(t.k * sigma, math.log(t.min_ratio))
    center = level + offsets[weekday]
    devs = [d - middle for d in deseason]
    low = math.exp(center + _quantile(devs, 0.1))
    high = math.exp(center + _quantile(devs, 0.9))
    note = f" on {_WEEKDAYS[weekday]}s" if abs(offsets[weekday]) > band / 2 else ""
    return _Expectation(center, band, low, high, len(b.durs), note, n_day)


def _outside(e: _Expectation, x: float, seconds: float, t: Thresholds) -> int:
    """+1 far longer than expected, -1 far shorter, 0 usual."""
    usual_s = math.exp(e.center)
    if x - e.center > e.band and seconds - usual_s > t.floor_seconds:
        return 1
    if e.center - x > e.band and usual_s - seconds > t.floor_seconds:
        return -1
    return 0


def _judge(
    b: Baseline, weekday: int, x: float, seconds: float, t: Thresholds
) -> tuple[_Expectation, int]:
    """Compare with the weekday's expectation; while that weekday has fewer than 3
    runs its offset is uncertain (one odd run in the warm-up would make it), so the
    run must also be far from the expectation without seasonality."""
    e = _expect(b, weekday, t)
    side = _outside(e, x, seconds, t)
    if (
        side
        and len(b.days[weekday]) < 3
        and _outside(_expect(b, weekday, t, False), x, seconds, t) != side
    ):
        side = 0
    return e, side


def _usual(e: _Expectation) -> str:
    span = f"usually {human_length(e.low)} {DASH} {human_length(e.high)}"
    if e.weekday_note:
        return f"{span}{e.weekday_note} (the last {e.day_runs}{e.weekday_note[3:]})"
    return f"{span} over the last {e.runs} runs"


def _learn_duration(b: Baseline, x: float, weekday: int) -> None:
    if b.durs:
        level = _median([v for v, _ in b.durs])
        b.days[weekday] = (b.days[weekday] + [round(x - level, 4)])[-N_DAY:]
    else:
        b.days[weekday] = [0.0]
    b.durs = ([*b.durs, [x, weekday]])[-N_RECENT:]


def _consistent(a: float, c: float, band: float) -> bool:
    return abs(a - c) <= max(band / 2.0, math.log(1.5))


def _weekday(at: datetime, zone: ZoneInfo) -> int:
    return at.astimezone(zone).weekday()


def observe_completion(
    baseline: Baseline,
    config: DetectorConfig,
    finished_at: datetime,
    started_at: datetime | None,
    *,
    failed: bool = False,
    flagged_while_running: bool = False,
    in_place: bool = False,
) -> Observation:
    """A run completed (success or fail ping). With ``started_at`` (the run's start
    ping) its duration is judged and learned; without, the completion is also the
    run's start and only timing is judged. A failed run's duration is not learned and
    not judged: the failure is already its own alert. ``flagged_while_running``: the
    analyzer already reported this run as still running too long, so its completion
    does not repeat that. ``in_place``: the caller owns ``baseline`` and lets it be
    updated instead of copied (ingest, with a baseline it parsed itself)."""
    b = baseline if in_place else baseline.copy()
    if started_at is None:
        timing = _observe_start(b, config, finished_at)
        return Observation(b, tuple(timing) if config.enabled else ())
    if failed:
        return Observation(b, ())
    zone = ZoneInfo(config.tz)
    t = THRESHOLDS[config.sensitivity]
    seconds = max((finished_at - started_at).total_seconds(), 0.0)
    x = _log(seconds)
    weekday = _weekday(started_at, zone)
    b.n_runs += 1
    if len(b.durs) < WARMUP_RUNS:
        _learn_duration(b, x, weekday)
        return Observation(b, ())
    e, side = _judge(b, weekday, x, seconds, t)
    dev = x - e.center
    usual_s = math.exp(e.center)
    long_, short = side > 0, side < 0
    if (long_ or short) and any(
        abs(x - a) <= ACCEPT_RATIO and (int(w) == weekday or not e.weekday_note)
        for a, w in b.accepted
    ):
        long_ = short = False
    if not (long_ or short):
        _learn_duration(b, x, weekday)
        b.streak = []
        b.day_flag.pop(str(weekday), None)
        return Observation(b, ())
    sign = 1.0 if long_ else -1.0
    verdicts: list[Verdict] = []
    confirms_streak = bool(b.streak) and all(
        s[2] * sign > 0 and _consistent(s[0], x, e.band) for s in b.streak
    )
    flag = b.day_flag.get(str(weekday))
    confirms_day = flag is not None and flag[1] * sign > 0 and _consistent(flag[0], x, e.band)
    if not (confirms_streak or confirms_day) and not (long_ and flagged_while_running):
        kind = AnomalyKind.DURATION_LONG if long_ else AnomalyKind.DURATION_SHORT
        ratio = math.exp(dev)
        lead = "ran" if long_ else "finished in"
        pct = ratio * 100
        share = f"{pct:.1f} %" if pct < 1 else f"{pct:.0f} %"
        compared = f"{ratio:.1f}{TIMES} the usual" if long_ else f"{share} of the usual"
        verdicts.append(
            Verdict(
                kind=kind,
                at=finished_at,
                run_started=started_at,
                explanation=(
                    f"{lead} {human_length(seconds)}; {_usual(e)} "
                    f"({compared} {human_length(usual_s)})"
                ),
                facts={"log_seconds": x, "weekday": weekday, "seconds": round(seconds, 3)},
            )
        )
    b.streak = (b.streak if confirms_streak else []) + [[x, float(weekday), dev]]
    if confirms_day and flag is not None:
        # The same weekday, the same way, two weeks running: a weekly pattern.
        _learn_duration(b, flag[0], weekday)
        _learn_duration(b, x, weekday)
        b.day_flag.pop(str(weekday), None)
        b.streak = []
    elif len(b.streak) >= SHIFT_RUNS:
        # A step: move the whole baseline by the streak's median deviation (the spread
        # learned so far stays), then learn the streak's runs.
        delta = _median([s[2] for s in b.streak])
        b.durs = [[round(v + delta, 4), w] for v, w in b.durs]
        for v, w, _ in b.streak:
            _learn_duration(b, v, int(w))
        b.streak = []
        b.day_flag = {}
    else:
        b.day_flag[str(weekday)] = [x, dev]
    return Observation(b, tuple(verdicts) if config.enabled else ())


def running_limit(
    baseline: Baseline, config: DetectorConfig, started_at: datetime
) -> datetime | None:
    """When a run started at ``started_at`` becomes "still running far too long"
    (None during the warm-up). Ingest stores it so the analyzer wakes up then."""
    if len(baseline.durs) < WARMUP_RUNS:
        return None
    t = THRESHOLDS[config.sensitivity]
    weekday = _weekday(started_at, ZoneInfo(config.tz))
    candidates = [_expect(baseline, weekday, t)]
    if len(baseline.days[weekday]) < 3:  # as _judge: beyond both expectations
        candidates.append(_expect(baseline, weekday, t, False))
    limit = max(
        max(math.exp(e.center + e.band), math.exp(e.center) + t.floor_seconds) for e in candidates
    )
    # Runs like one the user accepted, or like a long run that may be the start of a
    # new normal (a step, or a weekly pattern), are left to finish: their completion
    # decides (see observe_completion).
    known = [a for a, _ in baseline.accepted] + [s[0] for s in baseline.streak if s[2] > 0]
    flag = baseline.day_flag.get(str(weekday))
    if flag is not None and flag[1] > 0:
        known.append(flag[0])
    for x in known:
        limit = max(limit, math.exp(x + math.log(1.5)))
    return started_at + timedelta(seconds=math.ceil(limit))


def check_running(
    baseline: Baseline, config: DetectorConfig, started_at: datetime, now: datetime
) -> Verdict | None:
    """The analyzer's question for a run still going at ``now``."""
    limit = running_limit(baseline, config, started_at)
    if limit is None or now < limit or not config.enabled:
        return None
    zone = ZoneInfo(config.tz)
    e = _expect(baseline, _weekday(started_at, zone), THRESHOLDS[config.sensitivity])
    elapsed = (now - started_at).total_seconds()
    local = started_at.astimezone(zone)
    return Verdict(
        kind=AnomalyKind.STILL_RUNNING_LONG,
        at=now,
        run_started=started_at,
        explanation=(
            f"still running after {human_length(elapsed)} (started {local:%Y-%m-%d %H:%M} "
            f"{config.tz}); {_usual(e)}"
        ),
        facts={"seconds": round(elapsed, 3)},
    )


@lru_cache(maxsize=1024)
def _baseline_to_read(baseline_json: str) -> Baseline:
    """``Baseline.from_json``, remembered by text, for readers that never change it
    (``running_wake``: ingest asks it for every ping of a check with open runs, on the
    same baseline until the batch learns)."""
    return Baseline.from_json(baseline_json)


def running_wake(
    baseline_json: str | None, config: DetectorConfig, starts: list[datetime]
) -> datetime | None:
    """The earliest instant one of the open runs (their starts) becomes far too long and
    has not been reported yet: when the analyzer must look (None: never)."""
    if not config.enabled or not baseline_json or not starts:
        return None
    baseline = _baseline_to_read(baseline_json)
    told = set(baseline.told)
    limits = [running_limit(baseline, config, s) for s in starts if s.timestamp() not in told]
    found = [limit for limit in limits if limit is not None]
    return min(found) if found else None


# ---------------------------------------------------------------- timing


def _week(local: datetime) -> int:
    return local.date().toordinal() - local.weekday()


def _time_ranges(starts: list[list[int]], tolerance: int) -> str:
    """The usual start times as clusters: "02:58-03:07" or "02:58-03:07, 14:00"."""
    minutes = sorted({s[0] for s in starts})
    groups: list[list[int]] = []
    for m in minutes:
        if groups and m - groups[-1][-1] <= tolerance:
            groups[-1].append(m)
        else:
            groups.append([m])
    if len(groups) > 1 and minutes[0] + 1440 - groups[-1][-1] <= tolerance:
        groups[0] = groups.pop() + groups[0]  # a cluster across midnight
    parts = [
        _clock(g[0]) if g[0] == g[-1] else f"{_clock(g[0])}{DASH}{_clock(g[-1])}"
        for g in groups[:3]
    ]
    more = f" and {len(groups) - 3} other times" if len(groups) > 3 else ""
    return ", ".join(parts) + more


def _days_list(days: list[int]) -> str:
    return ", ".join(_WEEKDAYS[d][:3] for d in days)


def _observe_start(b: Baseline, config: DetectorConfig, at: datetime) -> list[Verdict]:
    zone = ZoneInfo(config.tz)
    t = THRESHOLDS[config.sensitivity]
    at = at.astimezone(UTC)
    local = at.astimezone(zone)
    lm = local.hour * 60 + local.minute
    um = at.hour * 60 + at.minute
    weekday = local.weekday()
    week = _week(local)
    epoch = at.timestamp()
    verdicts: list[Verdict] = []
    b.n_starts += 1

    # -- extra runs: the gap since the previous start
    if b.last_start is not None:
        gap = max(epoch - b.last_start, 0.0)
        shortest = _quantile(b.gaps, 0.1) if len(b.gaps) >= WARMUP_RUNS else None
        floor = t.often_fraction * shortest if shortest is not None else None
        extra = floor is not None and gap < floor
        if extra and b.accepted_gap is not None and gap >= b.accepted_gap * 0.8:
            extra = False
        if extra and floor is not None and shortest is not None:
            in_burst = b.burst_since is not None and epoch - b.burst_since < shortest
            if not in_burst:
                b.burst_since = epoch
                previous = datetime.fromtimestamp(b.last_start, UTC).astimezone(zone)
                verdicts.append(
                    Verdict(
                        kind=AnomalyKind.TOO_OFTEN,
                        at=at,
                        run_started=at,
                        explanation=(
                            f"started {human_length(gap)} after the previous run "
                            f"({previous:%Y-%m-%d %H:%M:%S} {config.tz}); runs are usually "
                            f"at least {human_length(shortest)} apart over the last "
                            f"{len(b.gaps)} runs"
                        ),
                        facts={"gap": round(gap, 3)},
                    )
                )
            b.fast_gaps = ([*b.fast_gaps, round(gap, 3)])[-FAST_RUNS:]
            if len(b.fast_gaps) >= FAST_RUNS:  # a new, faster rhythm
                b.gaps = list(b.fast_gaps)
                b.fast_gaps = []
                b.burst_since = None
        else:
            b.gaps = ([*b.gaps, round(gap, 3)])[-N_GAPS:]
            b.fast_gaps = []
            b.burst_since = None
    b.last_start = epoch

    # -- time of day, in the check's zone or in UTC (so DST changes are no anomaly)
    tol = t.time_tolerance_min
    sparse = (
        len(b.starts) >= WARMUP_RUNS
        and len(b.gaps) >= WARMUP_RUNS - 1
        and _quantile(b.gaps, 0.1) >= 2 * tol * 60
    )

    def close(s: list[int]) -> bool:
        return _circular(lm, s[0]) <= tol or _circular(um, s[1]) <= tol

    if (
        sparse
        and sum(1 for s in b.starts if close(s)) + 2 * sum(1 for s in b.accepted_times if close(s))
        < 2
    ):
        pending = [p for p in b.pending_times if close(p)]
        if pending:  # the second start at this new time: it is the job's time now
            b.starts = (b.starts + pending + [[lm, um]])[-N_STARTS:]
            b.pending_times = [p for p in b.pending_times if p not in pending]
        else:
            verdicts.append(
                Verdict(
                    kind=AnomalyKind.UNUSUAL_TIME,
                    at=at,
                    run_started=at,
                    explanation=(
                        f"started at {local:%H:%M} ({_WEEKDAYS[weekday]}, {config.tz}); over the "
                        f"last {len(b.starts)} runs it started at {_time_ranges(b.starts, tol)}"
                    ),
                    facts={"local_minute": lm, "utc_minute": um},
                )
            )
            b.pending_times = ([*b.pending_times, [lm, um]])[-N_ACCEPTED:]
    else:
        b.starts = ([*b.starts, [lm, um]])[-N_STARTS:]

    # -- day of week (only for jobs that run at least weekly)
    if b.first_week is None:
        b.first_week = week
    # As for the time of day, the weekday in UTC counts too: a job at 23:30 local that
    # is on UTC time lands on the next local day after a DST change.
    utc_day, utc_week = at.weekday(), _week(at)

    def remember(local_week: int, in_utc: int) -> None:
        if not b.weeks[weekday] or b.weeks[weekday][-1] != local_week:
            b.weeks[weekday] = [*b.weeks[weekday], local_week][-4:]
        if not b.utc_weeks[utc_day] or b.utc_weeks[utc_day][-1] != in_utc:
            b.utc_weeks[utc_day] = [*b.utc_weeks[utc_day], in_utc][-4:]

    recent = any(week - w < 7 * DAY_WEEKS for w in b.weeks[weekday]) or any(
        utc_week - w < 7 * DAY_WEEKS for w in b.utc_weeks[utc_day]
    )
    weekly = len(b.gaps) >= WARMUP_RUNS - 1 and _quantile(b.gaps, 0.9) <= 7.5 * 86400
    usual_day = recent or weekday in b.accepted_days
    if week - b.first_week >= 7 * DAY_MIN_WEEKS and weekly and not usual_day:
        if b.pending_days.get(str(weekday)) not in (None, week):  # second week: usual now
            b.weeks[weekday] = [*b.weeks[weekday], b.pending_days.pop(str(weekday))][-4:]
            remember(week, utc_week)
        elif str(weekday) not in b.pending_days:
            usual = [d for d in range(7) if any(week - w < 7 * DAY_WEEKS for w in b.weeks[d])]
            verdicts.append(
                Verdict(
                    kind=AnomalyKind.UNUSUAL_DAY,
                    at=at,
                    run_started=at,
                    explanation=(
                        f"started on a {_WEEKDAYS[weekday]} ({local:%Y-%m-%d %H:%M} {config.tz}); "
                        f"in the last {DAY_WEEKS} weeks it ran only on {_days_list(usual)}"
                    ),
                    facts={"weekday": weekday},
                )
            )
            b.pending_days[str(weekday)] = week
    else:
        remember(week, utc_week)
    return verdicts


def observe_start(
    baseline: Baseline, config: DetectorConfig, at: datetime, *, in_place: bool = False
) -> Observation:
    """A run started (a start ping): timing verdicts (unusual time or day, extra run).
    ``in_place`` as for ``observe_completion``."""
    b = baseline if in_place else baseline.copy()
    verdicts = _observe_start(b, config, at)
    return Observation(b, tuple(verdicts) if config.enabled else ())


# ---------------------------------------------------------------- feedback


def teach_expected(baseline: Baseline, kind: AnomalyKind, facts: dict[str, Any]) -> Baseline:
    """The user said an anomaly was expected: runs like it are normal from now on."""
    b = baseline.copy()
    try:
        if kind in (AnomalyKind.DURATION_LONG, AnomalyKind.DURATION_SHORT):
            x, weekday = float(facts["log_seconds"]), int(facts["weekday"])
            b.accepted = ([*b.accepted, [x, float(weekday)]])[-N_ACCEPTED:]
            _learn_duration(b, x, weekday)
            b.streak = []
            b.day_flag.pop(str(weekday), None)
        elif kind == AnomalyKind.STILL_RUNNING_LONG:
            seconds = float(facts["seconds"])
            b.accepted = ([*b.accepted, [_log(seconds), -1.0]])[-N_ACCEPTED:]
        elif kind == AnomalyKind.UNUSUAL_TIME:
            entry = [int(facts["local_minute"]), int(facts["utc_minute"])]
            b.accepted_times = ([*b.accepted_times, entry])[-N_ACCEPTED:]
        elif kind == AnomalyKind.UNUSUAL_DAY:
            weekday = int(facts["weekday"])
            b.pending_days.pop(str(weekday), None)
            if weekday not in b.accepted_days:
                b.accepted_days = sorted([*b.accepted_days, weekday])
        elif kind == AnomalyKind.TOO_OFTEN:
            gap = float(facts["gap"])
            b.accepted_gap = gap if b.accepted_gap is None else min(b.accepted_gap, gap)
    except (KeyError, TypeError, ValueError):
        return baseline
    return b


# ---------------------------------------------------------------- replay


MAX_OPEN_RUNS = 32  # as domain.status keeps on the check row


@dataclass(frozen=True, slots=True)
class HistoryPing:
    """One ping of a recorded history (``srvpulse detect``, the benchmark)."""

    ts: datetime
    kind: str  # start | success | fail | log
    rid: str | None = None
    exit_status: int | None = None


@dataclass(frozen=True, slots=True)
class Detection:
    """A verdict found while replaying, with the ping (or instant) it was found at."""

    ts: datetime
    verdict: Verdict


def replay(pings: list[HistoryPing], config: DetectorConfig) -> tuple[list[Detection], Baseline]:
    """Replay a history in time order through the detector, as ingest and the analyzer
    would have seen it: each verdict uses only the pings before it. A run still going
    is looked at when its limit passes (before the next ping after that instant)."""
    baseline = Baseline()
    found: list[Detection] = []
    open_runs: dict[str, datetime] = {}
    # When each open run becomes "still running too long", computed when it starts
    # (ingest does the same and stores it for the analyzer).
    limits: dict[datetime, datetime] = {}
    flagged: set[datetime] = set()
    for ping in sorted(pings, key=lambda p: p.ts):
        for started, limit in sorted(limits.items()):
            if limit > ping.ts:
                continue
            del limits[started]
            verdict = check_running(baseline, config, started, limit)
            if verdict is not None:
                flagged.add(started)
                found.append(Detection(limit, verdict))
        if ping.kind == "log":
            continue
        if ping.kind == "start":
            replaced = open_runs.get(ping.rid or "")
            if replaced is not None:
                limits.pop(replaced, None)
            open_runs[ping.rid or ""] = ping.ts
            while len(open_runs) > MAX_OPEN_RUNS:
                limits.pop(open_runs.pop(min(open_runs, key=lambda k: open_runs[k])), None)
            obs = observe_start(baseline, config, ping.ts)
            deadline = running_limit(obs.baseline, config, ping.ts)
            if deadline is not None:
                limits[ping.ts] = deadline
        else:
            begun: datetime | None
            if ping.rid:
                begun = open_runs.pop(ping.rid, None)
            elif "" in open_runs:
                begun = open_runs.pop("")
            elif open_runs:
                begun = open_runs.pop(max(open_runs, key=lambda k: open_runs[k]))
            else:
                begun = None
            failed = ping.kind == "fail" or (ping.exit_status or 0) != 0
            obs = observe_completion(
                baseline,
                config,
                ping.ts,
                begun,
                failed=failed,
                flagged_while_running=begun in flagged,
            )
            if begun is not None:
                flagged.discard(begun)
                limits.pop(begun, None)
        baseline = obs.baseline
        found.extend(Detection(ping.ts, v) for v in obs.verdicts)
    return found, baseline
