"""Routes the dashboard leans on: the schedule preview of the check form and the
checks list's ETag, which lets the list poll every 2 s for the price of a 304."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from chalice.test import Client

from tests.integration.conftest import RW_KEY, Api, a_ping, deliver


def test_the_schedule_preview_lists_the_next_runs_in_the_checks_time_zone(rw: Api) -> None:
    status, body = rw.call("get", "/api/v3/schedule-preview?schedule=30+2+*+*+*&tz=Europe/Riga&n=3")
    assert status == 200
    runs = [datetime.fromisoformat(r) for r in body["runs"]]
    assert len(runs) == 3
    assert runs == sorted(runs) and runs[0] > datetime.now(UTC)
    # 02:30 in Riga is 00:30 UTC in winter, 23:30 UTC the day before in summer.
    assert all(r.minute == 30 and r.hour in (0, 23) for r in runs)
    assert all(b - a == timedelta(days=1) for a, b in pairwise(runs))


def test_the_schedule_preview_names_the_bad_field_as_create_does(rw: Api) -> None:
    status, body = rw.call("get", "/api/v3/schedule-preview?schedule=61+*+*+*+*&tz=UTC")
    assert status == 400
    assert body["field"] == "schedule" and "minute" in body["error"]
    status, body = rw.call("get", "/api/v3/schedule-preview?schedule=0+3+*+*+*&tz=Mars/Olympus")
    assert (status, body["field"]) == (400, "tz")
    status, body = rw.call("get", "/api/v3/schedule-preview?schedule=0+3+*+*+*&n=500")
    assert (status, body["field"]) == (400, "n")


def test_the_schedule_preview_needs_a_credential(client: Client) -> None:
    status, _ = Api(client, None).call("get", "/api/v3/schedule-preview?schedule=0+3+*+*+*")
    assert status == 401


def _list(client: Client, etag: str | None = None) -> tuple[int, str, str]:
    headers = {"X-Api-Key": RW_KEY}
    if etag:
        headers["If-None-Match"] = etag
    resp = client.http.get("/api/v3/checks/", headers=headers)
    return resp.status_code, resp.headers.get("ETag", ""), resp.body.decode()


def test_an_unchanged_checks_list_answers_304_to_its_etag_and_a_ping_changes_it(
    client: Client, rw: Api
) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "backup", "timeout": 3600})
    status, etag, body = _list(client)
    assert status == 200 and etag and check["uuid"] in body
    status, again, body = _list(client, etag)
    assert (status, again, body) == (304, etag, "")
    deliver(a_ping(check["uuid"]))
    status, changed, body = _list(client, etag)
    assert status == 200 and changed != etag and '"status":"up"' in body
