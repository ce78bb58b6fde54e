"""Fixtures for API tests: the default project with a known key, Chalice's test client
against app.app, a small JSON helper, and delivering pings through the ingest handler."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.services.analyzing import Analyzer
from srvpulse.services.projects import DefaultProject, ensure_default_project

import app as app_module
from functions.ingest import handler as ingest
from tests.sqs_events import sqs_event

RW_KEY = "test-read-write-key-0123456789"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """AWS as moto emulates it, with fake credentials (never a real account's)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def project(runtime: Runtime) -> DefaultProject:
    return ensure_default_project(runtime.account_stores.projects, datetime.now(UTC), RW_KEY)


@pytest.fixture
def client(project: DefaultProject) -> Iterator[Client]:
    with Client(app_module.app) as c:
        yield c


@pytest.fixture
def project_id(runtime: Runtime) -> int:
    """The default project's id (no keys needed: services are called directly)."""
    return ensure_default_project(
        runtime.account_stores.projects, datetime(2026, 3, 2, tzinfo=UTC)
    ).project_id


@pytest.fixture
def bus(runtime: Runtime) -> LocalAlertBus:
    """The in-process alert bus the analyzer publishes on (``published`` lists events)."""
    bus = runtime.alert_bus
    assert isinstance(bus, LocalAlertBus)
    return bus


@pytest.fixture
def analyzer(runtime: Runtime) -> Analyzer:
    return runtime.analyzer


class Api:
    """JSON in, (status, JSON or text out) back, with the given key; never a 500."""

    def __init__(self, client: Client, key: str | None) -> None:
        self.client = client
        self.key = key

    def call(self, method: str, path: str, body: Any = None, raw: str | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if self.key is not None:
            headers["X-Api-Key"] = self.key
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        resp = getattr(self.client.http, method)(path, headers=headers, body=data)
        assert resp.status_code != 500, resp.body
        ctype = resp.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            return resp.status_code, json.loads(resp.body)
        return resp.status_code, resp.body.decode()


@pytest.fixture
def rw(client: Client) -> Api:
    return Api(client, RW_KEY)


@pytest.fixture
def ro(client: Client, project: DefaultProject) -> Api:
    return Api(client, project.read_only_key)


def a_ping(check_uuid: str, kind: PingKind = PingKind.SUCCESS, **kw: Any) -> PingMessage:
    return PingMessage(
        ping_id=str(uuid.uuid4()),
        received_at=kw.pop("at", datetime.now(UTC)),
        kind=kind,
        check_uuid=check_uuid,
        **kw,
    )


def deliver(*messages: PingMessage) -> None:
    """Ingest pings through the real SQS handler, as the queue would deliver them."""
    reply = ingest.handler(sqs_event(*[m.to_json() for m in messages]), None)
    assert reply == {"batchItemFailures": []}
