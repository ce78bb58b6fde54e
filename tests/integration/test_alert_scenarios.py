"""User scenarios against the analyzer on a controlled clock (both databases): what the
alerts say, and what happens when a check's channel settings change while it is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.bootstrap import Runtime
from srvpulse.domain.delivery import headline
from srvpulse.domain.model import PingKind
from srvpulse.domain.rules import MAX_AFTER_FAILURES
from srvpulse.services.analyzing import Analyzer
from srvpulse.services.projects import ensure_default_project

from tests.integration.conftest import Api
from tests.integration.test_analyzer import MIN, T0, add_channel, new_check, send, sent

SEC = timedelta(seconds=1)


@pytest.fixture
def project_id(runtime: Runtime) -> int:
    return ensure_default_project(runtime.check_store, T0).project_id


@pytest.fixture
def bus(runtime: Runtime) -> LocalAlertBus:
    bus = runtime.alert_bus
    assert isinstance(bus, LocalAlertBus)
    return bus


@pytest.fixture
def analyzer(runtime: Runtime) -> Analyzer:
    return runtime.analyzer


def headlines(bus: LocalAlertBus) -> list[str]:
    return [headline(e) for e in bus.published]


def test_the_largest_accepted_after_failures_still_alerts(
    runtime: Runtime, project_id: int, engine: Engine, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    check = new_check(runtime, project_id)
    channel = add_channel(engine, project_id, check)
    runtime.channel_store.assign(check.id, channel, {"after_failures": MAX_AFTER_FAILURES}, T0)
    for i in range(MAX_AFTER_FAILURES):
        send(runtime, check, PingKind.FAIL, at=T0 + i * MIN)
    analyzer.run_pass(T0 + MAX_AFTER_FAILURES * MIN)
    assert sent(bus) == [("down", "failed", False)]


def test_an_assignment_asking_for_more_failures_than_are_ever_counted_is_refused(
    rw: Api,
) -> None:
    _, check = rw.call("post", "/api/v3/checks", {"name": "nightly"})
    _, channel = rw.call(
        "post", "/api/v3/channels", {"kind": "email", "config": {"to": "a@example.com"}}
    )
    path = f"/api/v3/checks/{check['uuid']}/channels/{channel['id']}"
    assert rw.call("put", path, {"after_failures": MAX_AFTER_FAILURES})[0] == 200
    status, reply = rw.call("put", path, {"after_failures": MAX_AFTER_FAILURES + 1})
    assert (status, reply["field"]) == (400, "after_failures")
