"""The check status machine (pure; ``now`` is a parameter).

Two entry points move a check:

- ``apply_ping`` (ingest): a ping arrived. The one decision of what it does to the check:
  whether it was overtaken by a newer ping (stored, but the check does not move), which
  run it completes and how long that took, the new state and the flip. success -> up,
  fail / non-zero exit / a run a check rule finds failed -> down at once; start
  opens a run (per ``rid``); log changes nothing; a paused check with ``manual_resume``
  stays paused. What else makes a finished run a failure (too short, too long, too
  often) is the check rules' (domain/check_rules/), asked through ``judge_finished``.
- ``evaluate`` (analyzer): the clock moved. An expected ping that did not come within
  ``grace`` -> down (late); an open run past the check rules' ``run_limit``
  (``max_duration``; ``grace`` when no rule sets one, as Healthchecks does) -> down
  (too long). While down, every further missed
  run counts as another consecutive failure, so "alert after N failures" works for a job
  that stopped running altogether.

Both return the check with ``alert_after`` recomputed: the next instant at which the
clock alone could change the check. Whenever a ping creates a flip or a failure while the
check is down, ``next_reminder_at`` (when the alert rules must look next) is set to the
ping's time, so the analyzer picks the check up on its next pass and runs the alert
rules (domain.rules). ``evaluate`` derives what happened from the state, never from
``alert_after`` itself, so an early or repeated wake up is harmless.

Ingestion lag: ``evaluate(check, now)`` is called with ``now`` = the instant ingestion
has caught up to (services.analyzing), not the wall clock, so no deadline is judged
missed while the pings that would meet it may still be queued.

Stored statuses: new, up, started, down, paused. ``grace`` is only shown (``status_at``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from . import check_rules
from .detection import detector_config, running_wake
from .keywords import filtered_kind
from .model import Check, Flip, FlipReason, PingKind, PingMessage, Status, utc
from .schedule import next_expected_after, next_expected_ping

# Open runs kept per check: jobs that start with a fresh rid and never finish must not
# grow the row without bound; the oldest run is dropped first.
MAX_OPEN_RUNS = 32
# Consecutive failures are counted up to this; a check down for months stops waking the
# analyzer at every missed run once every "after N failures" rule is long satisfied.
MAX_COUNTED_FAILURES = 100
# A check down for longer than this many missed runs is evaluated once per run at most.
_MAX_MISSES_PER_EVALUATION = 1000


@dataclass(frozen=True, slots=True)
class RunLog:
    """What a check's kept pings say about run ids: when the newest start and the newest
    completion (success or failure) with each rid were received. Ingest reads it for the
    rids of the pings it applies; each applied ping adds itself (``PingOutcome.runs``),
    so the next ping of the same batch sees it without a read."""

    starts: Mapping[str, datetime] = field(default_factory=dict)
    completions: Mapping[str, datetime] = field(default_factory=dict)

    def with_ping(self, recorded_kind: str, rid: str | None, at: datetime) -> RunLog:
        if not rid:
            return self
        if recorded_kind == PingKind.START.value:
            return RunLog({**self.starts, rid: at}, self.completions)
        if recorded_kind in (PingKind.SUCCESS.value, PingKind.FAIL.value):
            return RunLog(self.starts, {**self.completions, rid: at})
        return self


NO_RUNS = RunLog()
# The kind a ping is recorded with when it was received but did not move the check.
IGNORED = "ign"


@dataclass(frozen=True, slots=True)
class PingOutcome:
    check: Check  # the check after the ping, n_pings counted (version not yet incremented)
    flip: Flip | None  # a status change worth recording, if any
    duration_ms: int | None  # run duration, when this ping completes a started run
    counted: bool  # False when the ping was recorded but ignored (log, paused, wrong method)
    # What the ping history shows: success/start/fail/log, or "ign" when it did not count.
    recorded_kind: str = PingKind.SUCCESS.value
    late: bool = False  # overtaken by a newer ping: stored, but the check did not move
    runs: RunLog = NO_RUNS  # the run log with this ping added


@dataclass(frozen=True, slots=True)
class Evaluation:
    check: Check  # the check at ``now`` (version not yet incremented)
    flip: Flip | None  # up/started -> down, timed at the deadline that passed
    failures_added: int  # missed runs and overdue runs counted in this evaluation


def effective_kind(ping: PingMessage) -> PingKind:
    """An exit status decides success/failure: 0 is success, anything else a failure."""
    if ping.exit_status is not None:
        return PingKind.SUCCESS if ping.exit_status == 0 else PingKind.FAIL
    return ping.kind


# --- open runs --------------------------------------------------------------------------


def open_runs(check: Check) -> dict[str, datetime]:
    """The check's open runs, rid -> start ("" for a run started without a rid)."""
    stored = check.open_runs
    if not stored:
        return {}
    found = _PARSED_RUNS.get(stored)
    if found is None:
        raw = json.loads(stored)
        found = tuple((str(rid), utc(datetime.fromisoformat(ts))) for rid, ts in raw.items())
        _remember_runs(stored, found)
    return dict(found)


