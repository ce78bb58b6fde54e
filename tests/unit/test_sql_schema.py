from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, text
from srvpulse.adapters.sql.tables import projects


def test_timestamps_come_back_as_the_same_aware_utc_instant(engine: Engine) -> None:
    when = datetime(2026, 3, 29, 1, 30, 15, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(insert(projects).values(uuid="p1", name="P", ping_key="k1", created=when))
        got = conn.execute(select(projects.c.created)).scalar_one()
    assert got == when
    assert got.tzinfo is not None


def test_on_mysql_every_table_compares_text_exactly_like_sqlite(mysql_engine: Engine) -> None:
    # The test database was created with the server's default (case- and accent-
    # insensitive) collation, as RDS creates the stack's; the migrations make it binary.
    with mysql_engine.connect() as conn:
        collations = set(
            conn.execute(
                text(
                    "SELECT DISTINCT table_collation FROM information_schema.tables "
                    "WHERE table_schema = DATABASE()"
                )
            ).scalars()
        )
        default = conn.execute(text("SELECT @@collation_database")).scalar_one()
    assert collations == {"utf8mb4_bin"}
    assert default == "utf8mb4_bin"  # tables created by later migrations too
