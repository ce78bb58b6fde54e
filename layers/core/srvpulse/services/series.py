"""The series store's use cases: shipping the outbox after ingest, retention, history.

Ingest writes each stored ping's point into the SQL outbox in the batch's own
transaction (``SeriesShipper.in_transaction`` -> ``CheckTx.add_series_points``), so a
point exists exactly when its ping does. After the commit ``ship`` sends the batch's
points to the series store and deletes them from the outbox; if the series store is
down they stay there, and every later ``ship`` also retries the oldest waiting points
(bounded per call). Nothing a ping's acknowledgement or a check's status depends on
waits for the series store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ..domain.model import PingMessage
from ..domain.runs import COMPLETION_KINDS, START_KIND, Run, SeriesPoint, runs_from_points
from ..ports import (
    CheckStore,
    CheckTx,
    SeriesOutbox,
    SeriesRejected,
    SeriesStore,
    SeriesUnavailable,
)
from . import checks as check_service

if TYPE_CHECKING:
    from .ingesting import CheckBatch

SHIP_CHUNK = 1000  # points per write when catching up on a backlog
SHIP_BUDGET = 10_000  # at most this many backlog points per call (a Lambda has 30 s)
WAITING_CAP = 100_000
# After the series store failed to answer, ingest stops trying for a while (doubling up
# to a minute), so a store that times out costs a batch 2-5 s once, not every batch.
PAUSE_MIN = timedelta(seconds=5)
PAUSE_MAX = timedelta(minutes=1)


def point_for(msg: PingMessage, check_uuid: str, kind: str, duration_ms: int | None) -> SeriesPoint:
    """The series point of a stored ping (``kind`` as stored: ign when it did not count)."""
    return SeriesPoint(
        check_uuid=check_uuid,
        at=msg.received_at,
        kind=kind,
        exit_status=msg.exit_status,
        duration_ms=duration_ms,
        rid=msg.rid,
        summary=msg.summary,
        report_bytes=len(msg.body.encode("utf-8", "surrogatepass")) if msg.body else 0,
        remote_addr=msg.remote_addr,
    )


@dataclass(frozen=True, slots=True)
class ShipReport:
    """What one ``ship`` call did. ``lag_seconds``: age of the oldest point still
    waiting (None when the outbox is empty). ``error``: why shipping stopped."""

    shipped: int
    dropped: int
    waiting: int  # at most WAITING_CAP (counting a huge backlog is not free)
    lag_seconds: float | None
    error: str | None = None
    unavailable: bool = False  # the series store did not answer


def _send(
    outbox: SeriesOutbox, store: SeriesStore, keys: list[str], points: list[SeriesPoint]
) -> str | None:
    """Write the points, then delete them from the outbox. Points the store refuses
    are deleted too (writing them again cannot succeed); returns that refusal. Raises
    SeriesUnavailable, leaving the points in the outbox."""
    refused: str | None = None
    try:
        store.write(points)
    except SeriesRejected as exc:
        refused = str(exc)
    outbox.remove(keys)
    return refused


def ship(
    outbox: SeriesOutbox,
    store: SeriesStore,
    now: datetime,
    keys: Sequence[str] | None = None,
    *,
    budget: int = SHIP_BUDGET,
) -> ShipReport:
    """Send ``keys`` (the caller's own just-committed points) first, then up to
    ``budget`` of the oldest waiting points. Several ingests may ship the same point at
    once: a point written twice is the same point, so that only costs a write."""
    shipped = dropped = backlog = 0
    error: str | None = None
    unavailable = False
    try:
        if keys:
            batch = outbox.take(len(keys), keys)
            refused = _send(outbox, store, batch.keys, batch.points) if batch.keys else None
            shipped, dropped = (0, len(batch.keys)) if refused else (len(batch.keys), 0)
            error = refused
        while backlog < budget:
            batch = outbox.take(min(SHIP_CHUNK, budget - backlog))
            if not batch.keys:
                break
            backlog += len(batch.keys)
            refused = _send(outbox, store, batch.keys, batch.points)
            if refused:
                dropped += len(batch.keys)
                error = refused
            else:
                shipped += len(batch.keys)
    except SeriesUnavailable as exc:
        error, unavailable = str(exc), True
    waiting, lag = _backlog(outbox, now)
    return ShipReport(shipped, dropped, waiting, lag, error, unavailable)


def _backlog(outbox: SeriesOutbox, now: datetime) -> tuple[int, float | None]:
    oldest = outbox.oldest()
    if oldest is None:
        return 0, None
    return outbox.count(WAITING_CAP), max(0.0, (now - oldest).total_seconds())


class SeriesShipper:
    """Ingest's two hooks for the series store (wired in bootstrap.Runtime.ingest_hooks).

    ``in_transaction`` puts each stored ping's point into the outbox on the batch's own
    transaction; ``after_commit`` ships the batch's points (and any backlog) and applies
    the retention now and then. ``direct``: the series store is the SQL table of the
    same database, so the points are written there in the batch's transaction (atomic
    with the pings, nothing to ship): no outbox round trip. The last ``ShipReport`` is
    kept for the ingest handler to log (``pop_report``). ``outbox``/``store``/``clock``
    are callables so that nothing is connected (or a secret fetched) before the first
    batch.
    """

    def __init__(
        self,
        outbox: Callable[[], SeriesOutbox],
        store: Callable[[], SeriesStore],
        clock: Callable[[], datetime],
        *,
        direct: bool = False,
    ) -> None:
        self.direct = direct
        self._outbox = outbox
        self._store = store
        self._clock = clock
        self._retention = RetentionKeeper()
        self._report: ShipReport | None = None
        self._paused_until: datetime | None = None
        self._pause = PAUSE_MIN
        self._last_error = ""

    def in_transaction(self, tx: CheckTx, batches: Sequence[CheckBatch]) -> None:
        pairs = [
            (
                p.message.ping_id,
                point_for(p.message, b.after.uuid, p.stored.kind, p.stored.duration_ms),
            )
            for b in batches
            for p in b.pings
        ]
        if self.direct:
            tx.store_series_points([point for _, point in pairs])
        else:
            tx.add_series_points(pairs)

    def after_commit(self, batches: Sequence[CheckBatch]) -> None:
        now = self._clock()
        if self.direct:  # the points committed with their pings: nothing to ship
            self._retention.maybe_apply(self._store(), now)
            return
        outbox = self._outbox()
        if self._paused_until is not None and now < self._paused_until:
            # The store failed lately: the points wait in the outbox; try again later.
            waiting, lag = _backlog(outbox, now)
            error = f"not tried until {self._paused_until.isoformat()}: {self._last_error}"
            self._report = ShipReport(0, 0, waiting, lag, error, unavailable=True)
            return
        keys = [p.message.ping_id for b in batches for p in b.pings]
        store = self._store()
        report = ship(outbox, store, now, keys)
        if report.unavailable:
            if self._paused_until is not None:
                self._pause = min(PAUSE_MAX, self._pause * 2)
            self._paused_until = now + self._pause
            self._last_error = report.error or ""
        else:
            self._paused_until, self._pause = None, PAUSE_MIN
            self._retention.maybe_apply(store, now)
        self._report = report

    def pop_report(self) -> ShipReport | None:
        """The report of the last shipping since the previous call (None: none)."""
        report, self._report = self._report, None
        return report


class RetentionKeeper:
    """Applies the series store's retention at most once per ``every`` per process."""

    def __init__(self, every: timedelta = timedelta(hours=1)) -> None:
        self.every = every
        self.last_run: datetime | None = None

    def maybe_apply(self, store: SeriesStore, now: datetime) -> int:
        if self.last_run is not None and now - self.last_run < self.every:
            return 0
        self.last_run = now
        return store.apply_retention(now)


