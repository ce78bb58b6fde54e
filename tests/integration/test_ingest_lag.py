"""No false alarms while ingestion lags (issue #10), on SQLite and MariaDB.

Ingestion stalls for 10 minutes while pings keep coming: the analyzer, passing every 5
seconds, sends no down alert for the checks that kept pinging; the one check that really
stopped goes down once ingestion has caught up. Service level with the clock and the lag
as parameters; then the same through the local pieces (durable queue, its lag watermark,
the queue drain calling the ingest handler). The AWS heartbeat adapter against moto.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from srvpulse import bootstrap
from srvpulse.adapters.lag import REORDER_MARGIN, HeartbeatLag, LocalQueueLag
from srvpulse.adapters.local_queue import LocalDurableQueue
from srvpulse.adapters.memory import LocalAlertBus, ManualIngestLag
from srvpulse.adapters.sql.analyzer_store import SqlAnalyzerStore
from srvpulse.adapters.sql.db import make_engine
from srvpulse.adapters.sql.tables import channels, check_channels
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import Check, Heartbeat, PingKind, PingMessage, Status
from srvpulse.local.queue_worker import QueueDrainWorker
from srvpulse.services.analyzing import Analyzer
from srvpulse.services.ingesting import ingest_messages
from srvpulse.services.projects import ensure_default_project

from functions.ingest import handler as ingest
from tests.conftest import make_runtime
from tests.sqs_events import sqs_event

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=5)  # the analyzer's pass interval
STALL = timedelta(minutes=10)


def new_check(runtime: Runtime, project_id: int, name: str) -> Check:
    with runtime.check_store.transaction() as tx:
        check = tx.insert_check(
            Check(
                id=0,
                uuid=str(uuid.uuid4()),
                project_id=project_id,
                name=name,
                timeout=60,
                grace=30,
                created=T0 - timedelta(hours=1),
            )
        )
    return check


def assign_channel(engine: Engine, project_id: int, checks: list[Check]) -> None:
    with engine.begin() as conn:
        inserted = conn.execute(
            insert(channels).values(
                uuid=str(uuid.uuid4()),
                project_id=project_id,
                kind="webhook",
                name="hook",
                config="{}",
                created=T0,
            )
        ).inserted_primary_key
        assert inserted is not None
        conn.execute(
            insert(check_channels),
            [{"check_id": c.id, "channel_id": inserted[0], "created": T0} for c in checks],
        )


def ping(check: Check, at: datetime) -> PingMessage:
    return PingMessage(
        ping_id=str(uuid.uuid4()), received_at=at, kind=PingKind.SUCCESS, check_uuid=check.uuid
    )


@pytest.fixture
def fleet(runtime: Runtime, engine: Engine) -> tuple[list[Check], Check]:
    """Five checks that ping every 30 s (60 s period, 30 s grace) and one that will stop,
    each with a webhook channel; all pinged and ingested at T0."""
    project_id = ensure_default_project(runtime.account_stores.projects, T0).project_id
    pinged = [new_check(runtime, project_id, f"pinged-{i}") for i in range(5)]
    silent = new_check(runtime, project_id, "silent")
    assign_channel(engine, project_id, [*pinged, silent])
    ingest_messages(runtime.check_store, [ping(c, T0) for c in [*pinged, silent]])
    return pinged, silent


def status(runtime: Runtime, check: Check) -> Status:
    with runtime.check_store.transaction() as tx:
        found = tx.get_check(check.id)
    assert found is not None
    return found.status


def downs(bus: LocalAlertBus) -> list[str]:
    return [e.check_name for e in bus.published if e.status is Status.DOWN]


def test_a_ten_minute_stall_sends_no_down_alert_for_pinged_checks_and_catches_the_silent_one(
    runtime: Runtime, engine: Engine, fleet: tuple[list[Check], Check]
) -> None:
    pinged, silent = fleet
    lag = ManualIngestLag()
    bus = LocalAlertBus()
    analyzer = Analyzer(SqlAnalyzerStore(engine), bus, lag=lag)
    queued: list[PingMessage] = []  # accepted by the edge, not yet ingested
    now = T0
    while now < T0 + STALL:
        now += STEP
        if (now - T0) % timedelta(seconds=30) == timedelta(0):
            queued.extend(ping(c, now) for c in pinged)
        lag.at = min((m.received_at for m in queued), default=None)
        analyzer.run_pass(now)
    assert downs(bus) == []
    assert len(queued) == 5 * 20

    # Ingestion catches up: the queued pings are stored, the watermark reaches now.
    for start in range(0, len(queued), 30):
        ingest_messages(runtime.check_store, queued[start : start + 30])
    lag.at = None
    now += STEP
    analyzer.run_pass(now)
    assert downs(bus) == ["silent"]
    assert [status(runtime, c) for c in pinged] == [Status.UP] * 5
    assert status(runtime, silent) is Status.DOWN
    analyzer.run_pass(now + STEP)
    assert downs(bus) == ["silent"]  # once


def test_without_the_lag_watermark_the_same_stall_would_alert_for_every_pinged_check(
    runtime: Runtime, engine: Engine, fleet: tuple[list[Check], Check]
) -> None:
    # The failure the watermark prevents (Healthchecks' 2021 incident), shown on the same
    # fleet: an analyzer judging by the wall clock alone.
    pinged, silent = fleet
    bus = LocalAlertBus()
    Analyzer(SqlAnalyzerStore(engine), bus).run_pass(T0 + timedelta(minutes=2))
    assert sorted(downs(bus)) == sorted(c.name for c in [*pinged, silent])


@pytest.fixture
def local_queue(tmp_path: Path) -> Iterator[tuple[LocalDurableQueue, list[float]]]:
    clock = [T0.timestamp()]
    queue = LocalDurableQueue(tmp_path / "queue.sqlite3", clock=lambda: clock[0])
    yield queue, clock
    queue.close()


def test_through_the_local_queue_a_stalled_drain_holds_deadlines_until_it_catches_up(
    runtime: Runtime,
    engine: Engine,
    fleet: tuple[list[Check], Check],
    local_queue: tuple[LocalDurableQueue, list[float]],
) -> None:
    pinged, silent = fleet
    queue, clock = local_queue
    bus = LocalAlertBus()
    analyzer = Analyzer(SqlAnalyzerStore(engine), bus, lag=LocalQueueLag(queue.oldest_enqueued_at))
    now = T0
    while now < T0 + STALL:  # the drain is stalled: pings pile up in the durable queue
        now += STEP
        clock[0] = now.timestamp()
        if (now - T0) % timedelta(seconds=30) == timedelta(0):
            for c in pinged:
                queue.enqueue(ping(c, now))
        analyzer.run_pass(now)
    assert downs(bus) == [] and queue.depth() == 100

    drain = QueueDrainWorker(queue, ingest.handler, batch_size=40)
    while batch := queue.receive(40, 30.0):
        drain.process(batch)
    assert queue.depth() == 0
    now += STEP
    clock[0] = now.timestamp()
    analyzer.run_pass(now)
    assert downs(bus) == ["silent"]
    assert [status(runtime, c) for c in pinged] == [Status.UP] * 5
    assert status(runtime, silent) is Status.DOWN


def test_the_aws_heartbeat_goes_through_the_ping_queue_and_ingest_moves_the_watermark(
    aws: None, runtime: Runtime, engine: Engine
) -> None:
    import boto3

    sqs = boto3.client("sqs", region_name="eu-west-1")
    url = sqs.create_queue(QueueName="srvpulse-pings")["QueueUrl"]
    lag = HeartbeatLag(url, runtime.check_store, region="eu-west-1")
    # No heartbeat ingested yet: the lag is unknown and the clock is used (logged).
    assert lag.caught_up_to(T0) == T0

    def deliver_queue() -> dict[str, Any]:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        return ingest.handler(sqs_event(*[m["Body"] for m in got]), None)

    # The first call's heartbeat (sent at T0) is ingested: caught up to T0, less margin.
    assert deliver_queue() == {"batchItemFailures": []}
    later = T0 + timedelta(minutes=3)
    assert lag.caught_up_to(later) == T0 - REORDER_MARGIN
    # Ingestion stalls: heartbeats pile up in the queue and the watermark stays.
    assert lag.caught_up_to(later + timedelta(minutes=5)) == T0 - REORDER_MARGIN
    assert deliver_queue() == {"batchItemFailures": []}
    assert lag.caught_up_to(later + timedelta(minutes=6)) == (
        later + timedelta(minutes=5) - REORDER_MARGIN
    )


def test_a_heartbeat_does_not_move_the_watermark_past_pings_of_its_batch_being_retried(
    runtime: Runtime, engine: Engine, tmp_path: Path, fleet: tuple[list[Check], Check]
) -> None:
    pinged, _ = fleet
    event = sqs_event(ping(pinged[0], T0 + timedelta(minutes=1)).to_json(), Heartbeat(T0).to_json())
    unreachable = make_engine("mysql+pymysql://root@127.0.0.1:1/srvpulse")
    bootstrap.install(make_runtime(unreachable, data_dir=tmp_path))
    try:
        reply = ingest.handler(event, None)
    finally:
        bootstrap.install(runtime)
        unreachable.dispose()
    assert len(reply["batchItemFailures"]) == 2
    with runtime.check_store.transaction() as tx:
        assert tx.watermark("heartbeat") is None
    assert ingest.handler(event, None) == {"batchItemFailures": []}
    with runtime.check_store.transaction() as tx:
        assert tx.watermark("heartbeat") == T0
