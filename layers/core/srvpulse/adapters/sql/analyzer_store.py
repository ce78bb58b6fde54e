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

The check row mapping and the grouped check save are the ingest store's
(``check_reader``, ``guarded_save_rows``); a pass reads the checks without the fields
no decision of its own reads (``_NOT_READ``).
"""

from __future__ import annotations

import threading
import uuid as uuidlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import datetime
from itertools import compress
from operator import attrgetter, itemgetter, ne
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import OperationalError

from ...domain.detection import Anomaly
from ...domain.model import AlertEvent, Check, Flip, Status, replaced
from ...domain.rules import Assignment, MaintenanceWindow
from ...ports import AnalysisPlan, CheckContext, OutboxEvent
from . import anomalies_store
from .bulk import IDS, by_ids, insert_rows, select_in, update_rows, update_tuples
from .checks_store import check_reader, flip_from_row, guarded_save_rows
from .tables import (
    alert_events,
    channels,
    check_channels,
    checks,
    flips,
    maintenance_windows,
    pings,
)

# Plans per transaction: one commit (one redo-log flush on MySQL) for a whole pass of
# the default batch, short enough that ingest never waits long on a check's row lock.
_GROUP = 1000
# Ids per IN (...) list. Below MariaDB's in_predicate_conversion_threshold (1 000), from
# which an IN list becomes a join to a temporary table with its own, worse, plans.
_CHUNK = 500

# MySQL: deadlock (1213) and lock wait timeout (1205) mean another writer won; the check
# stays due and the next pass looks again.
_RETRYABLE_MYSQL = {1205, 1213}


_REMINDER = "reminder"

# A pass's reads, built once (SQLAlchemy caches their compiled form); the id lists
# (``_IDS``) are run as each backend reads them best (``bulk.by_ids``).
_IDS = IDS

# Check fields no decision of the analyzer reads: how ingest filters, counts and judges
# a ping (methods, keywords, the recovery threshold, ...) and what only the API shows.
# A pass reads the checks without them (26 of the 46 columns: pymysql parses every
# value in Python), so the checks it plans on hold their defaults there; it never
# writes them either (``_save``: a plan that changed one is a programming error).
_NOT_READ = frozenset(
    {
        *("slug", "tags", "desc", "methods", "manual_resume", "recovery_threshold"),
        *("filter_subject", "filter_body", "filter_http_body", "filter_default_fail"),
        *("start_kw", "success_kw", "failure_kw", "n_pings", "created"),
    }
)
_READ = frozenset(f.name for f in fields(Check)) - _NOT_READ
_CHECKS_BY_ID = select(*(c for c in checks.c if c.name in _READ)).where(checks.c.id.in_(_IDS))
_NEW_FLIPS = (
    select(flips)
    .where(flips.c.check_id.in_(_IDS), flips.c.processed_at.is_(None))
    .order_by(flips.c.id)
)
# No join to channels: MariaDB would walk the (one, shared) channel's index over every
# check assigned to it instead of the primary key; the kinds are one small read.
_ASSIGNMENTS = select(check_channels).where(check_channels.c.check_id.in_(_IDS))
_CHANNEL_KINDS = select(channels.c.id, channels.c.kind).where(channels.c.id.in_(_IDS))
_WINDOWS = select(maintenance_windows).where(
    or_(
        maintenance_windows.c.check_id.in_(_IDS),
        and_(
            maintenance_windows.c.check_id.is_(None),
            maintenance_windows.c.project_id.in_(bindparam("projects", expanding=True)),
        ),
    )
)
# The latest ping's summary and exit status, through the (check_id, n) index.
_LATEST_PINGS = (
    select(pings.c.check_id, pings.c.summary, pings.c.exit_status)
    .select_from(
        pings.join(checks, and_(pings.c.check_id == checks.c.id, pings.c.n == checks.c.n_pings))
    )
    .where(
        checks.c.id.in_(_IDS),
        or_(pings.c.summary.is_not(None), pings.c.exit_status.is_not(None)),
    )
)

# The group's writes, inserted as plain tuples (bulk.insert_rows). A new row's id is read
# back by what makes it unique in the group (MySQL 8, what RDS runs, has no INSERT ...
# RETURNING).
_FLIP_COLUMNS = ("check_id", "created", "old_status", "new_status", "reason", "processed_at")
_EVENT_COLUMNS = ("flip_id", "channel_id", "check_id", "kind", "payload", "created", "claimed_at")
_FLIPS_MADE = select(flips.c.id, flips.c.check_id, flips.c.reason).where(
    flips.c.check_id.in_(_IDS), flips.c.processed_at == bindparam("now")
)
_FLIPS_AFTER = select(flips.c.id, flips.c.check_id, flips.c.reason).where(
    flips.c.id > bindparam("after")
)
_MARK_FLIPS_PROCESSED = (
    update(flips)
    .where(flips.c.id.in_(_IDS), flips.c.processed_at.is_(None))
    .values(processed_at=bindparam("now"))
)
_EVENTS_OF_FLIPS = select(alert_events.c.flip_id, alert_events.c.channel_id).where(
    alert_events.c.flip_id.in_(_IDS)
)
_EVENT_IDS = select(alert_events.c.id, alert_events.c.flip_id, alert_events.c.channel_id).where(
    alert_events.c.flip_id.in_(_IDS)
)
_EVENTS_AFTER = select(alert_events.c.id, alert_events.c.flip_id, alert_events.c.channel_id).where(
    alert_events.c.id > bindparam("after")
)
_MARK_PUBLISHED = (
    update(alert_events).where(alert_events.c.id.in_(_IDS)).values(published_at=bindparam("now"))
)


@contextmanager
def _not_synced(conn: Connection) -> Iterator[None]:
    """SQLite: the commits inside are not waited to be on disk (synchronous=NORMAL; the
    next FULL commit, a pass's writes or ingest's, takes them to disk with it). For the
    outbox's published marks: one lost in a power cut only means its event is
    published again after the lease, which the alerters' idempotency key absorbs; not
    waiting saves a pass its second fsync. Elsewhere: nothing changes."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        conn.rollback()  # nothing left open (a no-op after the commit)
        conn.exec_driver_sql("PRAGMA synchronous=FULL")
        conn.commit()