# Open runs by their stored text: a ping reads the runs it was given and (for the
# deadlines) those it leaves, which the next ping of the check reads again.
_PARSED_RUNS: dict[str, tuple[tuple[str, datetime], ...]] = {}
_PARSED_RUNS_MAX = 4096


def _remember_runs(stored: str, runs: tuple[tuple[str, datetime], ...]) -> None:
    if len(_PARSED_RUNS) >= _PARSED_RUNS_MAX:
        _PARSED_RUNS.clear()
    _PARSED_RUNS[stored] = runs


def _kept_runs(runs: dict[str, datetime]) -> dict[str, datetime]:
    """The newest ``MAX_OPEN_RUNS`` of ``runs``."""
    if len(runs) <= MAX_OPEN_RUNS:
        return runs
    return dict(sorted(runs.items(), key=lambda kv: kv[1])[-MAX_OPEN_RUNS:])


def _dump_runs(runs: dict[str, datetime]) -> str:
    """The stored text of ``runs``: compact JSON {rid: ISO start}, oldest first (what
    ``json.dumps(..., separators=(",", ":"))`` writes; orjson, 10x faster, writes the
    same for run ids in ASCII, and equally valid JSON for others)."""
    if not runs:
        return ""
    ordered = sorted(_kept_runs(runs).items(), key=lambda kv: kv[1])
    stored = orjson.dumps({rid: ts.isoformat() for rid, ts in ordered}).decode()
    if all(ts.tzinfo is UTC for _, ts in ordered):
        _remember_runs(stored, tuple(ordered))  # as open_runs would read the text back
    return stored


def run_limit(check: Check) -> timedelta:
    """How long a run may stay open: the smallest limit a check rule sets (the duration
    rule's ``max_duration``), else ``grace`` (Healthchecks)."""
    seconds = check_rules.run_limit(check.rule_settings)
    return timedelta(seconds=check.grace if seconds is None else seconds)


def _latest(runs: dict[str, datetime]) -> tuple[datetime | None, str | None]:
    if not runs:
        return None, None
    rid, start = max(runs.items(), key=lambda kv: kv[1])
    return start, (rid or None)


# --- deadlines --------------------------------------------------------------------------


def compute_alert_after(check: Check) -> datetime | None:
    """The next instant at which the clock alone can change ``check``: the earliest of
    an open run's limit and the schedule's deadline (expected ping + grace). An open run
    masks the schedule (the job is running), except while down."""
    if check.status in (Status.NEW, Status.PAUSED):
        return None
    candidates: list[datetime] = []
    runs = open_runs(check)
    if runs:
        candidates.append(min(runs.values()) + run_limit(check))
        wake = running_wake(check.baseline, detector_config(check), list(runs.values()))
        if wake is not None:  # pattern detection: a run far past its usual length
            candidates.append(wake)
    if not runs or check.status is Status.DOWN:
        counting = (
            check.status is not Status.DOWN or check.consecutive_failures < MAX_COUNTED_FAILURES
        )
        expected = next_expected_ping(check)
        if expected is not None and counting:
            candidates.append(expected + timedelta(seconds=check.grace))
    return min(candidates) if candidates else None


