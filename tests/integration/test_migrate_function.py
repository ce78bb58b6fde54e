"""The migrate function as CloudFormation calls it (custom resource) and as a person does
(direct invoke), against a real SQLite/MariaDB database and a real HTTP server standing in
for CloudFormation's pre-signed response URL."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text
from srvpulse import bootstrap
from srvpulse.adapters.sql.db import make_engine
from srvpulse.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _migrate_handler() -> Any:
    sys.path.insert(0, str(ROOT))
    try:
        from functions.migrate import handler
    finally:
        sys.path.remove(str(ROOT))
    return handler


class _CloudFormation(BaseHTTPRequestHandler):
    """Receives the custom resource's PUT like CloudFormation's S3 URL does."""

    replies: list[dict[str, Any]]

    def do_PUT(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).replies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    replies: list[dict[str, Any]] = []
    handler = type("Receiver", (_CloudFormation,), {"replies": replies})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/response?sig=abc", replies
    server.shutdown()
    server.server_close()


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    bootstrap.install(bootstrap.for_aws(Settings(mode="aws", database_url=url)))
    yield url
    bootstrap.install(None)


def _event(request_type: str, url: str) -> dict[str, Any]:
    event = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:migrate",
        "ResponseURL": url,
        "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/srvpulse/1",
        "RequestId": "7bfe2d54-710d-4a5b-9a1e-000000000001",
        "LogicalResourceId": "SchemaMigration",
        "ResourceType": "Custom::SchemaMigration",
        "ResourceProperties": {"CoreLayerVersion": "arn:aws:lambda:...:layer:core:7"},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "srvpulse-schema"
    return event


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_deploy_creates_the_schema_and_tells_cloudformation(
    empty_database: str, response_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, replies = response_url
    _migrate_handler().handler(_event("Create", url), None)
    (reply,) = replies
    assert reply["Status"] == "SUCCESS", reply
    assert reply["LogicalResourceId"] == "SchemaMigration"
    assert reply["RequestId"] == "7bfe2d54-710d-4a5b-9a1e-000000000001"
    assert {"checks", "pings", "alembic_version"} <= _tables(empty_database)
    # A second deploy with a new layer is an Update: already at the newest revision.
    _migrate_handler().handler(_event("Update", url), None)
    assert replies[1]["Status"] == "SUCCESS"
    assert replies[1]["PhysicalResourceId"] == "srvpulse-schema"


def test_a_failed_migration_fails_the_deploy_with_the_reason(
    tmp_path: Path, response_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, replies = response_url
    unreachable = "mysql+pymysql://srvpulse:secret@127.0.0.1:9/srvpulse?connect_timeout=1"
    bootstrap.install(bootstrap.for_aws(Settings(mode="aws", database_url=unreachable)))
    try:
        _migrate_handler().handler(_event("Update", url), None)
    finally:
        bootstrap.install(None)
    (reply,) = replies
    assert reply["Status"] == "FAILED"
    assert reply["Reason"].startswith("migration failed: OperationalError")
    assert "secret" not in reply["Reason"]


def test_deleting_the_stack_leaves_the_database_alone(
    empty_database: str, response_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, replies = response_url
    _migrate_handler().handler(_event("Delete", url), None)
    assert [r["Status"] for r in replies] == ["SUCCESS"]
    assert _tables(empty_database) == set()


def test_a_rollback_to_older_code_leaves_a_newer_schema_in_place(
    engine: Engine, response_url: tuple[str, list[dict[str, Any]]]
) -> None:
    url, replies = response_url
    with engine.begin() as conn:
        (current,) = conn.execute(text("SELECT version_num FROM alembic_version")).one()
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    bootstrap.install(
        bootstrap.for_aws(
            Settings(mode="aws", database_url=engine.url.render_as_string(hide_password=False))
        )
    )
    try:
        _migrate_handler().handler(_event("Update", url), None)
    finally:
        bootstrap.install(None)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    (reply,) = replies
    assert reply["Status"] == "SUCCESS"
    assert reply["Data"]["outcome"] == "database is newer than this code; left as is"


def test_invoking_it_by_hand_migrates_and_says_where(empty_database: str) -> None:
    summary = _migrate_handler().handler({}, None)
    assert summary == {"outcome": "migrated to the newest revision", "database": empty_database}
    assert "checks" in _tables(empty_database)