def _last_id(conn: Connection, table: Table) -> int:
    """The largest id in ``table`` (0 when empty)."""
    return int(conn.execute(select(func.max(table.c.id))).scalar() or 0)


# Id ranges one mark_published statement takes before it falls back to id lists.
_MAX_RUNS = 8


def _runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted distinct ids as runs of consecutive ones, (first, last) each."""
    runs: list[tuple[int, int]] = []
    for i in ids:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


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


_ASSIGNMENT_SETTINGS = (
    "after_failures",
    "after_down_minutes",
    "reminder_every_minutes",
    "reminder_max",
)


def _assignment_reader(keys: Sequence[str]) -> Callable[[Sequence[Any], str], Assignment]:
    """An assignment from its ``check_channels`` row (read by position, the columns
    looked up once per result) and its channel's kind."""
    at = {k: i for i, k in enumerate(keys)}
    check_id, channel_id = at["check_id"], at["channel_id"]
    settings = itemgetter(*(at[k] for k in _ASSIGNMENT_SETTINGS))
    notify, anomaly = at["notify_on_recovery"], at["anomaly_alerts"]
    state = itemgetter(*(at[k] for k in _ASSIGNMENT_STATE))

    def read(row: Sequence[Any], kind: str) -> Assignment:
        # Positional: the order of Assignment's fields (domain/rules.py).
        values: list[Any] = [row[check_id], row[channel_id], kind, *settings(row)]
        values += (bool(row[notify]), bool(row[anomaly]), *state(row))
        return Assignment(*values)

    return read


