"""Migrate function: brings the SQL schema to the newest Alembic revision.

CloudFormation calls it as a custom resource (template.yaml: SchemaMigration) on every
deploy that changes the core layer, *before* it updates the other functions: new code
never runs on an old schema, and a failed migration fails the deploy, which rolls back.
It runs in the VPC, next to the database (a deploy machine usually cannot reach it).
Invoked directly (``aws lambda invoke``), it migrates and returns a summary.

During a rollback, CloudFormation asks the previous code to "update" again; the database
is then at a revision that code does not know. That is reported as success: migrations
are backwards compatible (docs/architecture.md), so the old code runs on the new schema.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from srvpulse import bootstrap


def handler(event: dict[str, Any] | None = None, context: object = None) -> dict[str, Any]:
    event = event or {}
    if "ResponseURL" not in event:
        return migrate_now()
    if event.get("RequestType") == "Delete":
        # Deleting the stack (or replacing this resource) never touches the data.
        return _respond(event, "SUCCESS", "nothing to do on delete")
    try:
        summary = migrate_now()
    except Exception as exc:  # any failure must reach CloudFormation, or it waits
        return _respond(event, "FAILED", f"migration failed: {type(exc).__name__}: {exc}")
    return _respond(event, "SUCCESS", summary["outcome"], summary)


def migrate_now() -> dict[str, Any]:
    from alembic.util.exc import CommandError

    runtime = bootstrap.runtime()
    database = runtime.engine.url.render_as_string(hide_password=True)
    try:
        runtime.migrate()
    except CommandError as exc:
        if "Can't locate revision" not in str(exc):
            raise
        return {"outcome": "database is newer than this code; left as is", "database": database}
    return {"outcome": "migrated to the newest revision", "database": database}


def _respond(
    event: dict[str, Any], status: str, reason: str, data: dict[str, Any] | None = None
) -> dict[str, Any]:
    """PUT the custom resource's result to the pre-signed URL CloudFormation waits on."""
    reply = {
        "Status": status,
        "Reason": reason[:1000],
        "PhysicalResourceId": event.get("PhysicalResourceId") or "srvpulse-schema",
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": data or {},
    }
    body = json.dumps(reply).encode()
    request = urllib.request.Request(  # noqa: S310 (the URL is CloudFormation's, https)
        event["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        response.read()
    return reply
