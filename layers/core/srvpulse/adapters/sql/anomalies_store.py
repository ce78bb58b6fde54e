"""The ``anomalies`` table (pattern detection), used inside the check store's and the
analyzer store's transactions: functions over a Connection, so both stores share them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, tuple_, update

from ...domain.detection import Anomaly, AnomalyKind, Verdict
from .bulk import IDS, by_ids
from .tables import anomalies


def anomaly_from_row(row: Any) -> Anomaly:
    m = row._mapping
    return Anomaly(
        id=int(m["id"]),
        uuid=m["uuid"],
        check_id=m["check_id"],
        kind=AnomalyKind(m["kind"]),
        created=m["created"],
        run_started=m["run_started"],
        explanation=m["explanation"],
        facts=json.loads(m["facts"]),
        ping_n=m["ping_n"],
        expected_at=m["expected_at"],
        processed_at=m["processed_at"],
    )


def add_anomalies(
    conn: Connection,
    check_id: int,
    verdicts: Sequence[Verdict],
    ping_n: int | None,
    *,
    processed_at: datetime | None = None,
) -> list[Anomaly]:
    """Record verdicts, skipping any already recorded for the same (kind, run): a
    redelivered ping or a second analyzer records nothing twice. Returns the new rows."""
    if not verdicts:
        return []
    a = anomalies.c
    keys = {(v.kind.value, v.run_started) for v in verdicts}
    existing = {
        (r.kind, r.run_started)
        for r in conn.execute(
            select(a.kind, a.run_started).where(
                a.check_id == check_id, tuple_(a.kind, a.run_started).in_(list(keys))
            )
        )
    }
    added: list[Anomaly] = []
    for v in verdicts:
        key = (v.kind.value, v.run_started)
        if key in existing:
            continue
        existing.add(key)
        public_id, explanation = str(uuid.uuid4()), v.explanation[:1000]
        values: dict[str, Any] = {
            "uuid": public_id,
            "check_id": check_id,
            "kind": v.kind.value,
            "created": v.at,
            "run_started": v.run_started,
            "ping_n": ping_n,
            "explanation": explanation,
            "facts": json.dumps(v.facts, separators=(",", ":")),
            "processed_at": processed_at,
        }
        new_id = conn.execute(insert(anomalies).values(**values)).inserted_primary_key
        assert new_id is not None
        added.append(
            Anomaly(
                id=int(new_id[0]),
                uuid=public_id,
                check_id=check_id,
                kind=v.kind,
                created=v.at,
                run_started=v.run_started,
                explanation=explanation,
                facts=dict(v.facts),
                ping_n=ping_n,
                processed_at=processed_at,
            )
        )
    return added


def list_anomalies(conn: Connection, check_id: int, limit: int, offset: int) -> list[Anomaly]:
    a = anomalies.c
    rows = conn.execute(
        select(anomalies)
        .where(a.check_id == check_id)
        .order_by(a.created.desc(), a.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [anomaly_from_row(r) for r in rows]


def count_anomalies(conn: Connection, check_id: int) -> int:
    a = anomalies.c
    return int(conn.execute(select(func.count()).where(a.check_id == check_id)).scalar_one())


def get_anomaly(conn: Connection, check_id: int, anomaly_uuid: str) -> Anomaly | None:
    a = anomalies.c
    row = conn.execute(
        select(anomalies).where(and_(a.check_id == check_id, a.uuid == anomaly_uuid))
    ).first()
    return None if row is None else anomaly_from_row(row)


def mark_expected(conn: Connection, anomaly_id: int, now: datetime) -> None:
    conn.execute(update(anomalies).where(anomalies.c.id == anomaly_id).values(expected_at=now))


# Built once; the id list run as the backend reads it best (bulk.by_ids).
_UNPROCESSED = (
    select(anomalies)
    .where(anomalies.c.check_id.in_(IDS), anomalies.c.processed_at.is_(None))
    .order_by(anomalies.c.created, anomalies.c.id)
)


def unprocessed(conn: Connection, check_ids: Sequence[int]) -> dict[int, list[Anomaly]]:
    """Anomalies whose alerts the analyzer has not decided yet, per check, oldest first."""
    if not check_ids:
        return {}
    rows = conn.execute(by_ids(conn, _UNPROCESSED), {"ids": list(check_ids)})
    found: dict[int, list[Anomaly]] = {}
    for r in rows:
        found.setdefault(r.check_id, []).append(anomaly_from_row(r))
    return found


def mark_processed(conn: Connection, ids: Sequence[int], now: datetime) -> None:
    if ids:
        conn.execute(
            update(anomalies)
            .where(anomalies.c.id.in_(list(ids)), anomalies.c.processed_at.is_(None))
            .values(processed_at=now)
        )
