from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select
from srvpulse.adapters.sql.tables import projects


def test_timestamps_come_back_as_the_same_aware_utc_instant(engine: Engine) -> None:
    when = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(projects).values(uuid="p1", name="P", ping_key="k1", created=when))
        got = conn.execute(select(projects.c.created)).scalar_one()
    assert got == when
    assert got.tzinfo is not None
