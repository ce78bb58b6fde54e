"""The alerters entry point: an SNS-shaped event through functions/alerters/handler.py,
and the local worker draining the in-process bus into that same handler."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from srvpulse import bootstrap
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.bootstrap import Runtime
from srvpulse.local import alert_worker
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


def test_a_stop_waits_for_queued_alerts_only_as_long_as_its_drain_timeout(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A receiver that does not answer: the first delivery hangs until released, three
    # more wait behind it. The stop must not wait for them past its drain timeout.
    release = threading.Event()
    delivered: list[str] = []

    def slow_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        release.wait(30)
        delivered.append(event["Records"][0]["Sns"]["Message"])
        return {"results": {"sent": 1}}

    monkeypatch.setattr(alert_worker, "DELIVERY_STOP_WAIT_S", 0.2)
    bus = LocalAlertBus()
    worker = AlertWorker(bus, slow_handler, drain_timeout=0.2)
    worker.start()
    bus.publish([down_event(channel_id=n, channel_kind="webhook") for n in range(4)])
    stopper = threading.Thread(target=worker.stop, args=(True,))
    with caplog.at_level(logging.WARNING, logger="srvpulse.local.alert_worker"):
        stopper.start()
        stopper.join(10)
        stopped_while_stuck = not stopper.is_alive()
        release.set()
        stopper.join()
    assert stopped_while_stuck
    assert len(delivered) <= 1  # the stuck one may end; none of those queued behind it
    assert "stopped with 3 alert(s) not delivered" in caplog.text


def test_a_stop_delivers_what_is_queued_first(runtime: Runtime) -> None:
    bus = LocalAlertBus()
    worker = AlertWorker(bus, load_handler("functions.alerters.handler"))
    with http_peer([Reply(200)] * 3) as hook:
        channel = _seed(runtime.engine, "webhook", _webhook(hook.url))
        worker.start()
        bus.publish(
            [down_event(channel_id=channel, channel_kind="webhook", flip_id=n) for n in (1, 2, 3)]
        )
        worker.stop(drain=True)
        assert len(hook.requests) == 3
