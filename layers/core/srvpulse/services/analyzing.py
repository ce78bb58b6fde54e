"""The analyzer: one pass finds the checks due now, moves them on the clock, runs the
alert rules for each assigned channel and publishes the alert events.

A pass:

1. asks the IngestLag port how far ingestion has caught up (``caught_up_to``): no
   deadline after that instant is judged, so pings still queued never turn into false
   "late" or "too long" alerts; the checks they belong to are looked at once ingestion
   has caught up with their deadline (and go down then if the ping really is missing);
2. re-publishes outbox events whose publisher crashed between commit and publish
   (claimed more than ``claim_lease`` ago and never marked published);
3. reads the due check ids (``alert_after`` <= caught-up instant, ``next_reminder_at``
   <= now; LIMIT) and their context in bulk (unprocessed flips, assignments, maintenance
   windows);
4. decides purely per check (``plan_check``: domain.status.evaluate + domain.rules) and
   writes all the plans grouped (``AnalyzerStore.apply_many``), each guarded by its
   check's version: a plan that lost its race writes nothing and its check is looked at
   again on the next pass;
5. after the commits, publishes the recorded events on the AlertBus and marks them
   published. An event is published by the analyzer that recorded it, or (after a crash)
   by the one that claims it after the lease: never by two at once.

A pass that found a full batch of due checks is followed at once by another
(``run_for``), so a fleet due in the same minute is worked through in one go.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..domain import check_rules
from ..domain.check_detection import on_clock
from ..domain.detection import Verdict
from ..domain.model import AlertEvent, Check, Flip, FlipReason, PingKind, Status, replaced
from ..domain.rules import Assignment, NoticeKind, decide, maintenance_until
from ..domain.status import evaluate
from ..ports import (
    AlertBus,
    AnalysisPlan,
    AnalyzerStore,
    CheckContext,
    IngestLag,
    OutboxEvent,
)

log = logging.getLogger(__name__)

# A lag beyond this is logged as a warning on every pass (deadlines are waiting).
LAG_WARNING_SECONDS = 60.0
_EVAL_FLIP_ID = -1  # placeholder ids of the flips a plan creates
_REMINDER_FLIP_ID = -2


@dataclass(frozen=True, slots=True)
class PassReport:
    due: int = 0  # checks read as due
    written: int = 0  # checks whose plan committed
    lost_races: int = 0  # checks another writer changed first
    flips: int = 0  # flips created by this pass (late, too long, reminders)
    published: int = 0  # alert events published (incl. re-published)
    republished: int = 0
    rows_read: int = 0
    lag_seconds: float = 0.0  # how far ingestion was behind: deadlines after it waited
    full: bool = False  # the due batch was full: more checks may be due right now


def plan_check(
    ctx: CheckContext,
    now: datetime,
    check_url: str = "",
    caught_up_to: datetime | None = None,
) -> AnalysisPlan:
    """The pure decision for one due check at ``now``. The clock's judgments (deadlines,
    runs going on too long) are made only up to ``caught_up_to`` (default ``now``), the
    instant before which every ping has been ingested; the alert rules (first-alert
    delays, reminders, maintenance) run at ``now``."""
    horizon = now if caught_up_to is None else min(now, caught_up_to)
    ev = evaluate(ctx.check, horizon)
    # Pattern detection: a run still going far past its usual length (never a flip).
    detected = on_clock(ev.check, horizon)
    check = detected.check
    new_flips: list[Flip] = []
    flips = list(ctx.new_flips)
    if ev.flip is not None:
        flip = replaced(ev.flip, id=_EVAL_FLIP_ID)
        new_flips.append(flip)
        flips.append(flip)
    flips.sort(key=lambda f: f.created)

    maintenance_end = maintenance_until(ctx.windows, now)
    down = check.status is Status.DOWN
    assignments: list[Assignment] = []
    events: list[AlertEvent] = []
    reminder_needed = False
    for a in ctx.assignments:
        d = decide(
            a,
            flips,
            check_down=down,
            failures=check.consecutive_failures,
            now=now,
            maintenance_end=maintenance_end,
        )
        assignments.append(d.assignment)
        for n in d.notices:
            reminder = n.kind is NoticeKind.REMINDER
            reminder_needed = reminder_needed or reminder
            extra = {} if n.kind is NoticeKind.UP else _details(d.assignment, ctx, check, now)
            if reminder and a.down_reason:
                extra["down_reason"] = a.down_reason
            events.append(
                AlertEvent(
                    flip_id=_REMINDER_FLIP_ID if n.flip_id is None else n.flip_id,
                    channel_id=n.channel_id,
                    check_uuid=check.uuid,
                    check_name=check.name,
                    project_id=check.project_id,
                    status=Status.UP if n.kind is NoticeKind.UP else Status.DOWN,
                    reason=n.reason,
                    created=now,
                    is_reminder=reminder,
                    last_ping=check.last_ping,
                    last_ping_summary=ctx.last_ping_summary,
                    check_url=check_url,
                    extra=extra,
                    channel_kind=a.channel_kind,
                )
            )
    if reminder_needed:
        new_flips.append(
            Flip(check.id, now, Status.DOWN, Status.DOWN, FlipReason.REMINDER, _REMINDER_FLIP_ID)
        )
    reminders = [a.next_reminder_at for a in assignments if a.next_reminder_at is not None]
    wake = min(reminders) if reminders else None
    if wake != check.next_reminder_at:
        check = check.with_changes(next_reminder_at=wake)
    if maintenance_end is None:  # inside a window anomalies are listed, not alerted
        events += _anomaly_events(ctx, check, detected.verdicts, now, check_url)
    return AnalysisPlan(
        check=check,
        before=ctx.check,
        new_flips=new_flips,
        processed_flip_ids=[f.id for f in ctx.new_flips if f.id is not None],
        assignments=assignments,
        events=events,
        new_anomalies=detected.verdicts,
        processed_anomaly_ids=[a.id for a in ctx.new_anomalies],
    )


def _anomaly_events(
    ctx: CheckContext, check: Check, fresh: Sequence[Verdict], now: datetime, check_url: str
) -> list[AlertEvent]:
    """One alert per anomaly (recorded at ingest, or found now: placeholder id
    -(index + 1)) and per assignment that takes anomaly alerts. The status is the
    check's own: an anomaly tells, it does not take the check down."""
    found = [(a.id, a.kind.value, a.explanation) for a in ctx.new_anomalies]
    found += [(-(i + 1), v.kind.value, v.explanation) for i, v in enumerate(fresh)]
    return [
        AlertEvent(
            flip_id=0,
            channel_id=a.channel_id,
            check_uuid=check.uuid,
            check_name=check.name,
            project_id=check.project_id,
            status=check.status,
            reason=FlipReason.ANOMALY,
            created=now,
            last_ping=check.last_ping,
            last_ping_summary=ctx.last_ping_summary,
            check_url=check_url,
            extra={"detail": text, "anomaly_kind": kind},
            channel_kind=a.channel_kind,
            anomaly_id=anomaly_id,
            anomaly_kind=kind,
        )
        for anomaly_id, kind, text in found
        for a in ctx.assignments
        if a.anomaly_alerts
    ]


