"""The check status machine: how a ping moves a check (pure; ``now`` is a parameter).

The foundation version: success -> up, fail/non-zero exit -> down, start -> started,
log -> no change, paused checks stay paused only with ``manual_resume``. The analyzer
issue extends it with schedules, thresholds and duration rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .model import Check, Flip, FlipReason, PingKind, PingMessage, Status


@dataclass(frozen=True, slots=True)
class PingOutcome:
    check: Check  # the check after the ping (version not yet incremented)
    flip: Flip | None  # a status change worth recording, if any
    duration_ms: int | None  # run duration, when this ping completes a started run
    counted: bool  # False when the ping was recorded but ignored (log, paused, wrong method)


def effective_kind(ping: PingMessage) -> PingKind:
    """An exit status decides success/failure: 0 is success, anything else a failure."""
    if ping.exit_status is not None:
        return PingKind.SUCCESS if ping.exit_status == 0 else PingKind.FAIL
    return ping.kind


def apply_ping(check: Check, ping: PingMessage, start_of_run: datetime | None) -> PingOutcome:
    """Move ``check`` for ``ping``. ``start_of_run`` is when the run this ping completes
    began (found by rid, or the check's last start), or None."""
    kind = effective_kind(ping)
    now = ping.received_at
    if check.methods == "POST" and ping.method != "POST":
        return PingOutcome(check, None, None, counted=False)
    if kind is PingKind.LOG:
        return PingOutcome(check.with_changes(n_pings=check.n_pings + 1), None, None, False)
    if check.status is Status.PAUSED and check.manual_resume:
        return PingOutcome(check.with_changes(n_pings=check.n_pings + 1), None, None, False)

    changes: dict[str, object] = {"n_pings": check.n_pings + 1, "last_ping_kind": kind}
    duration_ms: int | None = None
    if kind is PingKind.START:
        changes.update(last_start=now, last_start_rid=ping.rid)
        # A start never hides a failure: a down check stays down until it succeeds.
        new_status = Status.DOWN if check.status is Status.DOWN else Status.STARTED
        changes["status"] = new_status
        return PingOutcome(check.with_changes(**changes), None, None, counted=True)

    if start_of_run is not None and start_of_run <= now:
        duration_ms = int((now - start_of_run).total_seconds() * 1000)
        changes["last_duration_ms"] = duration_ms
    if start_of_run is not None and (ping.rid is None or ping.rid == check.last_start_rid):
        changes["last_start"] = None
        changes["last_start_rid"] = None
    changes["last_ping"] = now
    if kind is PingKind.FAIL:
        new_status, reason = Status.DOWN, FlipReason.FAILED
        changes["consecutive_failures"] = check.consecutive_failures + 1
        changes["consecutive_successes"] = 0
    else:
        new_status, reason = Status.UP, FlipReason.RECOVERED
        changes["consecutive_successes"] = check.consecutive_successes + 1
        changes["consecutive_failures"] = 0
    changes["status"] = new_status
    old = Status.UP if check.status is Status.STARTED else check.status
    flip = None
    if old is not new_status and not (old is Status.NEW and new_status is Status.UP):
        flip = Flip(check.id, now, check.status, new_status, reason)
    return PingOutcome(check.with_changes(**changes), flip, duration_ms, counted=True)


def status_at(check: Check, now: datetime) -> Status:
    """The status the API shows at ``now``: the stored one, with ``grace`` derived while
    a ping is overdue but the grace time has not run out (the analyzer flips to down)."""
    if check.status in (Status.UP, Status.STARTED):
        from .schedule import next_expected_ping

        expected = next_expected_ping(check)
        if expected is not None and now > expected:
            return Status.GRACE
    return check.status