def with_deadlines(check: Check) -> Check:
    """``check`` with ``alert_after`` recomputed: call after editing schedule settings."""
    return check.with_changes(alert_after=compute_alert_after(check))


# --- pings ------------------------------------------------------------------------------


def apply_ping(check: Check, ping: PingMessage, runs: RunLog | None = None) -> PingOutcome:
    """Everything ``ping`` does to ``check``, given what the check's kept pings say about
    run ids (``runs``; None when no ping involved has a rid): the check afterwards (its
    ``n_pings`` counted), the flip, the run's duration, the kind the ping is recorded
    with, and the run log with this ping in it. Ingest only loads, calls this, and saves.

    Neither SQS nor concurrent ingests keep order: a fast job's start can be ingested
    after its own success, or an old failure after a newer success. Such a *late* ping
    is recorded under its own kind but does not move the check (it would reopen a
    finished run, a false "too long" later, or take a healthy check down): a completion
    older than the check's last completion; a start whose run already has a stored
    completion; without a rid, a start older than the last completion.
    """
    runs = runs or NO_RUNS
    filtered = filtered_kind(check, effective_kind(ping), ping.body)
    if filtered is None:  # keyword filtering ignores it (domain/keywords.py)
        ignored = check.with_changes(n_pings=check.n_pings + 1)
        return PingOutcome(ignored, None, None, False, IGNORED, runs=runs)
    kind = filtered
    if _is_late(check, ping, kind, runs):
        moved = check.with_changes(n_pings=check.n_pings + 1)
        outcome = PingOutcome(moved, None, None, True, kind.value, late=True)
    else:
        start = None if kind is PingKind.START else _start_of_run(check, ping, runs)
        outcome = _move(check, ping, kind, start)
    recorded = outcome.recorded_kind
    return PingOutcome(
        outcome.check,
        outcome.flip,
        outcome.duration_ms,
        outcome.counted,
        recorded,
        outcome.late,
        runs.with_ping(recorded, ping.rid, utc(ping.received_at)),
    )


def _is_late(check: Check, ping: PingMessage, kind: PingKind, runs: RunLog) -> bool:
    if kind is PingKind.LOG:
        return False
    at = utc(ping.received_at)
    if kind is PingKind.START and ping.rid:
        done = runs.completions.get(ping.rid)
        return done is not None and done >= at
    return check.last_ping is not None and at < check.last_ping


def _start_of_run(check: Check, ping: PingMessage, runs: RunLog) -> datetime | None:
    """When the run this completion ends began, if the check's open runs do not say: the
    kept start with the same rid, else the check's last start (unless that start belongs
    to another run id)."""
    if ping.rid:
        found = runs.starts.get(ping.rid)
        if found is not None:
            return found
        if check.last_start_rid not in (None, ping.rid):
            return None
    return check.last_start


