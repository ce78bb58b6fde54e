"""Many checks at once, straight into the tables: the analyzer's concurrency test and
bench/analyzer_scale.py both need thousands of identical, soon-due checks."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select
from srvpulse.adapters.sql.tables import channels, check_channels, checks, projects

# Inserting 100 000 rows in one statement would hit MySQL's max_allowed_packet.
BATCH = 5000


def seed_checks(engine: Engine, n: int, last_ping: datetime) -> None:
    """One project with one webhook channel and ``n`` simple checks (1 h period, 10 min
    grace), all up, last pinged at ``last_ping`` (so overdue from ``last_ping`` + 70 min)
    and each assigned to the channel."""
    with engine.begin() as conn:
        project_id = conn.execute(
            insert(projects).values(
                uuid=str(uuid.uuid4()), name="p", ping_key="k", created=last_ping
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        channel_id = conn.execute(
            insert(channels).values(
                uuid=str(uuid.uuid4()),
                project_id=project_id,
                kind="webhook",
                name="w",
                config="{}",
                created=last_ping,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
    for start in range(0, n, BATCH):
        rows = [
            {
                "uuid": str(uuid.uuid4()),
                "project_id": project_id,
                "name": f"job-{i}",
                "tags": "",
                "desc": "",
                "kind": "simple",
                "timeout": 3600,
                "grace": 600,
                "schedule": "* * * * *",
                "tz": "UTC",
                "manual_resume": False,
                "methods": "",
                "recovery_threshold": 1,
                "status": "up",
                "n_pings": 1,
                "last_ping": last_ping,
                "consecutive_failures": 0,
                "consecutive_successes": 1,
                "alert_after": last_ping + timedelta(minutes=70),
                "version": 1,
                "created": last_ping,
            }
            for i in range(start, min(n, start + BATCH))
        ]
        with engine.begin() as conn:
            conn.execute(insert(checks), rows)
    with engine.begin() as conn:
        ids = [r[0] for r in conn.execute(select(checks.c.id).order_by(checks.c.id))]
        for start in range(0, len(ids), BATCH):
            conn.execute(
                insert(check_channels),
                [
                    {"check_id": i, "channel_id": channel_id, "created": last_ping}
                    for i in ids[start : start + BATCH]
                ],
            )
