"""No 5xx on any input (#10): bad input to the management API is a 4xx naming the field,
a constraint another row holds is a 409 naming it, and a database outage is a 503 with
Retry-After, all through Chalice's test client against app.app on SQLite and MariaDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client
from sqlalchemy import create_engine
from srvpulse import bootstrap
from srvpulse.adapters.sql.db import make_engine

import app as app_module
from tests.alerting_peers import free_port
from tests.conftest import make_runtime
from tests.integration.conftest import RW_KEY, Api

DEEP = "[" * 100_000 + "]" * 100_000


def _raw(client: Client, method: str, path: str, body: str | bytes) -> tuple[int, dict[str, str]]:
    response = getattr(client.http, method)(
        path,
        headers={"X-Api-Key": RW_KEY, "Content-Type": "application/json"},
        body=body,
    )
    return response.status_code, json.loads(response.body)


def test_too_deeply_nested_json_is_a_400_not_a_500(client: Client) -> None:
    status, body = _raw(client, "post", "/api/v3/auth/signin", DEEP)
    assert status == 400
    assert body == {"error": "body: the JSON is nested too deeply", "field": "body"}
    status, body = _raw(client, "post", "/api/v3/checks/", '{"name":' * 5000)
    assert (status, body["field"]) == (400, "body")


def test_malformed_json_and_bytes_that_are_not_utf8_are_400s(client: Client) -> None:
    status, body = _raw(client, "post", "/api/v3/checks/", '{"name": ')
    assert (status, body["field"]) == (400, "body")
    assert body["error"].startswith("body: malformed JSON")
    status, body = _raw(client, "post", "/api/v3/checks/", b'{"name": "\xff\xfe"}')
    assert (status, body["field"]) == (400, "body")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v3/channels",
            '{"kind":"email","name":"\\ud800","config":{"to":"a@example.com"}}',
            "name",
        ),
        ("/api/v3/checks/", '{"name": "backup \\udfff", "tags": "a"}', "name"),
        ("/api/v3/checks/", '{"tags": ["not", "text"], "\\ud800": 1}', "\ufffd"),
        ("/api/v3/maintenance", '{"name": "x", "tz": "Europe/\\ud83d"}', "tz"),
    ],
)
def test_text_with_lone_surrogates_is_a_400_naming_the_field(
    client: Client, path: str, body: str, field: str
) -> None:
    status, answer = _raw(client, "post", path, body)
    assert status == 400, answer
    assert answer["field"] == field
    assert "not valid Unicode" in answer["error"]


def test_a_webhook_url_that_cannot_be_parsed_is_a_400_naming_it(rw: Api) -> None:
    status, body = rw.call(
        "post",
        "/api/v3/channels",
        {"kind": "webhook", "config": {"down": {"url": "http://[::1/", "method": "POST"}}},
    )
    assert status == 400, body
    assert body["field"] == "config.down.url"


def test_taking_the_slug_of_another_check_is_a_409_naming_the_slug(rw: Api) -> None:
    rw.call("post", "/api/v3/checks/", {"name": "a", "slug": "backup"})
    _, other = rw.call("post", "/api/v3/checks/", {"name": "b", "slug": "export"})
    status, body = rw.call("post", f"/api/v3/checks/{other['uuid']}", {"slug": "backup"})
    assert status == 409
    assert body == {"error": "slug: another check has this slug", "field": "slug"}
    status, body = rw.call("post", "/api/v3/checks/", {"name": "c", "slug": "backup"})
    assert (status, body["field"]) == (409, "slug")
    status, again = rw.call("get", f"/api/v3/checks/{other['uuid']}")
    assert again["slug"] == "export"


@pytest.fixture(params=["sqlite", "mysql"])
def unreachable_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """The API's runtime on a database that is not there: a MySQL port nobody listens
    on, or an SQLite file in a directory that cannot be created."""
    request.node.user_properties.append(("database", request.param))
    if request.param == "mysql":
        url = f"mysql+pymysql://root@127.0.0.1:{free_port()}/srvpulse?connect_timeout=2"
        engine = make_engine(url)
    else:
        blocker = tmp_path / "not-a-directory"
        blocker.write_text("")
        engine = create_engine(f"sqlite:///{blocker / 'db.sqlite3'}")
    bootstrap.install(make_runtime(engine))
    yield
    bootstrap.install(None)
    engine.dispose()


def test_a_database_outage_is_a_503_with_retry_after_not_a_500(unreachable_database: None) -> None:
    with Client(app_module.app) as client:
        for method, path, body in [
            ("get", "/api/v3/checks/", None),
            ("post", "/api/v3/checks/", '{"name": "x"}'),
            ("post", "/api/v3/auth/signin", '{"email": "a@example.com", "password": "p"}'),
        ]:
            response = getattr(client.http, method)(
                path,
                headers={"X-Api-Key": RW_KEY, "Content-Type": "application/json"},
                body=body,
            )
            assert response.status_code == 503, (path, response.body)
            assert int(response.headers["Retry-After"]) >= 1
            assert json.loads(response.body)["error"] == (
                "the database is unavailable; try again shortly"
            )