def _move(
    check: Check, ping: PingMessage, kind: PingKind, start_of_run: datetime | None
) -> PingOutcome:
    """Move ``check`` for a ping that is not late. ``start_of_run``: when the run this
    ping completes began if the check's own open runs do not say (they take precedence)."""
    now = utc(ping.received_at)
    if check.methods == "POST" and ping.method != "POST":
        return PingOutcome(_counted_only(check), None, None, False, IGNORED)
    if kind is PingKind.LOG:
        return PingOutcome(_counted_only(check), None, None, False, kind.value)
    if check.status is Status.PAUSED and check.manual_resume:
        return PingOutcome(_counted_only(check), None, None, False, IGNORED)

    runs = open_runs(check)
    changes: dict[str, object] = {"n_pings": check.n_pings + 1, "last_ping_kind": kind}
    if kind is PingKind.START:
        runs[ping.rid or ""] = now
        stored = _dump_runs(runs)
        start, rid = _latest(_kept_runs(runs))
        # A start never hides a failure: a down check stays down until it succeeds.
        status = Status.DOWN if check.status is Status.DOWN else Status.STARTED
        changes.update(open_runs=stored, last_start=start, last_start_rid=rid, status=status)
        moved = check.with_changes(**changes)
        return PingOutcome(with_deadlines(moved), None, None, True, kind.value)

    # A completion (success or failure) closes the run it belongs to.
    start = runs.pop(ping.rid or "", None)
    if start is None and ping.rid is None and check.last_start_rid in runs:
        start = runs.pop(check.last_start_rid or "")
    if start is None:
        start = start_of_run
    duration_ms: int | None = None
    if start is not None and start <= now:
        duration_ms = int((now - start).total_seconds() * 1000)
        changes["last_duration_ms"] = duration_ms
    last_start, last_rid = _latest(runs)
    changes.update(
        open_runs=_dump_runs(runs),
        last_start=last_start,
        last_start_rid=last_rid,
        last_ping=now,
        missed_deadline=None,
    )

    failure = _failure_reason(check, kind, now, duration_ms)
    old = check.status
    if failure is not None:
        new_status, reason = Status.DOWN, failure
        changes["consecutive_failures"] = min(check.consecutive_failures + 1, MAX_COUNTED_FAILURES)
        changes["consecutive_successes"] = 0
    else:
        successes = check.consecutive_successes + 1
        changes["consecutive_successes"] = successes
        changes["consecutive_failures"] = 0
        if old is Status.DOWN and successes < max(1, check.recovery_threshold):
            new_status = Status.DOWN  # not enough consecutive successes yet
        else:
            new_status = Status.STARTED if runs else Status.UP
        reason = FlipReason.RESUMED if old is Status.PAUSED else FlipReason.RECOVERED
    changes["status"] = new_status

    flip = None
    # A new check's first good run is not news; anything else that changes what the
    # API shows (up/down/paused) is a flip.
    if (_shown(old) is not _shown(new_status) and old is not Status.NEW) or (
        old is Status.NEW and new_status is Status.DOWN
    ):
        flip = Flip(check.id, now, old, new_status, reason)
    if flip is not None or new_status is Status.DOWN:
        # The alert rules must run now: a flip, or one more failure that may satisfy an
        # "after N failures" rule. ``next_reminder_at`` (the rules' wake-up), not
        # ``alert_after`` (the clock's): the analyzer holds clock deadlines while
        # ingestion lags, never the alerts for what a ping already said.
        changes["next_reminder_at"] = now
    moved = with_deadlines(check.with_changes(**changes))
    return PingOutcome(moved, flip, duration_ms, True, kind.value)


def _counted_only(check: Check) -> Check:
    return check.with_changes(n_pings=check.n_pings + 1)


def _failure_reason(
    check: Check, kind: PingKind, now: datetime, duration_ms: int | None
) -> FlipReason | None:
    """A failure ping fails; a success is judged by the check rules (domain/check_rules)."""
    if kind is PingKind.FAIL:
        return FlipReason.FAILED
    if not check.rule_settings:
        return None  # every rule off: nothing to judge
    run = check_rules.FinishedRun(now, duration_ms, previous_at=check.last_ping)
    return check_rules.judge_finished(check.rule_settings, run)


def _shown(status: Status) -> Status:
    """Up and started are the same for flips: a run starting is not an alert."""
    return Status.UP if status is Status.STARTED else status


# --- the clock --------------------------------------------------------------------------