def _details(a: Assignment, ctx: CheckContext, check: Check, now: datetime) -> dict[str, str]:
    """What the alert text adds to a down alert or reminder (domain.delivery.reason_text):
    how late the job is, the failing ping's exit status, or what a check rule adds for
    its reasons (how long a run took, ...)."""
    reason, since = a.down_reason, a.down_since
    if since is None:
        return {}
    if reason == FlipReason.LATE:
        # A late flip is timed at the deadline, expected time + grace: late since then.
        expected = since - timedelta(seconds=check.grace)
        return {"late_by_seconds": str(int((now - expected).total_seconds()))}
    if reason == FlipReason.FAILED:
        failing = check.last_ping_kind is PingKind.FAIL and ctx.last_exit_status
        return {"exit_status": str(ctx.last_exit_status)} if failing else {}
    # A check rule's reason (too long, too short, too often): the rule says.
    return check_rules.alert_details(reason, check, since)


def _due(check: Check, now: datetime, caught_up_to: datetime) -> bool:
    clock = check.alert_after is not None and check.alert_after <= caught_up_to
    rules = check.next_reminder_at is not None and check.next_reminder_at <= now
    return clock or rules


class NoLag:
    """An IngestLag for callers that ingest synchronously (tests, tools): caught up."""

    def caught_up_to(self, now: datetime) -> datetime:
        return now