_ASSIGNMENT_STATE = (
    "down_flip_id",
    "down_since",
    "down_reason",
    "down_alert_sent_at",
    "reminders_sent",
    "recovery_flip_id",
    "next_reminder_at",
)
_state_of = attrgetter(*_ASSIGNMENT_STATE)
_STATE_POSITIONS = range(len(_ASSIGNMENT_STATE))
_DOWN_FLIP = _ASSIGNMENT_STATE.index("down_flip_id")
_RECOVERY_FLIP = _ASSIGNMENT_STATE.index("recovery_flip_id")
# _assignment_reader builds an Assignment positionally, in this order.
_ASSIGNMENT_ORDER = (
    "check_id",
    "channel_id",
    "channel_kind",
    *_ASSIGNMENT_SETTINGS,
    "notify_on_recovery",
    "anomaly_alerts",
    *_ASSIGNMENT_STATE,
)
if tuple(f.name for f in fields(Assignment)) != _ASSIGNMENT_ORDER:
    raise RuntimeError("Assignment's fields changed: update _ASSIGNMENT_ORDER and its reader")


# Written with a plan's check although not fields of it (checks_store.guarded_save_rows).
_DERIVED_COLUMNS = frozenset({"version", "min_duration", "max_duration"})


def _save(conn: Connection, saves: Sequence[tuple[Check, Check]]) -> None:
    """Ingest's grouped save (``SqlCheckTx.save_checks``: the columns some check
    changed, version-guarded; the rows are locked, so every guard holds), refusing to
    write a field the pass did not read (``_NOT_READ``)."""
    columns, rows = guarded_save_rows(saves)
    unread = set(columns) - _DERIVED_COLUMNS - _READ
    if unread:
        raise RuntimeError(f"an analyzer plan changed check fields it never read: {unread}")
    update_tuples(conn, checks, columns, ("id", "version"), rows)


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

    def due_check_ids(
        self, now: datetime, limit: int, deadlines_until: datetime | None = None
    ) -> list[int]:
        found: dict[int, None] = {}
        until = {checks.c.alert_after: now if deadlines_until is None else deadlines_until}
        with self.engine.connect() as conn:
            for col in (checks.c.alert_after, checks.c.next_reminder_at):
                rows = conn.execute(
                    select(checks.c.id).where(col <= until.get(col, now)).order_by(col).limit(limit)
                ).all()
                self._count(len(rows))
                for row in rows:
                    found[row[0]] = None
        return list(found)[:limit]

    def load(self, check_ids: Sequence[int]) -> list[CheckContext]:
        if not check_ids:
            return []
        ids = list(check_ids)
        by_id: dict[int, Check] = {}
        new_flips: dict[int, list[Flip]] = {i: [] for i in ids}
        assigned: dict[int, list[Any]] = {i: [] for i in ids}  # check_channels rows
        read_assignment: Callable[[Sequence[Any], str], Assignment] | None = None
        windows: dict[int, MaintenanceWindow] = {}
        summaries: dict[int, str] = {}
        exit_statuses: dict[int, int] = {}
        found_anomalies: dict[int, list[Anomaly]] = {}
        read = 0
        with self.engine.connect() as conn:
            for part in _chunks(ids):
                result = conn.execute(by_ids(conn, _CHECKS_BY_ID), {"ids": part})
                read_check = check_reader(list(result.keys()))
                rows = result.all()
                for row in rows:
                    loaded = read_check(row)
                    by_id[loaded.id] = loaded
                flip_rows = conn.execute(by_ids(conn, _NEW_FLIPS), {"ids": part}).all()
                for r in flip_rows:
                    new_flips[r.check_id].append(flip_from_row(r))
                cc_result = conn.execute(by_ids(conn, _ASSIGNMENTS), {"ids": part})
                if read_assignment is None:
                    cc_keys = list(cc_result.keys())
                    read_assignment = _assignment_reader(cc_keys)
                    # Rows are read by position: a Row's attribute costs 4 000 instructions.
                    cc_check, cc_channel = cc_keys.index("check_id"), cc_keys.index("channel_id")
                cc_rows = cc_result.all()
                for r in cc_rows:
                    assigned[r[cc_check]].append(r)
                projects = sorted({c.project_id for i in part if (c := by_id.get(i)) is not None})
                w_rows = conn.execute(
                    by_ids(conn, _WINDOWS), {"ids": part, "projects": projects}
                ).all()
                windows.update((r.id, _window(r._mapping)) for r in w_rows)
                found_anomalies.update(anomalies_store.unprocessed(conn, part))
                s_rows = conn.execute(by_ids(conn, _LATEST_PINGS), {"ids": part}).all()
                for r in s_rows:
                    if r.summary is not None:
                        summaries[r.check_id] = r.summary
                    if r.exit_status is not None:
                        exit_statuses[r.check_id] = r.exit_status
                read += len(rows) + len(flip_rows) + len(cc_rows) + len(w_rows) + len(s_rows)
            used = sorted({r[cc_channel] for rs in assigned.values() for r in rs})
            kinds: dict[int, str] = (
                dict(conn.execute(by_ids(conn, _CHANNEL_KINDS), {"ids": used}).tuples().all())
                if used
                else {}
            )
            read += len(kinds)
        self._count(read)
        # Windows by the check they hold, or (project-wide) by the project.
        of_check: dict[int, list[MaintenanceWindow]] = {}
        of_project: dict[int, list[MaintenanceWindow]] = {}
        for w in windows.values():
            if w.check_id is not None:
                of_check.setdefault(w.check_id, []).append(w)
            else:
                of_project.setdefault(w.project_id, []).append(w)
        out = []
        for i in ids:
            check = by_id.get(i)
            if check is None:
                continue  # deleted since it was found due
            out.append(
                CheckContext(
                    check,
                    new_flips[i],
                    [read_assignment(r, kinds.get(r[cc_channel], "")) for r in assigned[i]]
                    if read_assignment is not None
                    else [],
                    of_check.get(i, []) + of_project.get(check.project_id, []),
                    summaries.get(i),
                    exit_statuses.get(i),
                    found_anomalies.get(i, ()),
                )
            )
        return out

    def apply_many(
        self, plans: Sequence[AnalysisPlan], now: datetime
    ) -> list[list[OutboxEvent] | None]:
        results: list[list[OutboxEvent] | None] = [None] * len(plans)
        for start in range(0, len(plans), _GROUP):
            part = plans[start : start + _GROUP]
            try:
                with self.engine.begin() as conn:
                    written = self._apply_group(conn, part, now)
            except OperationalError as exc:
                code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
                if code in _RETRYABLE_MYSQL:
                    continue  # the whole group lost: its checks stay due for the next pass
                raise
            results[start : start + len(part)] = written
        return results

    def _claim(self, conn: Connection, plans: Sequence[AnalysisPlan]) -> list[bool]:
        """Write each plan's check if its row still has the plan's version; which won.

        First the rows are locked, then their versions read: MySQL with one locking read
        (by uuid, the order ingest locks in, so the two never deadlock on each other);
        SQLite takes its one writer lock (BEGIN IMMEDIATE) before reading. The winners'
        rows cannot change until the commit, so they are written in one statement.
        """
        if conn.dialect.name == "mysql":
            uuids = sorted(p.check.uuid for p in plans)
            rows = select_in(conn, checks, ("id", "version"), "uuid", uuids, for_update=True)
        else:
            # The writer lock is the database's: no row order to keep, the primary key.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            rows = [
                row
                for part in _chunks([p.check.id for p in plans])
                for row in select_in(conn, checks, ("id", "version"), "id", part)
            ]
        locked: dict[int, int] = {int(i): int(v) for i, v in rows}
        won = [locked.get(p.check.id) == p.expected_version for p in plans]
        _save(conn, [(p.before, p.check) for p, w in zip(plans, won, strict=True) if w])
        return won

    def _apply_group(
        self, conn: Connection, plans: Sequence[AnalysisPlan], now: datetime
    ) -> list[list[OutboxEvent] | None]:
        won = self._claim(conn, plans)
        winners = [p for p, w in zip(plans, won, strict=True) if w]
        if not winners:
            return [None] * len(plans)

        # New flips, inserted together; their ids are read back by what makes each unique
        # in this transaction: the check (one winner per check), processed at ``now``,
        # reminder or not (a plan makes at most one of each), the newest such row.
        new = [f for p in winners for f in p.new_flips]
        # SQLite: this transaction holds the one writer lock (BEGIN IMMEDIATE), so the
        # rows after the table's last id are the ones it inserts, read back by a range
        # of the primary key instead of a list of ids.
        single_writer = conn.dialect.name == "sqlite"
        flips_after = _last_id(conn, flips) if single_writer and new else None
        insert_rows(
            conn,
            flips,
            _FLIP_COLUMNS,
            [
                (f.check_id, f.created, f.old_status.value, f.new_status.value, f.reason.value, now)
                for f in new
            ],
        )
        placeholder = {(f.check_id, f.reason.value == _REMINDER): f.id or 0 for f in new}
        real: dict[tuple[int, int], int] = {}  # (check id, placeholder id) -> flip id
        if flips_after is not None:
            made_rows = conn.execute(_FLIPS_AFTER, {"after": flips_after}).all()
        else:
            made_rows = [
                row
                for part in _chunks(sorted({f.check_id for f in new}))
                for row in conn.execute(by_ids(conn, _FLIPS_MADE), {"ids": part, "now": now}).all()
            ]
        for made_id, check_id, reason in made_rows:  # by position: see load()
            made = placeholder.get((check_id, reason == _REMINDER))
            if made is not None:
                key = (check_id, made)
                real[key] = max(real.get(key, 0), int(made_id))

        processed = [i for p in winners for i in p.processed_flip_ids]
        for part in _chunks(processed):
            conn.execute(by_ids(conn, _MARK_FLIPS_PROCESSED), {"ids": part, "now": now})

        def fix(check_id: int, flip_id: int | None) -> int | None:
            if flip_id is None or flip_id >= 0:
                return flip_id
            return real[(check_id, flip_id)]

        # Assignment state: only the rows a plan changed, only the columns some row
        # changed (the placeholder flip ids replaced first).
        changed_state: list[tuple[Assignment, tuple[Any, ...]]] = []
        columns: set[int] = set()
        for p in winners:
            read: Sequence[Assignment | None] = p.assignments_before or [None] * len(p.assignments)
            for a, b in zip(p.assignments, read, strict=True):
                state = list(_state_of(a))
                state[_DOWN_FLIP] = fix(a.check_id, a.down_flip_id)
                state[_RECOVERY_FLIP] = fix(a.check_id, a.recovery_flip_id)
                if b is None:
                    columns.update(_STATE_POSITIONS)
                else:
                    diff = set(compress(_STATE_POSITIONS, map(ne, state, _state_of(b))))
                    if not diff:
                        continue
                    columns |= diff
                changed_state.append((a, tuple(state)))
        written = sorted(columns)
        assignment_rows: list[dict[str, Any]] = []
        for a, saved in changed_state:
            values = {_ASSIGNMENT_STATE[i]: saved[i] for i in written}
            values["_check_id"], values["_channel_id"] = a.check_id, a.channel_id
            assignment_rows.append(values)
        update_rows(
            conn,
            check_channels,
            assignment_rows,
            {"check_id": "_check_id", "channel_id": "_channel_id"},
        )

        # Alert events: the version guard makes duplicates impossible; the unique key
        # (flip, channel) is the backstop, checked first so that a surprise never fails
        # the group's transaction.
        every = [
            (i, e if e.flip_id >= 0 else replaced(e, flip_id=fix(p.check.id, e.flip_id) or 0))
            for i, p in enumerate(winners)
            for e in p.events
            if e.anomaly_id is None  # pattern detection's alerts: _record_anomalies
        ]
        # Only a flip older than this transaction can have events already: the ones it
        # just inserted are not visible to anyone else yet.
        made_now = set(real.values())
        existing: set[tuple[int, int]] = set()
        for part in _chunks(sorted({e.flip_id for _, e in every} - made_now)):
            existing.update(conn.execute(by_ids(conn, _EVENTS_OF_FLIPS), {"ids": part}).tuples())
        fresh: list[tuple[int, AlertEvent]] = []
        for i, e in every:
            if (e.flip_id, e.channel_id) not in existing:
                existing.add((e.flip_id, e.channel_id))
                fresh.append((i, e))
        events_after = _last_id(conn, alert_events) if single_writer and fresh else None
        insert_rows(
            conn,
            alert_events,
            _EVENT_COLUMNS,
            [
                (
                    e.flip_id,
                    e.channel_id,
                    winners[i].check.id,
                    "reminder" if e.is_reminder else ("up" if e.status is Status.UP else "down"),
                    e.to_json(),
                    now,
                    now,
                )
                for i, e in fresh
            ],
        )
        event_ids: dict[tuple[int, int], int] = {}
        # (id, flip_id, channel_id) rows, read by position (see load()).
        if events_after is not None:
            for event_id, flip_id, channel_id in conn.execute(
                _EVENTS_AFTER, {"after": events_after}
            ).tuples():
                event_ids[(flip_id, channel_id)] = int(event_id)
        else:
            for part in _chunks(sorted({e.flip_id for _, e in fresh})):
                for event_id, flip_id, channel_id in conn.execute(
                    by_ids(conn, _EVENT_IDS), {"ids": part}
                ).tuples():
                    event_ids[(flip_id, channel_id)] = int(event_id)
        # Pattern detection's verdicts are rare: recorded plan by plan.
        recorded = [self._record_anomalies(conn, p, now) for p in winners]
        for i, e in fresh:
            recorded[i].append(OutboxEvent(event_ids[(e.flip_id, e.channel_id)], e))
        out = iter(recorded)
        return [next(out) if w else None for w in won]

    def _record_anomalies(
        self, conn: Connection, plan: AnalysisPlan, now: datetime
    ) -> list[OutboxEvent]:
        """Pattern detection's part of a plan: record the new verdicts (their alerts are
        decided here, so processed), mark the ingested ones processed, and put their
        alert events in the outbox (unique per anomaly and channel)."""
        if not plan.new_anomalies and not plan.processed_anomaly_ids:
            return []  # the plan has no anomaly, so no anomaly alert either
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
        """Claim up to ``limit`` events left unpublished (never claimed, or claimed
        before ``stale_before``: their publisher crashed) in one transaction: their rows
        are locked and re-read first (MySQL: ``FOR UPDATE SKIP LOCKED``, so two
        analyzers take different events instead of waiting on each other; SQLite: the
        writer lock), then claimed together. Of several analyzers, one wins each event."""
        ae = alert_events.c
        unclaimed = or_(ae.claimed_at.is_(None), ae.claimed_at < stale_before)
        stale = (
            select(ae.id, ae.payload)
            .where(ae.published_at.is_(None), unclaimed)
            .order_by(ae.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            # Most passes find nothing: a plain read first, no transaction to commit.
            if conn.execute(stale.with_only_columns(ae.id).limit(1)).first() is None:
                return []
            conn.rollback()
            if conn.dialect.name == "mysql":
                rows = conn.execute(stale.with_for_update(skip_locked=True)).all()
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                rows = conn.execute(stale).all()
            ids = [row.id for row in rows]
            for part in _chunks(ids):
                conn.execute(update(alert_events).where(ae.id.in_(part)).values(claimed_at=now))
            conn.commit()
        self._count(len(rows))
        return [OutboxEvent(row.id, AlertEvent.from_json(row.payload)) for row in rows]

    def mark_published(self, ids: Sequence[int], now: datetime) -> None:
        if not ids:
            return
        # A pass's events were inserted together, so their ids are mostly a few runs of
        # consecutive numbers: marked by range (exactly these rows) when they are.
        runs = _runs(sorted(set(ids)))
        with self.engine.connect() as conn, _not_synced(conn):
            if len(runs) <= _MAX_RUNS:
                ae = alert_events.c
                conn.execute(
                    update(alert_events)
                    .where(or_(*(ae.id.between(lo, hi) for lo, hi in runs)))
                    .values(published_at=now)
                )
            else:
                for part in _chunks(list(ids)):
                    conn.execute(by_ids(conn, _MARK_PUBLISHED), {"ids": part, "now": now})
            conn.commit()

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
                # A new version, as every write of a check row: ingest's check cache
                # (checks_store.CheckCache) trusts an unchanged version.
                .values(next_reminder_at=now, version=checks.c.version + 1)
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