def evaluate(check: Check, now: datetime) -> Evaluation:
    """What the clock alone does to ``check`` by ``now``: overdue runs and missed
    expected pings are failures; the first one takes an up/started check down (the flip
    is timed at that deadline). Idempotent: evaluating again at the same ``now`` changes
    nothing more."""
    now = utc(now)
    if check.status in (Status.NEW, Status.PAUSED):
        return Evaluation(check.with_changes(alert_after=None), None, 0)
    runs = open_runs(check)
    limit = run_limit(check)
    events: list[tuple[datetime, FlipReason]] = []
    for rid, start in sorted(runs.items(), key=lambda kv: kv[1]):
        if start + limit <= now:
            del runs[rid]  # counted once: its completion, if it ever comes, is judged alone
            events.append((start + limit, FlipReason.TOO_LONG))

    missed = check.missed_deadline
    # A running job is not late: while runs are open (and the check is not down) only
    # their limits count. A run found overdue stands for its period, so the schedule
    # continues from its deadline instead of counting the same period twice.
    masked = check.status is not Status.DOWN and (bool(runs) or bool(events))
    if events and check.status is not Status.DOWN:
        missed = max(at for at, _ in events)
    if not masked:
        ref = missed or check.last_ping
        grace = timedelta(seconds=check.grace)
        failures = check.consecutive_failures + len(events)
        for _ in range(_MAX_MISSES_PER_EVALUATION):
            if ref is None or failures >= MAX_COUNTED_FAILURES:
                break
            expected = next_expected_after(check, ref)
            if expected + grace > now:
                break
            events.append((expected + grace, FlipReason.LATE))
            failures += 1
            ref = missed = expected

    events.sort(key=lambda e: e[0])
    last_start, last_rid = _latest(runs)
    changes: dict[str, object] = {
        "open_runs": _dump_runs(runs),
        "last_start": last_start,
        "last_start_rid": last_rid,
        "missed_deadline": missed,
    }
    flip = None
    if events:
        changes["consecutive_failures"] = min(
            check.consecutive_failures + len(events), MAX_COUNTED_FAILURES
        )
        changes["consecutive_successes"] = 0
        if check.status is not Status.DOWN:
            at, reason = events[0]
            flip = Flip(check.id, at, check.status, Status.DOWN, reason)
            changes["status"] = Status.DOWN
    elif check.status is Status.STARTED and not runs:
        changes["status"] = Status.UP  # defensive: a started check with no open run
    moved = with_deadlines(check.with_changes(**changes))
    return Evaluation(moved, flip, len(events))


# --- pause / resume ---------------------------------------------------------------------


def pause(check: Check, now: datetime) -> tuple[Check, Flip | None]:
    """Pause: the clock is ignored, open runs are forgotten. The flip (if any) is there
    so the analyzer closes any alerting period (no alert is sent for it)."""
    if check.status is Status.PAUSED:
        return check, None
    flip = Flip(check.id, utc(now), check.status, Status.PAUSED, FlipReason.PAUSED)
    paused = check.with_changes(
        status=Status.PAUSED,
        open_runs="",
        last_start=None,
        last_start_rid=None,
        missed_deadline=None,
        alert_after=utc(now),
    )
    return paused, flip


def resume(check: Check, now: datetime) -> tuple[Check, Flip | None]:
    """Resume a paused check: it becomes new and waits for its next ping (Healthchecks)."""
    if check.status is not Status.PAUSED:
        return check, None
    flip = Flip(check.id, utc(now), Status.PAUSED, Status.NEW, FlipReason.RESUMED)
    resumed = check.with_changes(
        status=Status.NEW,
        last_ping=None,
        open_runs="",
        last_start=None,
        last_start_rid=None,
        missed_deadline=None,
        consecutive_failures=0,
        consecutive_successes=0,
        alert_after=utc(now),
    )
    return resumed, flip


# --- what the API shows -----------------------------------------------------------------


def status_at(check: Check, now: datetime) -> Status:
    """The status the API shows at ``now``: the stored one, with ``grace`` derived while
    a ping is overdue but within its grace time, and ``down`` once a deadline has passed
    even if the analyzer has not written the flip yet (it will within seconds)."""
    now = utc(now)
    if check.status is Status.STARTED:
        runs = open_runs(check)
        if runs and min(runs.values()) + run_limit(check) <= now:
            return Status.DOWN
        return Status.STARTED
    if check.status is Status.UP:
        expected = next_expected_ping(check)
        if expected is not None and now > expected:
            if now >= expected + timedelta(seconds=check.grace):
                return Status.DOWN
            return Status.GRACE
    return check.status
