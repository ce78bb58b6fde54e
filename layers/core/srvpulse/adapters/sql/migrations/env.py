"""Alembic environment: runs on SQLite and MySQL alike (batch mode for SQLite ALTERs)."""

from alembic import context
from sqlalchemy import Connection
from srvpulse.adapters.sql.db import foreign_keys_off, make_engine
from srvpulse.adapters.sql.tables import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    with make_engine(url).connect() as conn, foreign_keys_off(conn):
        _run(conn)
        conn.commit()
