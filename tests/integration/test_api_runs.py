"""GET /api/v3/checks/<uuid>/runs: a check's whole run history from the series store,
through the real ingest handler and the Chalice app (SQLite and MariaDB)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from chalice.test import Client
from sqlalchemy import Engine
from srvpulse import bootstrap
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import PingKind
from srvpulse.services.projects import ensure_default_project
from srvpulse.services.series import point_for

import app as app_module
from tests.conftest import make_runtime
from tests.integration.conftest import RW_KEY, Api, a_ping, deliver

T0 = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)


def new_check(rw: Api) -> str:
    status, body = rw.call("post", "/api/v3/checks/", {"name": "backup", "timeout": 3600})
    assert status == 201
    return str(body["uuid"])


def runs(rw: Api, check: str, **query: Any) -> dict[str, Any]:
    qs = "&".join(f"{k}={quote(str(v))}" for k, v in query.items())
    status, body = rw.call("get", f"/api/v3/checks/{check}/runs?{qs}")
    assert status == 200, body
    return dict(body)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_runs_show_start_end_duration_outcome_and_unfinished_runs(rw: Api) -> None:
    check = new_check(rw)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    deliver(
        a_ping(check, PingKind.START, at=at(0)),
        a_ping(check, PingKind.SUCCESS, at=at(1.5), exit_status=0, summary="12 GB"),
        a_ping(check, PingKind.START, at=at(10), rid=a),
        a_ping(check, PingKind.START, at=at(11), rid=b),
        a_ping(check, PingKind.FAIL, at=at(12), rid=b, exit_status=3),
        a_ping(check, PingKind.SUCCESS, at=at(14), rid=a),
        a_ping(check, PingKind.LOG, at=at(15)),
        a_ping(check, PingKind.START, at=at(20)),  # never finished
        a_ping(check, PingKind.START, at=at(30)),
        a_ping(check, PingKind.SUCCESS, at=at(31)),
        a_ping(check, PingKind.SUCCESS, at=at(40)),  # no start
    )
    page = runs(rw, check)
    got = [
        (r["outcome"], r["started_at"], r["ended_at"], r["duration"], r["exit_status"], r["rid"])
        for r in page["runs"]
    ]

    def iso(minutes: float) -> str:
        return at(minutes).isoformat()

    assert got == [
        ("success", None, iso(40), None, None, None),
        ("success", iso(30), iso(31), 60.0, None, None),
        ("started", iso(20), None, None, None, None),
        ("success", iso(10), iso(14), 240.0, None, a),
        ("fail", iso(11), iso(12), 60.0, 3, b),
        ("success", iso(0), iso(1.5), 90.0, 0, None),
    ]
    assert page["runs"][-1]["summary"] == "12 GB"
    assert page["next_before"] is None
    assert page["complete_until"] is None


def test_runs_page_through_the_whole_history_beyond_the_last_100_pings(rw: Api) -> None:
    check = new_check(rw)
    pings = []
    for i in range(130):
        pings += [
            a_ping(check, PingKind.START, at=at(i * 10)),
            a_ping(check, PingKind.SUCCESS, at=at(i * 10 + 2)),
        ]
    for i in range(0, len(pings), 50):
        deliver(*pings[i : i + 50])
    status, kept = rw.call("get", f"/api/v3/checks/{check}/pings/")
    assert status == 200 and len(kept["pings"]) == 100

    seen: list[dict[str, Any]] = []
    before: str | None = None
    pages = 0
    while True:
        query: dict[str, Any] = {"limit": 7}
        if before:
            query["before"] = before
        page = runs(rw, check, **query)
        assert len(page["runs"]) <= 7
        seen += page["runs"]
        pages += 1
        before = page["next_before"]
        if before is None:
            break
    assert pages > 30
    assert [r["outcome"] for r in seen] == ["success"] * 130  # no start left dangling
    assert [r["ended_at"] for r in seen] == [
        at(i * 10 + 2).isoformat() for i in reversed(range(130))
    ]
    assert {r["duration"] for r in seen} == {120.0}


def test_since_and_until_bound_the_runs(rw: Api) -> None:
    check = new_check(rw)
    deliver(*[a_ping(check, PingKind.SUCCESS, at=at(i)) for i in range(10)])
    page = runs(rw, check, since=at(3).isoformat(), until=int(at(6).timestamp()))
    assert [r["ended_at"] for r in page["runs"]] == [at(m).isoformat() for m in (5, 4, 3)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-01-01T00:00:00", "since"),  # no time zone
        ("until=yesterday", "until"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("before=1e99", "before"),
    ],
)
def test_malformed_run_queries_are_400_naming_the_parameter(
    rw: Api, query: str, field: str
) -> None:
    check = new_check(rw)
    status, body = rw.call("get", f"/api/v3/checks/{check}/runs?{query}")
    assert status == 400
    assert body["field"] == field


def test_runs_of_an_unknown_or_foreign_check_are_404(rw: Api) -> None:
    status, body = rw.call("get", f"/api/v3/checks/{uuid.uuid4()}/runs")
    assert (status, body["error"]) == (404, "check not found")


def test_runs_need_an_api_key_and_a_read_only_key_may_read_them(rw: Api, ro: Api) -> None:
    check = new_check(rw)
    deliver(a_ping(check, PingKind.SUCCESS, at=at(0)))
    status, _ = Api(rw.client, None).call("get", f"/api/v3/checks/{check}/runs")
    assert status == 401
    status, body = ro.call("get", "/api/v3/checks/")
    unique_key = body["checks"][0]["unique_key"]
    status, body = ro.call("get", f"/api/v3/checks/{unique_key}/runs")
    assert status == 200 and len(body["runs"]) == 1


def test_points_still_on_their_way_show_as_complete_until(rw: Api, runtime: Runtime) -> None:
    check = new_check(rw)
    deliver(a_ping(check, PingKind.SUCCESS, at=at(0)))
    waiting = a_ping(check, PingKind.SUCCESS, at=at(5))
    with runtime.check_store.transaction() as tx:  # as an ingest that has not shipped yet
        tx.add_series_points([(waiting.ping_id, point_for(waiting, check, "success", None))])
    page = runs(rw, check)
    assert len(page["runs"]) == 1
    assert page["complete_until"] == at(5).isoformat()


@pytest.fixture
def unreachable_influx(engine: Engine, tmp_path: Path) -> Iterator[Runtime]:
    """The API and ingest configured with an InfluxDB that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rt = make_runtime(engine, data_dir=tmp_path, influx_url=f"http://127.0.0.1:{port}")
    bootstrap.install(rt)
    yield rt
    bootstrap.install(None)


def test_with_the_series_store_down_runs_are_503_and_everything_else_works(
    unreachable_influx: Runtime,
) -> None:
    ensure_default_project(unreachable_influx.account_stores.projects, datetime.now(UTC), RW_KEY)
    with Client(app_module.app) as client:
        rw = Api(client, RW_KEY)
        check = new_check(rw)
        first = a_ping(check, PingKind.FAIL, at=at(0))
        deliver(first, a_ping(check, PingKind.FAIL, at=at(1)))
        status, body = rw.call("get", f"/api/v3/checks/{check}")
        assert (status, body["status"], body["n_pings"]) == (200, "down", 2)
        status, body = rw.call("get", f"/api/v3/checks/{check}/pings/")
        assert status == 200 and len(body["pings"]) == 2
        resp = client.http.get(f"/api/v3/checks/{check}/runs", headers={"X-Api-Key": RW_KEY})
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "5"
        assert b"run history is unavailable" in resp.body
        assert unreachable_influx.series_outbox.oldest() == first.received_at
