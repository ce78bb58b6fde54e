"""Pattern detection through ingest and the API, on SQLite and MariaDB: pings delivered
through the real ingest handler, anomalies read and marked expected over HTTP."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from srvpulse.domain.model import PingKind

from tests.integration.conftest import Api, a_ping, deliver

FIRST = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 04:00 in Riga


def nightly_runs(check_uuid: str, days: range, seconds: float = 120.0) -> None:
    """One run a night (start + success with a rid), about ``seconds`` long."""
    r = random.Random(days.start)
    for day in days:
        start = FIRST + timedelta(days=day, seconds=r.uniform(0, 30))
        rid = f"00000000-0000-4000-8000-{day:012d}"
        took = timedelta(seconds=seconds * r.lognormvariate(0, 0.05))
        deliver(
            a_ping(check_uuid, PingKind.START, at=start, rid=rid),
            a_ping(check_uuid, at=start + took, rid=rid),
        )


def a_nightly_check(rw: Api, **fields: object) -> str:
    body = {"name": "backup", "schedule": "0 4 * * *", "tz": "Europe/Riga", "grace": 3600}
    status, check = rw.call("post", "/api/v3/checks/", {**body, **fields})
    assert status == 201
    assert (check["detection"], check["sensitivity"]) == (fields.get("detection", True), "normal")
    return str(check["uuid"])


def test_a_run_far_shorter_than_usual_is_listed_with_its_explanation_and_flips_nothing(
    rw: Api,
) -> None:
    key = a_nightly_check(rw)
    nightly_runs(key, range(20), seconds=20 * 60)
    start = FIRST + timedelta(days=20)
    rid = "00000000-0000-4000-8000-999999999999"
    deliver(
        a_ping(key, PingKind.START, at=start, rid=rid),
        a_ping(key, at=start + timedelta(seconds=3), rid=rid),
    )
    status, page = rw.call("get", f"/api/v3/checks/{key}/anomalies/")
    assert status == 200
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    (anomaly,) = page["anomalies"]
    assert anomaly["kind"] == "duration_short"
    assert anomaly["explanation"].startswith("finished in 3.0 s; usually 19 min")
    assert anomaly["run_started"].startswith("2026-03-22T02:00:00")
    assert anomaly["ping_n"] == 42
    assert anomaly["expected"] is False and anomaly["expected_at"] is None
    # Not a failure: no flip (the status shown now is about the clock, not this run).
    assert rw.call("get", f"/api/v3/checks/{key}/flips/") == (200, {"flips": []})


def test_marking_an_anomaly_expected_teaches_the_check_and_is_idempotent(rw: Api) -> None:
    key = a_nightly_check(rw)
    nightly_runs(key, range(20))
    late = FIRST + timedelta(days=20, hours=9)  # 13:00 in Riga instead of 04:00
    deliver(a_ping(key, PingKind.START, at=late), a_ping(key, at=late + timedelta(minutes=2)))
    _, page = rw.call("get", f"/api/v3/checks/{key}/anomalies/")
    (anomaly,) = page["anomalies"]
    assert anomaly["kind"] == "unusual_time"
    assert anomaly["explanation"].startswith("started at 13:00 (Sunday, Europe/Riga)")

    url = f"/api/v3/checks/{key}/anomalies/{anomaly['uuid']}/expected"
    status, marked = rw.call("post", url)
    assert status == 200
    assert marked["expected"] is True and marked["expected_at"] is not None
    assert rw.call("post", url) == (200, marked)

    nightly_runs(key, range(21, 23))
    again = FIRST + timedelta(days=23, hours=9)
    deliver(a_ping(key, PingKind.START, at=again), a_ping(key, at=again + timedelta(minutes=2)))
    _, page = rw.call("get", f"/api/v3/checks/{key}/anomalies/")
    assert page["total"] == 1


def test_detection_switched_off_records_nothing_and_the_settings_are_editable(rw: Api) -> None:
    key = a_nightly_check(rw, detection=False)
    nightly_runs(key, range(20))
    late = FIRST + timedelta(days=20, hours=9)
    deliver(a_ping(key, PingKind.START, at=late), a_ping(key, at=late + timedelta(minutes=2)))
    assert rw.call("get", f"/api/v3/checks/{key}/anomalies/")[1]["total"] == 0

    status, check = rw.call(
        "post", f"/api/v3/checks/{key}", {"detection": True, "sensitivity": "high"}
    )
    assert status == 200
    assert (check["detection"], check["sensitivity"]) == (True, "high")
    status, error = rw.call("post", f"/api/v3/checks/{key}", {"sensitivity": "paranoid"})
    assert status == 400 and error["field"] == "sensitivity"


def test_anomalies_are_paginated_newest_first_and_other_projects_get_404(rw: Api, ro: Api) -> None:
    key = a_nightly_check(rw)
    nightly_runs(key, range(20))
    for day, hour in ((20, 9), (22, 14), (24, 19)):  # three new times of day
        at = FIRST + timedelta(days=day, hours=hour)
        deliver(a_ping(key, PingKind.START, at=at), a_ping(key, at=at + timedelta(minutes=2)))
        nightly_runs(key, range(day + 1, day + 2))
    _, everything = rw.call("get", f"/api/v3/checks/{key}/anomalies/?limit=100")
    _, first = rw.call("get", f"/api/v3/checks/{key}/anomalies/?limit=2")
    _, second = rw.call("get", f"/api/v3/checks/{key}/anomalies/?limit=2&offset=2")
    assert everything["total"] == first["total"] == len(everything["anomalies"]) >= 3
    assert first["anomalies"] + second["anomalies"] == everything["anomalies"][:4]
    times = [a["detected_at"] for a in everything["anomalies"]]
    assert times == sorted(times, reverse=True)
    kinds = {a["kind"] for a in everything["anomalies"]}
    assert "unusual_time" in kinds
    status, error = rw.call("get", f"/api/v3/checks/{key}/anomalies/?limit=0")
    assert status == 400 and error["field"] == "limit"
    unknown = "6f1b7c2e-0000-4000-8000-000000000000"
    assert rw.call("get", f"/api/v3/checks/{unknown}/anomalies/")[0] == 404
    bad = f"/api/v3/checks/{key}/anomalies/{unknown}/expected"
    assert rw.call("post", bad)[0] == 404
    assert ro.call("post", f"/api/v3/checks/{key}/anomalies/{unknown}/expected")[0] == 401