class Analyzer:
    """One analyzer: ``run_pass(now)`` as often as needed (AWS: every few seconds inside
    the minutely invocation; local: a worker thread). Several may run at once."""

    def __init__(
        self,
        store: AnalyzerStore,
        bus: AlertBus,
        *,
        lag: IngestLag | None = None,
        site_url: str = "",
        batch_limit: int = 1000,
        max_pass_size: int | None = None,
        claim_lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self.store = store
        self.bus = bus
        self.lag: IngestLag = lag or NoLag()
        self.site_url = site_url.rstrip("/")
        self.batch_limit = batch_limit
        # After a full pass the next one may take up to this many due checks.
        self.max_pass_size = max(batch_limit, max_pass_size or 2 * batch_limit)
        self.claim_lease = claim_lease
        self._pass_size = batch_limit

    def check_url(self, check: Check) -> str:
        return f"{self.site_url}/checks/{check.uuid}" if self.site_url else ""

    def run_pass(self, now: datetime) -> PassReport:
        rows_before = self.store.rows_read
        caught_up = min(now, self.lag.caught_up_to(now))
        lag = (now - caught_up).total_seconds()
        if lag > LAG_WARNING_SECONDS:
            log.warning("ingestion is %.0f s behind: deadlines after %s wait", lag, caught_up)
        stale = self.store.claim_unpublished(now, now - self.claim_lease, self.batch_limit)
        republished = self._publish(stale, now)

        limit = self._pass_size
        ids = self.store.due_check_ids(now, limit, deadlines_until=caught_up)
        # Several analyzers read the same due rows: start at different places so they
        # mostly work on different checks instead of queueing on the same row locks.
        random.shuffle(ids)
        contexts = self.store.load(ids)
        # Another analyzer may have handled a check between our two reads.
        plans = [
            plan_check(ctx, now, self.check_url(ctx.check), caught_up)
            for ctx in contexts
            if _due(ctx.check, now, caught_up)
        ]
        results = self.store.apply_many(plans, now)
        written = lost = flips = 0
        recorded: list[OutboxEvent] = []
        for plan, result in zip(plans, results, strict=True):
            if result is None:
                lost += 1
                continue
            written += 1
            flips += len(plan.new_flips)
            recorded.extend(result)
        published = self._publish(recorded, now)
        due = len(contexts)
        full = len(ids) >= limit
        # A full pass means a backlog (a fleet due in the same minute): the next pass
        # takes more at once, up to max_pass_size, so the fixed cost of a pass is paid
        # less often; an empty or partial one goes back to batch_limit.
        self._pass_size = min(limit * 2, self.max_pass_size) if full else self.batch_limit
        return PassReport(
            due=due,
            written=written,
            lost_races=lost,
            flips=flips,
            published=published + republished,
            republished=republished,
            rows_read=self.store.rows_read - rows_before,
            lag_seconds=lag,
            full=full,
        )

    def _publish(self, outbox: Sequence[OutboxEvent], now: datetime) -> int:
        if not outbox:
            return 0
        try:
            self.bus.publish([o.event for o in outbox])
        except Exception:
            # Left claimed: the pass after the lease re-publishes them.
            log.exception("publishing %d alert events failed", len(outbox))
            return 0
        self.store.mark_published([o.id for o in outbox], now)
        return len(outbox)


def run_while_full(
    analyzer: Analyzer,
    remaining_ms: Callable[[], int],
    *,
    reserve_ms: int = 3000,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[PassReport]:
    """One pass, then more at once for as long as each found a full batch of due checks
    and the invocation has more than ``reserve_ms`` left (a fleet due in the same
    minute is worked through in one invocation instead of one batch per tick)."""
    reports = [analyzer.run_pass(clock())]
    while reports[-1].full and remaining_ms() > reserve_ms:
        reports.append(analyzer.run_pass(clock()))
    return reports


def run_for(
    analyzer: Analyzer,
    remaining_ms: Callable[[], int],
    *,
    interval: float = 5.0,
    reserve_ms: int = 3000,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[PassReport]:
    """Repeat passes every ``interval`` seconds while the invocation has time left, the
    last one as late as ``reserve_ms`` before the end allows (AWS: one invocation per
    minute, so the gap to the next invocation's first pass stays under ~10 s and an
    alert goes out within that of its deadline instead of within a minute). A pass that
    found a full batch is followed by the next one at once."""
    reports: list[PassReport] = []
    while True:
        started = monotonic()
        report = analyzer.run_pass(clock())
        reports.append(report)
        if report.full and remaining_ms() > reserve_ms:
            continue  # more checks are due right now: no pause
        pause = max(0.0, interval - (monotonic() - started))
        if remaining_ms() - pause * 1000 > reserve_ms:
            sleep(pause)
            continue
        last_chance = (remaining_ms() - reserve_ms) / 1000
        if last_chance > 0.5:
            sleep(last_chance)
            reports.append(analyzer.run_pass(clock()))
        return reports