# --- history --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunsPage:
    """Runs newest first; ``next_before`` continues the listing (None: no more);
    ``complete_until``: points received after it may still be on their way to the
    series store (None: nothing is waiting)."""

    runs: list[Run]
    next_before: datetime | None
    complete_until: datetime | None


def list_runs(
    checks: CheckStore,
    series: SeriesStore,
    outbox: SeriesOutbox,
    project_id: int,
    key: str,
    *,
    since: datetime | None,
    until: datetime | None,
    before: datetime | None,
    limit: int,
) -> RunsPage:
    """A check's runs from the series store: up to ``limit`` per page, newest first,
    with ``since <= time < min(until, before)``. Raises NotFound for an unknown check
    and SeriesUnavailable when the series store does not answer."""
    check = check_service.get_check(checks, project_id, key).check
    upper = before if until is None else (until if before is None else min(until, before))
    kinds = (START_KIND, *COMPLETION_KINDS)
    points = series.read(check.uuid, since=since, until=upper, kinds=kinds, limit=limit + 1)
    more = len(points) > limit
    points = points[:limit]
    newer: list[SeriesPoint] = []
    if upper is not None and any(p.kind == START_KIND for p in points):
        # Runs started on this page may have finished on the previous one.
        newer = series.read(
            check.uuid, since=upper, kinds=COMPLETION_KINDS, limit=limit, newest_first=False
        )
    runs = runs_from_points(points, newer)
    return RunsPage(runs, points[-1].at if more else None, outbox.oldest())
