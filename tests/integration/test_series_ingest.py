"""Ingest writes every stored ping to the series store after its commit, through the
SQL outbox: on the SQL table (SQLite, MariaDB) and on a real influxd that is stopped
and started again in the middle."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from srvpulse import bootstrap
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import Check, PingKind, PingMessage, Status
from srvpulse.domain.runs import SeriesPoint
from srvpulse.services.projects import ensure_default_project
from srvpulse.services.series import SeriesShipper

from functions.ingest import handler as ingest
from tests.conftest import InfluxServer, make_runtime, start_influx
from tests.sqs_events import sqs_event

# Recent: ingest forgets ping ids older than 15 days (a redelivery test needs them).
T0 = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=250001)


def a_ping(check: str, kind: PingKind, at: datetime, **kw: Any) -> PingMessage:
    return PingMessage(ping_id=str(uuid.uuid4()), received_at=at, kind=kind, check_uuid=check, **kw)


def deliver(*messages: PingMessage) -> None:
    reply = ingest.handler(sqs_event(*[m.to_json() for m in messages]), None)
    assert reply == {"batchItemFailures": []}


def new_check(rt: Runtime) -> Check:
    project = ensure_default_project(rt.account_stores.projects, T0)
    with rt.check_store.transaction() as tx:
        return tx.insert_check(
            Check(id=0, uuid=str(uuid.uuid4()), project_id=project.project_id, created=T0)
        )


def status_of(rt: Runtime, check: Check) -> Status:
    with rt.check_store.transaction() as tx:
        found = tx.get_check(check.id)
    assert found is not None
    return found.status


def test_every_stored_ping_becomes_one_point_even_when_redelivered(runtime: Runtime) -> None:
    check = new_check(runtime)
    rid = str(uuid.uuid4())
    start = a_ping(check.uuid, PingKind.START, T0, rid=rid, remote_addr="192.0.2.7")
    done = a_ping(
        check.uuid,
        PingKind.SUCCESS,
        T0 + timedelta(seconds=90, microseconds=5),
        rid=rid,
        exit_status=0,
        summary="12 GB in 3 min",
        body="x" * 2048 + "é",
    )
    note = a_ping(check.uuid, PingKind.LOG, T0 + timedelta(minutes=2), body="hello")
    failed = a_ping(check.uuid, PingKind.FAIL, T0 + timedelta(minutes=3), exit_status=4)
    unknown = a_ping(str(uuid.uuid4()), PingKind.SUCCESS, T0)
    deliver(start, done, note, unknown)
    deliver(failed, done, start)  # two redeliveries in a batch

    points = runtime.series_store.read(check.uuid, newest_first=False)
    assert points == [
        SeriesPoint(check.uuid, start.received_at, "start", rid=rid, remote_addr="192.0.2.7"),
        SeriesPoint(
            check.uuid,
            done.received_at,
            "success",
            exit_status=0,
            duration_ms=90_000,
            rid=rid,
            summary="12 GB in 3 min",
            report_bytes=2050,
        ),
        SeriesPoint(check.uuid, note.received_at, "log", report_bytes=5),
        SeriesPoint(check.uuid, failed.received_at, "fail", exit_status=4),
    ]
    assert runtime.series_store.read(unknown.check_uuid or "") == []
    assert runtime.series_outbox.count() == 0


CLOCK = [datetime.now(UTC)]


@pytest.fixture
def own_influxd(tmp_path: Path) -> Iterator[InfluxServer]:
    """An influxd of this test's own, which it may stop and start again."""
    server = start_influx(tmp_path / "influxd")
    yield server
    server.stop()


@pytest.fixture
def influx_runtime(engine: Engine, tmp_path: Path, own_influxd: InfluxServer) -> Iterator[Runtime]:
    rt = make_runtime(engine, data_dir=tmp_path, influx_url=own_influxd.url)
    # A clock the test moves: after a failure ingest leaves the store alone for a while.
    rt.__dict__["series_shipper"] = SeriesShipper(
        lambda: rt.series_outbox, lambda: rt.series_store, lambda: CLOCK[0]
    )
    bootstrap.install(rt)
    yield rt
    bootstrap.install(None)


def test_an_influxdb_outage_blocks_no_ping_and_loses_no_point(
    influx_runtime: Runtime, own_influxd: InfluxServer, caplog: pytest.LogCaptureFixture
) -> None:
    rt = influx_runtime
    check = new_check(rt)
    before = [a_ping(check.uuid, PingKind.SUCCESS, T0 + timedelta(minutes=i)) for i in range(3)]
    deliver(*before)
    assert len(rt.series_store.read(check.uuid)) == 3

    own_influxd.stop()
    during = [
        a_ping(check.uuid, PingKind.FAIL, T0 + timedelta(minutes=10 + i), exit_status=2)
        for i in range(4)
    ]
    deliver(*during[:2])
    deliver(*during[2:])
    # The SQL side moved on: the check is down, its pings are listed.
    assert status_of(rt, check) is Status.DOWN
    assert rt.series_outbox.count() == 4
    behind = [r.__dict__ for r in caplog.records if r.getMessage() == "series store behind"]
    assert [r["series_waiting"] for r in behind] == [2, 4]
    assert all(r["series_lag_s"] > 0 for r in behind)
    assert "Connection refused" in behind[0]["error"]
    # The second batch did not wait for a dead store: it was not even tried.
    assert behind[1]["error"].startswith("not tried until")

    own_influxd.start()  # same port, same data directory
    CLOCK[0] += timedelta(seconds=6)  # past the pause
    after = a_ping(check.uuid, PingKind.SUCCESS, T0 + timedelta(minutes=20))
    deliver(after)
    kinds = [p.kind for p in rt.series_store.read(check.uuid, newest_first=False)]
    assert kinds == ["success"] * 3 + ["fail"] * 4 + ["success"]
    assert rt.series_outbox.count() == 0
    assert status_of(rt, check) is Status.UP
