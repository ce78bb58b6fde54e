"""SqlAnalyzerStore: due checks, flips, assignment state and the alert-event outbox.

- Due checks are found through the ``alert_after`` and ``next_reminder_at`` indexes, two
  bounded range reads (``<= now``, oldest first, LIMIT): a pass reads the due rows only,
  never all checks (bench/analyzer_scale.py measures it).
- A decision is written in ONE transaction that starts with a conditional UPDATE of the
  check (``WHERE id = ? AND version = ?``). Whoever wins the row (another analyzer,
  ingest) makes the others match 0 rows and write nothing, so a flip and its alert events
  are recorded once. The flips, processed marks, assignment state and ``alert_events``
  rows (unique per flip and channel) commit together with the check.
- Rows read are counted in ``rows_read`` (for the benchmark and the pass report).

The check row mapping is the ingest store's (``check_from_row`` / ``check_values``).
"""

from __future__ import annotations

import threading
import uuid as uuidlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from ...domain.detection import Anomaly
from ...domain.model import AlertEvent, Flip, Status
from ...domain.rules import Assignment, MaintenanceWindow
from ...ports import AnalysisPlan, CheckContext, OutboxEvent
from . import anomalies_store
from .checks_store import check_from_row, check_values, flip_from_row
from .tables import (
    alert_events,
    channels,
    check_channels,
    checks,
    flips,
    maintenance_windows,
    pings,
)

_CHUNK = 500  # ids per IN (...) list

# MySQL: deadlock (1213) and lock wait timeout (1205) mean another writer won; the check
# stays due and the next pass looks again.
_RETRYABLE_MYSQL = {1205, 1213}


class _LostRace(Exception):
    pass


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _window(m: Any) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=m["id"],
        uuid=m["uuid"],
        name=m["name"],
        project_id=m["project_id"],
        check_id=m["check_id"],
        starts_at=m["starts_at"],
        ends_at=m["ends_at"],
        schedule=m["schedule"],
        duration=m["duration"],
        tz=m["tz"],
    )


_ASSIGNMENT_STATE = (
    "down_flip_id",
    "down_since",
    "down_reason",
    "down_alert_sent_at",
    "reminders_sent",
    "recovery_flip_id",
    "next_reminder_at",
)


