"""The series store as a SQL table (local mode, SQL-only deployments) and the outbox.

``SqlSeriesStore`` keeps points in ``series_points`` keyed like InfluxDB does (check
uuid + time): a point written again replaces its row (an upsert on both backends).
Retention is a periodic ``DELETE`` through the ``at`` index.

``SqlSeriesOutbox`` is the other side of ``SqlCheckTx.add_series_points``: points
written in the ping's own transaction, taken after commit, deleted once shipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, delete, func, select
from sqlalchemy.exc import OperationalError

from ...domain.runs import SeriesPoint
from ...ports import OutboxBatch, SeriesUnavailable
from .bulk import insert_rows
from .tables import series_outbox, series_points

_FIELDS = ("kind", "exit_status", "duration_ms", "rid", "summary", "report_bytes", "remote_addr")
SUMMARY_CHARS = 500  # the column's size; the edge already collapses a summary to 500


def point_from_row(row: Row[Any] | Mapping[str, Any]) -> SeriesPoint:
    m = row._mapping if isinstance(row, Row) else row
    return SeriesPoint(
        check_uuid=m["check_uuid"],
        at=m["at"],
        kind=m["kind"],
        exit_status=m["exit_status"],
        duration_ms=m["duration_ms"],
        rid=m["rid"],
        summary=m["summary"],
        report_bytes=m["report_bytes"],
        remote_addr=m["remote_addr"],
    )


_POINT_COLUMNS = ("check_uuid", "at", *_FIELDS)


def _point_row(point: SeriesPoint) -> tuple[Any, ...]:
    return (
        point.check_uuid,
        point.at,
        point.kind[:10],
        point.exit_status,
        point.duration_ms,
        point.rid,
        None if point.summary is None else point.summary[:SUMMARY_CHARS],
        point.report_bytes,
        point.remote_addr[:64],
    )


def add_to_outbox(conn: Connection, points: Sequence[tuple[str, SeriesPoint]]) -> None:
    """Insert (key, point) rows into the outbox on the caller's connection/transaction."""
    insert_rows(
        conn, series_outbox, ("key", *_POINT_COLUMNS), [(k, *_point_row(p)) for k, p in points]
    )


def upsert_points(conn: Connection, points: Sequence[SeriesPoint]) -> None:
    """Insert or replace the points' rows (key: check uuid + time) on ``conn``."""
    # One row per key: the last one given wins, as when InfluxDB gets a batch with
    # the same point twice (and MySQL's upsert would otherwise apply both).
    rows = list({(p.check_uuid, p.at): _point_row(p) for p in points}.values())
    insert_rows(conn, series_points, _POINT_COLUMNS, rows, update=_FIELDS)


class SqlSeriesStore:
    """SeriesStore over ``series_points`` (see the module docstring)."""

    def __init__(self, engine: Engine, retention: timedelta) -> None:
        self.engine = engine
        self.retention = retention

    def write(self, points: Sequence[SeriesPoint]) -> None:
        if not points:
            return
        try:
            with self.engine.begin() as conn:
                upsert_points(conn, points)
        except OperationalError as exc:
            raise SeriesUnavailable(str(exc.orig)) from exc

    def read(
        self,
        check_uuid: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Sequence[str] = (),
        limit: int = 1000,
        newest_first: bool = True,
    ) -> list[SeriesPoint]:
        q = select(series_points).where(series_points.c.check_uuid == check_uuid)
        if since is not None:
            q = q.where(series_points.c.at >= since)
        if until is not None:
            q = q.where(series_points.c.at < until)
        if kinds:
            q = q.where(series_points.c.kind.in_(list(kinds)))
        order = series_points.c.at.desc() if newest_first else series_points.c.at.asc()
        q = q.order_by(order).limit(limit)
        try:
            with self.engine.connect() as conn:
                return [point_from_row(r) for r in conn.execute(q)]
        except OperationalError as exc:
            raise SeriesUnavailable(str(exc.orig)) from exc

    def apply_retention(self, now: datetime) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(series_points).where(series_points.c.at < now - self.retention)
            )
            return int(result.rowcount or 0)


class SqlSeriesOutbox:
    """SeriesOutbox over ``series_outbox``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def take(self, limit: int, keys: Sequence[str] | None = None) -> OutboxBatch:
        q = select(series_outbox)
        if keys is not None:
            if not keys:
                return OutboxBatch([], [])
            q = q.where(series_outbox.c.key.in_(list(keys)))
        q = q.order_by(series_outbox.c.at).limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return OutboxBatch([r.key for r in rows], [point_from_row(r) for r in rows])

    def remove(self, keys: Sequence[str]) -> None:
        if keys:
            with self.engine.begin() as conn:
                conn.execute(delete(series_outbox).where(series_outbox.c.key.in_(list(keys))))

    def oldest(self) -> datetime | None:
        with self.engine.connect() as conn:
            value: datetime | None = conn.execute(
                select(series_outbox.c.at).order_by(series_outbox.c.at).limit(1)
            ).scalar()
        return value

    def count(self, cap: int = 100_000) -> int:
        capped = select(series_outbox.c.key).limit(cap).subquery()
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(capped)).scalar_one())
