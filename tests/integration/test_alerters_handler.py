"""The alerters entry point: an SNS-shaped event through functions/alerters/handler.py,
and the local worker draining the in-process bus into that same handler."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from srvpulse import bootstrap
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.bootstrap import Runtime
from srvpulse.local.alert_worker import AlertWorker, sns_event
from srvpulse.local.runner import load_handler

from tests.alerting_events import down_event
from tests.alerting_peers import Reply, http_peer
from tests.conftest import make_runtime
from tests.integration.test_dispatch import _seed, _webhook


@pytest.fixture
def runtime(sqlite_engine: Engine) -> Iterator[Runtime]:
    rt = make_runtime(sqlite_engine)
    bootstrap.install(rt)
    yield rt
    bootstrap.install(None)


def test_an_sns_event_is_delivered_once_even_when_sns_redelivers_it(runtime: Runtime) -> None:
    handler = load_handler("functions.alerters.handler")
    with http_peer([Reply(200)]) as hook:
        channel = _seed(runtime.engine, "webhook", _webhook(hook.url))
        event = sns_event(down_event(channel_id=channel, channel_kind="webhook"))
        assert handler(event, None) == {"results": {"sent": 1}}
        handler(event, None)
    assert len(hook.requests) == 1


def test_the_local_worker_delivers_what_the_bus_publishes(runtime: Runtime) -> None:
    bus = LocalAlertBus()
    worker = AlertWorker(bus, load_handler("functions.alerters.handler"))
    with http_peer([Reply(200)]) as hook:
        channel = _seed(runtime.engine, "webhook", _webhook(hook.url))
        worker.start()
        try:
            started = time.monotonic()
            bus.publish([down_event(channel_id=channel, channel_kind="webhook")])
            (req,) = hook.wait_for(1, timeout=5)
            elapsed = time.monotonic() - started
        finally:
            worker.stop(drain=True)
    assert req.body == b"nightly-backup"
    assert elapsed < 2