class SqlAnalyzerStore:
    """AnalyzerStore and MaintenanceStore (ports.py) over SQLAlchemy Core."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self.rows_read = 0

    def _count(self, n: int) -> None:
        with self._lock:
            self.rows_read += n

    # --- the pass ------------------------------------------------------------------------

    def due_check_ids(self, now: datetime, limit: int) -> list[int]:
        found: dict[int, None] = {}
        with self.engine.connect() as conn:
            for col in (checks.c.alert_after, checks.c.next_reminder_at):
                rows = conn.execute(
                    select(checks.c.id).where(col <= now).order_by(col).limit(limit)
                ).all()
                self._count(len(rows))
                for row in rows:
                    found[row[0]] = None
        return list(found)[:limit]

    def load(self, check_ids: Sequence[int]) -> list[CheckContext]:
        if not check_ids:
            return []
        ids = list(check_ids)
        by_id: dict[int, Any] = {}
        new_flips: dict[int, list[Flip]] = {i: [] for i in ids}
        assigned: dict[int, list[Assignment]] = {i: [] for i in ids}
        windows: list[MaintenanceWindow] = []
        summaries: dict[int, str] = {}
        exit_statuses: dict[int, int] = {}
        found_anomalies: dict[int, list[Anomaly]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(ids):
                rows = conn.execute(select(checks).where(checks.c.id.in_(part))).all()
                for row in rows:
                    by_id[row.id] = check_from_row(dict(row._mapping))
                flip_rows = conn.execute(
                    select(flips)
                    .where(flips.c.check_id.in_(part), flips.c.processed_at.is_(None))
                    .order_by(flips.c.id)
                ).all()
                for r in flip_rows:
                    new_flips[r.check_id].append(flip_from_row(r))
                cc_rows = conn.execute(
                    select(check_channels, channels.c.kind)
                    .join(channels, channels.c.id == check_channels.c.channel_id)
                    .where(check_channels.c.check_id.in_(part))
                ).all()
                for r in cc_rows:
                    m = r._mapping
                    assigned[m["check_id"]].append(
                        Assignment(
                            check_id=m["check_id"],
                            channel_id=m["channel_id"],
                            channel_kind=m["kind"],
                            after_failures=m["after_failures"],
                            after_down_minutes=m["after_down_minutes"],
                            reminder_every_minutes=m["reminder_every_minutes"],
                            reminder_max=m["reminder_max"],
                            notify_on_recovery=bool(m["notify_on_recovery"]),
                            anomaly_alerts=bool(m["anomaly_alerts"]),
                            **{k: m[k] for k in _ASSIGNMENT_STATE},
                        )
                    )
                projects = {c.project_id for i in part if (c := by_id.get(i)) is not None}
                mw = maintenance_windows.c
                w_rows = conn.execute(
                    select(maintenance_windows).where(
                        or_(
                            mw.check_id.in_(part),
                            and_(mw.check_id.is_(None), mw.project_id.in_(projects)),
                        )
                    )
                ).all()
                windows.extend(_window(r._mapping) for r in w_rows)
                found_anomalies.update(anomalies_store.unprocessed(conn, part))
                # The latest ping's summary and exit status, through the (check_id, n)
                # index.
                latest = and_(pings.c.check_id == checks.c.id, pings.c.n == checks.c.n_pings)
                s_rows = conn.execute(
                    select(pings.c.check_id, pings.c.summary, pings.c.exit_status)
                    .select_from(pings.join(checks, latest))
                    .where(
                        checks.c.id.in_(part),
                        or_(pings.c.summary.is_not(None), pings.c.exit_status.is_not(None)),
                    )
                ).all()
                for r in s_rows:
                    if r.summary is not None:
                        summaries[r.check_id] = r.summary
                    if r.exit_status is not None:
                        exit_statuses[r.check_id] = r.exit_status
                self._count(len(rows) + len(flip_rows) + len(cc_rows) + len(w_rows) + len(s_rows))
        out = []
        for i in ids:
            check = by_id.get(i)
            if check is None:
                continue  # deleted since it was found due
            ws = [
                w
                for w in windows
                if w.check_id == i or (w.check_id is None and w.project_id == check.project_id)
            ]
            out.append(
                CheckContext(
                    check,
                    new_flips[i],
                    assigned[i],
                    ws,
                    summaries.get(i),
                    exit_statuses.get(i),
                    found_anomalies.get(i, ()),
                )
            )
        return out

    def apply(self, plan: AnalysisPlan, now: datetime) -> list[OutboxEvent] | None:
        try:
            with self.engine.begin() as conn:
                return self._apply(conn, plan, now)
        except _LostRace:
            return None
        except OperationalError as exc:
            code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
            if code in _RETRYABLE_MYSQL:
                return None
            raise

    def _apply(self, conn: Connection, plan: AnalysisPlan, now: datetime) -> list[OutboxEvent]:
        check = plan.check
        values = check_values(check)
        values["version"] = plan.expected_version + 1
        res = conn.execute(
            update(checks)
            .where(checks.c.id == check.id, checks.c.version == plan.expected_version)
            .values(**values)
        )
        if res.rowcount != 1:
            raise _LostRace  # rolls the (empty) transaction back

        real: dict[int, int] = {}
        for f in plan.new_flips:
            inserted = conn.execute(
                insert(flips).values(
                    check_id=f.check_id,
                    created=f.created,
                    old_status=f.old_status.value,
                    new_status=f.new_status.value,
                    reason=f.reason.value,
                    processed_at=now,
                )
            )
            assert inserted.inserted_primary_key is not None
            real[f.id or 0] = int(inserted.inserted_primary_key[0])

        def fix(flip_id: int | None) -> int | None:
            return real.get(flip_id, flip_id) if flip_id is not None else None

        if plan.processed_flip_ids:
            conn.execute(
                update(flips)
                .where(
                    flips.c.id.in_(list(plan.processed_flip_ids)), flips.c.processed_at.is_(None)
                )
                .values(processed_at=now)
            )
        for a in plan.assignments:
            a = replace(
                a, down_flip_id=fix(a.down_flip_id), recovery_flip_id=fix(a.recovery_flip_id)
            )
            conn.execute(
                update(check_channels)
                .where(
                    check_channels.c.check_id == a.check_id,
                    check_channels.c.channel_id == a.channel_id,
                )
                .values(**{k: getattr(a, k) for k in _ASSIGNMENT_STATE})
            )

        recorded = self._record_anomalies(conn, plan, now)
        events = [
            replace(e, flip_id=fix(e.flip_id) or 0) for e in plan.events if e.anomaly_id is None
        ]
        if not events:
            return recorded
        # The version guard makes duplicates impossible; the unique key is the backstop,
        # checked first so a surprise never poisons the check's transaction.
        existing = {
            (r.flip_id, r.channel_id)
            for r in conn.execute(
                select(alert_events.c.flip_id, alert_events.c.channel_id).where(
                    alert_events.c.flip_id.in_({e.flip_id for e in events})
                )
            )
        }
        for e in events:
            if (e.flip_id, e.channel_id) in existing:
                continue
            existing.add((e.flip_id, e.channel_id))
            kind = "reminder" if e.is_reminder else ("up" if e.status is Status.UP else "down")
            inserted = conn.execute(
                insert(alert_events).values(
                    flip_id=e.flip_id,
                    channel_id=e.channel_id,
                    check_id=check.id,
                    kind=kind,
                    payload=e.to_json(),
                    created=now,
                    claimed_at=now,
                )
            )
            assert inserted.inserted_primary_key is not None
            recorded.append(OutboxEvent(int(inserted.inserted_primary_key[0]), e))
        return recorded

    def _record_anomalies(
        self, conn: Connection, plan: AnalysisPlan, now: datetime
    ) -> list[OutboxEvent]:
        """Pattern detection's part of a plan: record the new verdicts (their alerts are
        decided here, so processed), mark the ingested ones processed, and put their
        alert events in the outbox (unique per anomaly and channel)."""
        check_id = plan.check.id
        added = anomalies_store.add_anomalies(
            conn, check_id, plan.new_anomalies, None, processed_at=now
        )
        real = {(a.kind, a.run_started): a.id for a in added}
        placeholder = {
            -(i + 1): real.get((v.kind, v.run_started)) for i, v in enumerate(plan.new_anomalies)
        }
        anomalies_store.mark_processed(conn, plan.processed_anomaly_ids, now)
        wanted: list[AlertEvent] = []
        for e in plan.events:
            if e.anomaly_id is None:
                continue
            anomaly_id = placeholder.get(e.anomaly_id) if e.anomaly_id < 0 else e.anomaly_id
            if anomaly_id is not None:  # None: recorded before, by another writer
                wanted.append(replace(e, anomaly_id=anomaly_id))
        if not wanted:
            return []
        ae = alert_events.c
        existing = {
            (r.anomaly_id, r.channel_id)
            for r in conn.execute(
                select(ae.anomaly_id, ae.channel_id).where(
                    ae.anomaly_id.in_({e.anomaly_id for e in wanted})
                )
            )
        }
        recorded: list[OutboxEvent] = []
        for e in wanted:
            if (e.anomaly_id, e.channel_id) in existing:
                continue
            existing.add((e.anomaly_id, e.channel_id))
            inserted = conn.execute(
                insert(alert_events).values(
                    flip_id=None,
                    anomaly_id=e.anomaly_id,
                    channel_id=e.channel_id,
                    check_id=check_id,
                    kind="anomaly",
                    payload=e.to_json(),
                    created=now,
                    claimed_at=now,
                )
            )
            assert inserted.inserted_primary_key is not None
            recorded.append(OutboxEvent(int(inserted.inserted_primary_key[0]), e))
        return recorded

    # --- the outbox ----------------------------------------------------------------------

    def claim_unpublished(
        self, now: datetime, stale_before: datetime, limit: int
    ) -> list[OutboxEvent]:
        ae = alert_events.c
        unclaimed = or_(ae.claimed_at.is_(None), ae.claimed_at < stale_before)
        claimed: list[OutboxEvent] = []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ae.id, ae.payload)
                .where(ae.published_at.is_(None), unclaimed)
                .order_by(ae.id)
                .limit(limit)
            ).all()
        self._count(len(rows))
        for row in rows:
            # Claim each one conditionally: of several analyzers, one wins each event.
            with self.engine.begin() as conn:
                res = conn.execute(
                    update(alert_events)
                    .where(ae.id == row.id, ae.published_at.is_(None), unclaimed)
                    .values(claimed_at=now)
                )
            if res.rowcount == 1:
                claimed.append(OutboxEvent(row.id, AlertEvent.from_json(row.payload)))
        return claimed

    def mark_published(self, ids: Sequence[int], now: datetime) -> None:
        if not ids:
            return
        with self.engine.begin() as conn:
            for part in _chunks(list(ids)):
                conn.execute(
                    update(alert_events).where(alert_events.c.id.in_(part)).values(published_at=now)
                )

    # --- maintenance windows (API) -------------------------------------------------------

    def list_windows(self, project_id: int) -> list[MaintenanceWindow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(maintenance_windows)
                .where(maintenance_windows.c.project_id == project_id)
                .order_by(maintenance_windows.c.id)
            ).all()
        return [_window(r._mapping) for r in rows]

    def get_window(self, project_id: int, uuid: str) -> MaintenanceWindow | None:
        mw = maintenance_windows.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(maintenance_windows).where(mw.project_id == project_id, mw.uuid == uuid)
            ).first()
        return None if row is None else _window(row._mapping)

    def add_window(self, window: MaintenanceWindow, now: datetime) -> MaintenanceWindow:
        uuid = window.uuid or str(uuidlib.uuid4())
        with self.engine.begin() as conn:
            res = conn.execute(
                insert(maintenance_windows).values(
                    uuid=uuid,
                    project_id=window.project_id,
                    check_id=window.check_id,
                    name=window.name,
                    starts_at=window.starts_at,
                    ends_at=window.ends_at,
                    schedule=window.schedule,
                    duration=window.duration,
                    tz=window.tz,
                    created=now,
                )
            )
            assert res.inserted_primary_key is not None
        return replace(window, id=int(res.inserted_primary_key[0]), uuid=uuid)

    def delete_window(self, project_id: int, uuid: str, now: datetime) -> bool:
        mw = maintenance_windows.c
        with self.engine.begin() as conn:
            row = conn.execute(
                select(mw.id, mw.check_id).where(mw.project_id == project_id, mw.uuid == uuid)
            ).first()
            if row is None:
                return False
            conn.execute(delete(maintenance_windows).where(mw.id == row.id))
            # Alerts held until the window's end are looked at on the next pass instead.
            scope = (
                checks.c.id == row.check_id if row.check_id else checks.c.project_id == project_id
            )
            conn.execute(
                update(checks)
                .where(scope, checks.c.next_reminder_at > now)
                .values(next_reminder_at=now)
            )
        return True

    def check_id_by_uuid(self, project_id: int, uuid: str) -> int | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(checks.c.id).where(checks.c.project_id == project_id, checks.c.uuid == uuid)
            ).scalar()
        return None if value is None else int(value)

    def check_uuid_by_id(self, check_id: int) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(checks.c.uuid).where(checks.c.id == check_id)).scalar()
        return None if value is None else str(value)
