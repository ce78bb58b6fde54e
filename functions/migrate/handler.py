"""Migrate function: brings the SQL schema to the newest Alembic revision.

Invoked by infra/deploy.sh after each `sam deploy` (the functions run in the VPC, next to
the database; a deploy machine usually cannot reach it). Idempotent: at the newest
revision it does nothing. Not on any event source.
"""

from __future__ import annotations

from typing import Any

from srvpulse import bootstrap


def handler(event: dict[str, Any] | None = None, context: object = None) -> dict[str, Any]:
    from srvpulse.adapters.sql.db import migrate

    engine = bootstrap.runtime().engine
    migrate(engine)
    return {"migrated": True, "database": engine.url.render_as_string(hide_password=True)}
