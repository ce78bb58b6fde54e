"""The SeriesStore contract, run on every adapter: the SQL table on SQLite and MariaDB,
and InfluxDB 1.6.7 (a real influxd started by infra/influxd.py)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from influxdb_client import Point, WritePrecision
from sqlalchemy import Engine
from srvpulse.adapters.influx import InfluxSeriesStore, line
from srvpulse.adapters.sql.series_store import SqlSeriesStore
from srvpulse.domain.runs import SeriesPoint
from srvpulse.ports import SeriesRejected, SeriesStore, SeriesUnavailable

from tests.conftest import InfluxServer, _Databases, _empty_all_tables

RETENTION = timedelta(days=400)
T0 = datetime(2026, 3, 2, 8, 30, 15, 123457, tzinfo=UTC)


def influx_store(url: str, retention: timedelta = RETENTION) -> InfluxSeriesStore:
    """A store on a database of its own (tests do not see each other's points)."""
    return InfluxSeriesStore(url, f"test_{uuid.uuid4().hex[:12]}", retention)


def drop(store: InfluxSeriesStore) -> None:
    httpx.post(f"{store.url}/query", data={"q": f'DROP DATABASE "{store.database}"'})
    store.close()


@pytest.fixture(params=["sqlite", "mysql", "influxdb"])
def series(request: pytest.FixtureRequest, databases: _Databases) -> Iterator[SeriesStore]:
    backend: str = request.param
    request.node.user_properties.append(("database", backend))
    if backend == "influxdb":
        server: InfluxServer = request.getfixturevalue("influxd")
        store = influx_store(server.url)
        yield store
        drop(store)
        return
    engine = databases.engine(backend)
    _empty_all_tables(engine)
    yield SqlSeriesStore(engine, RETENTION)


def a_point(check: str, at: datetime, kind: str = "success", **kw: object) -> SeriesPoint:
    return SeriesPoint(check_uuid=check, at=at, kind=kind, **kw)  # type: ignore[arg-type]


def test_a_point_reads_back_with_every_field_and_its_exact_microsecond(series: SeriesStore) -> None:
    check = str(uuid.uuid4())
    point = a_point(
        check,
        T0,
        "fail",
        exit_status=3,
        duration_ms=61_250,
        rid=str(uuid.uuid4()),
        summary='disk "full", 98% = bad \\ try again',
        report_bytes=100_000,
        remote_addr="2001:db8::1",
    )
    series.write([point])
    assert series.read(check) == [point]


def test_a_point_without_optional_fields_reads_back_without_them(series: SeriesStore) -> None:
    check = str(uuid.uuid4())
    point = a_point(check, T0, "log")
    series.write([point])
    assert series.read(check) == [point]


def test_writing_the_same_point_again_replaces_it_instead_of_adding_a_second(
    series: SeriesStore,
) -> None:
    check = str(uuid.uuid4())
    series.write([a_point(check, T0, "success", exit_status=0)])
    again = a_point(check, T0, "success", exit_status=0, summary="redelivered")
    series.write([again])
    series.write([again, again])
    assert series.read(check) == [again]


def test_points_one_microsecond_apart_are_two_points(series: SeriesStore) -> None:
    check = str(uuid.uuid4())
    first, second = a_point(check, T0, "start"), a_point(check, T0 + timedelta(microseconds=1))
    series.write([first, second])
    assert series.read(check, newest_first=False) == [first, second]


def test_reads_are_bounded_by_since_inclusive_until_exclusive_and_limit(
    series: SeriesStore,
) -> None:
    check = str(uuid.uuid4())
    points = [a_point(check, T0 + timedelta(minutes=i), exit_status=i) for i in range(10)]
    series.write(points)
    assert series.read(check) == points[::-1]
    assert series.read(check, newest_first=False, limit=3) == points[:3]
    window = series.read(check, since=points[2].at, until=points[6].at)
    assert window == points[2:6][::-1]
    assert series.read(check, until=points[4].at, limit=2) == [points[3], points[2]]
    assert series.read(check, since=points[9].at + timedelta(microseconds=1)) == []


def test_a_kind_filter_keeps_only_those_kinds(series: SeriesStore) -> None:
    check = str(uuid.uuid4())
    kinds = ["start", "success", "log", "fail", "ign", "start", "fail"]
    points = [a_point(check, T0 + timedelta(seconds=i), k) for i, k in enumerate(kinds)]
    series.write(points)
    got = series.read(check, kinds=("success", "fail"), newest_first=False)
    assert [p.kind for p in got] == ["success", "fail", "fail"]


def test_one_check_never_sees_another_checks_points(series: SeriesStore) -> None:
    mine, other = str(uuid.uuid4()), str(uuid.uuid4())
    series.write([a_point(mine, T0), a_point(other, T0), a_point(other, T0 + timedelta(1))])
    assert [p.check_uuid for p in series.read(mine)] == [mine]
    assert series.read(str(uuid.uuid4())) == []


def test_a_large_batch_is_written_whole(series: SeriesStore) -> None:
    check = str(uuid.uuid4())
    points = [a_point(check, T0 + timedelta(milliseconds=i)) for i in range(6000)]
    series.write(points)
    assert len(series.read(check, limit=10_000)) == 6000


def test_retention_leaves_recent_points_alone(series: SeriesStore) -> None:
    check = str(uuid.uuid4())
    now = datetime.now(UTC)
    recent = a_point(check, now - timedelta(days=399))
    series.write([recent])
    series.apply_retention(now)
    assert series.read(check) == [recent]


# --- adapter-specific ------------------------------------------------------------------


def test_the_sql_store_prunes_points_older_than_its_retention(engine: Engine) -> None:
    store = SqlSeriesStore(engine, timedelta(days=30))
    check = str(uuid.uuid4())
    now = datetime(2026, 6, 1, tzinfo=UTC)
    old, kept = a_point(check, now - timedelta(days=31)), a_point(check, now - timedelta(days=29))
    store.write([old, kept])
    assert store.apply_retention(now) == 1
    assert store.read(check) == [kept]


def test_influxdb_gets_a_default_retention_policy_of_the_configured_length(
    influxd: InfluxServer,
) -> None:
    store = influx_store(influxd.url, timedelta(days=400))
    try:
        store.write([a_point(str(uuid.uuid4()), T0)])
        # A restart with another setting changes the policy instead of failing.
        shorter = InfluxSeriesStore(influxd.url, store.database, timedelta(days=90))
        shorter.apply_retention(T0)
        shorter.close()
        answer = httpx.get(
            f"{influxd.url}/query",
            params={"q": f'SHOW RETENTION POLICIES ON "{store.database}"'},
        ).json()
        rows = answer["results"][0]["series"][0]["values"]
        policies = {r[0]: (r[1], r[4]) for r in rows}  # name: (duration, default)
        assert policies["srvpulse"] == ("2160h0m0s", True)
    finally:
        drop(store)


def test_influxdb_refusing_points_is_reported_as_refused_not_as_an_outage(
    influxd: InfluxServer,
) -> None:
    store = influx_store(influxd.url)
    check = str(uuid.uuid4())
    try:
        store.ensure_ready()
        # exit_status first written as a string: an integer later is a field type
        # conflict, which InfluxDB refuses with a 400 however often it is retried.
        raw = f'pings,check_id={check} exit_status="x",kind="fail" {T0.timestamp():.0f}'
        httpx.post(
            f"{store.url}/write", params={"db": store.database, "precision": "s"}, content=raw
        ).raise_for_status()
        with pytest.raises(SeriesRejected):
            store.write([a_point(check, T0 + timedelta(seconds=5), "fail", exit_status=1)])
    finally:
        drop(store)


def test_an_unreachable_influxdb_is_an_outage() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    store = InfluxSeriesStore(f"http://127.0.0.1:{port}", "srvpulse", RETENTION, timeout=1)
    with pytest.raises(SeriesUnavailable):
        store.write([a_point(str(uuid.uuid4()), T0)])
    with pytest.raises(SeriesUnavailable):
        store.read(str(uuid.uuid4()))


def test_our_line_protocol_is_the_same_as_influxdb_clients_point() -> None:
    awkward = 'quote " backslash \\ comma, equals= space  unicode ☃ ẞ'
    point = SeriesPoint(
        check_uuid="a b,c=d\\e",
        at=T0,
        kind="fail",
        exit_status=255,
        duration_ms=2**40,
        rid=str(uuid.uuid4()),
        summary=awkward,
        report_bytes=0,
        remote_addr="10.0.0.1",
    )
    oracle = (
        Point("pings")
        .tag("check_id", point.check_uuid)
        .field("kind", point.kind)
        .field("exit_status", point.exit_status)
        .field("duration_ms", point.duration_ms)
        .field("rid", point.rid)
        .field("summary", point.summary)
        .field("report_bytes", point.report_bytes)
        .field("remote_addr", point.remote_addr)
        .time(point.at, WritePrecision.US)
    )
    assert line(point) == oracle.to_line_protocol()
