"""The table definitions the code queries (adapters/sql/tables) are what the migrations
build, on SQLite and MariaDB: a column, index, key or type added on one side only is a
test failure here, not a surprise on the first deploy that runs the migrations.

Server defaults are not compared: a migration that adds a NOT NULL column to a table
with rows gives it one to fill them, which the table definition need not repeat.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, Index, Integer, MetaData
from srvpulse.adapters.sql.tables import metadata


def _differences(engine: Engine, target: MetaData) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, target))


def test_the_migrated_schema_is_the_table_definitions(engine: Engine) -> None:
    assert _differences(engine, metadata) == []


def test_a_column_or_index_missing_from_the_migrations_is_reported(engine: Engine) -> None:
    drifted = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(drifted)
    checks = drifted.tables["checks"]
    checks.append_column(Column("not_migrated", Integer, nullable=True))
    Index("ix_checks_not_migrated", checks.c.not_migrated)
    found = {
        (d[0], d[2]) if d[0] == "add_column" else (d[0], d[1].name)
        for d in _differences(engine, drifted)
    }
    assert found == {("add_column", "checks"), ("add_index", "ix_checks_not_migrated")}
