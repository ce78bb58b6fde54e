"""Pattern detection applied to a Check (pure): what a ping and the clock do to the
check's baseline, and which verdicts they give.

``domain.detection`` holds the statistics over a ``Baseline``; this module reads and
writes that baseline on the ``Check`` (its ``baseline`` column) and knows the check's
runs (``domain.status`` open runs), so ingest and the analyzer each make one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .detection import (
    Baseline,
    Verdict,
    check_running,
    detector_config,
    observe_completion,
    observe_start,
)
from .model import Check, PingKind
from .status import MAX_OPEN_RUNS, open_runs, with_deadlines


@dataclass(frozen=True, slots=True)
class DetectionStep:
    check: Check
    verdicts: tuple[Verdict, ...] = ()
    baseline: Baseline | None = None  # the check's new baseline, parsed (None: unchanged)


def on_ping(
    check: Check,
    kind: PingKind,
    at: datetime,
    duration_ms: int | None,
    counted: bool,
    baseline: Baseline | None = None,
    *,
    write: bool = True,
    owned: bool = False,
) -> DetectionStep:
    """After ``domain.status.apply_ping`` moved ``check`` for a ping of effective
    ``kind`` at ``at`` (``duration_ms``: the run it completed, if known). A ping that
    did not count (late, ignored, log) teaches nothing. With verdicts, ``alert_after``
    becomes ``at`` so the analyzer sends their alerts on its next pass. ``baseline``:
    the check's baseline already parsed (a batch of pings of one check parses its JSON
    once) and with ``write=False`` the returned check's ``baseline`` column is left for
    the caller to write once, from ``step.baseline``. ``owned``: that baseline is the
    caller's own working copy (one this function returned), so it is updated in place
    instead of copied."""
    if not counted or kind is PingKind.LOG:
        return DetectionStep(check, (), baseline)
    config = detector_config(check)
    # A baseline parsed here is this call's own: updated in place instead of copied.
    owned = owned or baseline is None
    if baseline is None:
        baseline = Baseline.from_json(check.baseline)
    if kind is PingKind.START:
        obs = observe_start(baseline, config, at, in_place=owned)
    else:
        started = None if duration_ms is None else at - timedelta(milliseconds=duration_ms)
        told = started is not None and started.timestamp() in baseline.told
        obs = observe_completion(
            baseline,
            config,
            at,
            started,
            failed=kind is PingKind.FAIL,
            flagged_while_running=told,
            in_place=owned,
        )
        if told and started is not None:
            obs.baseline.told = [t for t in obs.baseline.told if t != started.timestamp()]
    moved = check.with_changes(baseline=obs.baseline.to_json()) if write else check
    if obs.verdicts:
        soonest = at if moved.alert_after is None else min(moved.alert_after, at)
        moved = moved.with_changes(alert_after=soonest)
    return DetectionStep(moved, obs.verdicts, obs.baseline)


def on_clock(check: Check, now: datetime) -> DetectionStep:
    """The analyzer's question at ``now``: is an open run far past its usual length?
    Each run is reported once (remembered in the baseline's ``told``)."""
    runs = open_runs(check)
    if not runs or not check.detection or not check.baseline:
        return DetectionStep(check)
    config = detector_config(check)
    baseline = Baseline.from_json(check.baseline)
    verdicts: list[Verdict] = []
    for start in sorted(runs.values()):
        if start.timestamp() in baseline.told:
            continue
        verdict = check_running(baseline, config, start, now)
        if verdict is not None:
            verdicts.append(verdict)
            baseline.told = [*baseline.told, start.timestamp()][-MAX_OPEN_RUNS:]
    if not verdicts:
        return DetectionStep(check)
    return DetectionStep(
        with_deadlines(check.with_changes(baseline=baseline.to_json())), tuple(verdicts)
    )
