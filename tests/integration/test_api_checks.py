"""/api/v3/checks through Chalice's test client against app.app, on SQLite and MariaDB."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from sqlalchemy import Engine, insert
from srvpulse.adapters.sql.tables import channels
from srvpulse.bootstrap import Runtime
from srvpulse.domain.accounts import Project
from srvpulse.domain.model import PingKind
from srvpulse.services.projects import DefaultProject

from tests.integration.conftest import RW_KEY, Api, a_ping, deliver


def test_a_created_check_is_listed_with_the_healthchecks_fields(rw: Api) -> None:
    status, check = rw.call(
        "post",
        "/api/v3/checks/",
        {"name": "Backups", "slug": "backups", "tags": "prod  db", "timeout": 3600, "grace": 60},
    )
    assert status == 201
    assert check["name"] == "Backups"
    assert check["slug"] == "backups"
    assert check["tags"] == "prod db"
    assert (check["timeout"], check["grace"]) == (3600, 60)
    assert check["status"] == "new"
    assert check["n_pings"] == 0
    assert check["last_ping"] is None and check["next_ping"] is None
    assert check["started"] is False
    assert check["ping_url"] == "https://srvp.test/ping/" + check["uuid"]
    assert check["update_url"] == "https://srvpulse.test/api/v3/checks/" + check["uuid"]
    assert check["pause_url"].endswith("/pause") and check["resume_url"].endswith("/resume")
    assert check["channels"] == ""
    assert "unique_key" not in check
    status, listing = rw.call("get", "/api/v3/checks/")
    assert status == 200
    assert listing == {"checks": [check]}


def test_a_cron_check_shows_its_schedule_and_time_zone_instead_of_a_timeout(rw: Api) -> None:
    status, check = rw.call(
        "post", "/api/v3/checks/", {"name": "n", "schedule": "30 2 * * *", "tz": "Europe/Riga"}
    )
    assert status == 201
    assert (check["schedule"], check["tz"]) == ("30 2 * * *", "Europe/Riga")
    assert "timeout" not in check


def test_the_list_filters_by_tags_and_slug_and_pages(rw: Api) -> None:
    rw.call("post", "/api/v3/checks/", {"name": "a", "slug": "a", "tags": "prod db"})
    rw.call("post", "/api/v3/checks/", {"name": "b", "slug": "b", "tags": "prod"})
    rw.call("post", "/api/v3/checks/", {"name": "c", "slug": "c", "tags": "production"})

    def names(query: str) -> list[str]:
        status, body = rw.call("get", "/api/v3/checks/" + query)
        assert status == 200
        return [c["name"] for c in body["checks"]]

    assert names("?tag=prod") == ["a", "b"]
    assert names("?tag=prod&tag=db") == ["a"]
    assert names("?slug=c") == ["c"]
    assert names("?limit=2") == ["a", "b"]
    assert names("?limit=2&offset=2") == ["c"]


def test_pings_move_the_check_and_show_in_its_pings_and_bodies(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "job"})
    start = datetime.now(UTC) - timedelta(seconds=30)
    rid = str(uuid.uuid4())
    deliver(
        a_ping(check["uuid"], PingKind.START, at=start, rid=rid),
        a_ping(
            check["uuid"],
            at=start + timedelta(seconds=12),
            rid=rid,
            body="42 rows copied",
            summary="ok",
            method="POST",
            user_agent="curl/8.5",
            remote_addr="203.0.113.9",
            scheme="https",
        ),
    )
    status, after = rw.call("get", f"/api/v3/checks/{check['uuid']}")
    assert status == 200
    assert (after["status"], after["n_pings"], after["last_duration"]) == ("up", 2, 12)
    assert after["next_ping"] is not None
    status, body = rw.call("get", f"/api/v3/checks/{check['uuid']}/pings/")
    assert status == 200
    newest, oldest = body["pings"]
    assert (newest["type"], newest["n"], oldest["type"], oldest["n"]) == ("success", 2, "start", 1)
    assert newest["duration"] == 12.0
    assert (newest["method"], newest["ua"], newest["remote_addr"]) == (
        "POST",
        "curl/8.5",
        "203.0.113.9",
    )
    assert (newest["rid"], newest["summary"], newest["scheme"]) == (rid, "ok", "https")
    assert oldest["body_url"] is None
    assert newest["body_url"].endswith(f"/api/v3/checks/{check['uuid']}/pings/2/body")
    status, text = rw.call("get", f"/api/v3/checks/{check['uuid']}/pings/2/body")
    assert (status, text) == (200, "42 rows copied")
    status, err = rw.call("get", f"/api/v3/checks/{check['uuid']}/pings/1/body")
    assert status == 404 and "error" in err


def test_a_fail_ping_shows_as_down_with_a_flip(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "job"})
    now = datetime.now(UTC)
    deliver(a_ping(check["uuid"], at=now - timedelta(seconds=5)))
    deliver(a_ping(check["uuid"], PingKind.FAIL, at=now))
    _, after = rw.call("get", f"/api/v3/checks/{check['uuid']}")
    assert after["status"] == "down"
    status, body = rw.call("get", f"/api/v3/checks/{check['uuid']}/flips/")
    assert status == 200
    flips = body["flips"]
    newest = flips[0]
    assert (newest["up"], newest["status"], newest["reason"]) == (0, "down", "failed")
    _, recent = rw.call("get", f"/api/v3/checks/{check['uuid']}/flips/?seconds=3600")
    assert len(recent["flips"]) == len(flips)
    future = int((now + timedelta(days=1)).timestamp())
    _, none = rw.call("get", f"/api/v3/checks/{check['uuid']}/flips/?start={future}")
    assert none == {"flips": []}


def test_an_update_changes_only_the_given_fields(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "a", "tags": "x", "timeout": 600})
    status, updated = rw.call(
        "post", f"/api/v3/checks/{check['uuid']}", {"desc": "nightly", "max_duration": 300}
    )
    assert status == 200
    assert (updated["name"], updated["tags"], updated["timeout"]) == ("a", "x", 600)
    assert (updated["desc"], updated["max_duration"]) == ("nightly", 300)
    status, cron = rw.call("post", f"/api/v3/checks/{check['uuid']}", {"schedule": "0 * * * *"})
    assert (status, cron["schedule"], cron["tz"]) == (200, "0 * * * *", "UTC")


def test_check_rule_settings_round_trip_and_are_off_until_set(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "report"})
    assert (check["min_duration"], check["max_duration"], check["min_interval"]) == (
        None,
        None,
        None,
    )
    key = check["uuid"]
    status, on = rw.call("post", f"/api/v3/checks/{key}", {"min_interval": 600})
    assert (status, on["min_interval"]) == (200, 600)
    _, again = rw.call("get", f"/api/v3/checks/{key}")
    assert again["min_interval"] == 600 and again["max_duration"] is None
    _, both = rw.call("post", f"/api/v3/checks/{key}", {"max_duration": 60})
    assert (both["min_interval"], both["max_duration"]) == (600, 60)  # the other one stays
    _, off = rw.call("post", f"/api/v3/checks/{key}", {"min_interval": None})
    assert (off["min_interval"], off["max_duration"]) == (None, 60)
    status, err = rw.call("post", f"/api/v3/checks/{key}", {"min_interval": 0})
    assert (status, err["field"]) == (400, "min_interval")
    status, err = rw.call("post", f"/api/v3/checks/{key}", {"min_duration": 61})
    assert (status, err["field"]) == (400, "min_duration")  # above max_duration


def test_a_check_that_runs_too_often_goes_down_and_its_flip_says_so(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "report", "min_interval": 3600})
    now = datetime.now(UTC)
    deliver(a_ping(check["uuid"], at=now - timedelta(minutes=10)))
    deliver(a_ping(check["uuid"], at=now - timedelta(minutes=5)))
    _, shown = rw.call("get", f"/api/v3/checks/{check['uuid']}")
    assert shown["status"] == "down"
    _, flips = rw.call("get", f"/api/v3/checks/{check['uuid']}/flips/")
    assert [(f["status"], f["reason"]) for f in flips["flips"]] == [("down", "too often")]


def test_the_rule_catalog_lists_every_rule_with_its_settings_and_reasons(rw: Api) -> None:
    status, catalog = rw.call("get", "/api/v3/check-rules")
    assert status == 200
    rules = {r["name"]: r for r in catalog["rules"]}
    assert [s["name"] for s in rules["durations"]["settings"]] == ["max_duration", "min_duration"]
    (interval,) = rules["too_often"]["settings"]
    assert interval["name"] == "min_interval" and interval["unit"] == "seconds"
    assert (interval["default"], interval["optional"], interval["minimum"]) == (None, True, 1)
    assert interval["title"] == "Shortest time between runs" and interval["label"]
    assert [r["reason"] for r in rules["too_often"]["reasons"]] == ["too often"]


def test_pause_and_resume(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "a"})
    deliver(a_ping(check["uuid"]))
    status, paused = rw.call("post", f"/api/v3/checks/{check['uuid']}/pause")
    assert (status, paused["status"]) == (200, "paused")
    status, resumed = rw.call("post", f"/api/v3/checks/{check['uuid']}/resume")
    assert (status, resumed["status"], resumed["last_ping"]) == (200, "new", None)
    status, err = rw.call("post", f"/api/v3/checks/{check['uuid']}/resume")
    assert status == 409 and err["error"]
    flips = rw.call("get", f"/api/v3/checks/{check['uuid']}/flips/")[1]["flips"]
    assert [f["status"] for f in flips][:2] == ["new", "paused"]


def test_delete_returns_the_deleted_check_and_then_it_is_gone(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "gone"})
    deliver(a_ping(check["uuid"], body="report"))
    status, deleted = rw.call("delete", f"/api/v3/checks/{check['uuid']}")
    assert (status, deleted["name"], deleted["n_pings"]) == (200, "gone", 1)
    status, err = rw.call("get", f"/api/v3/checks/{check['uuid']}")
    assert status == 404 and err == {"error": "check not found"}
    status, _ = rw.call("delete", f"/api/v3/checks/{check['uuid']}")
    assert status == 404


def test_unique_creates_once_then_returns_the_existing_check(rw: Api) -> None:
    body = {"name": "db-backup", "timeout": 3600, "unique": ["name"]}
    first_status, first = rw.call("post", "/api/v3/checks/", body)
    again_status, again = rw.call("post", "/api/v3/checks/", {**body, "grace": 120})
    assert (first_status, again_status) == (201, 200)
    assert again["uuid"] == first["uuid"]
    assert again["grace"] == 120
    _, listing = rw.call("get", "/api/v3/checks/")
    assert len(listing["checks"]) == 1


def test_channels_are_assigned_by_uuid_or_all(
    rw: Api, project: DefaultProject, engine: Engine
) -> None:
    ids = [str(uuid.uuid4()), str(uuid.uuid4())]
    with engine.begin() as conn:
        for cid in ids:
            conn.execute(
                insert(channels).values(
                    uuid=cid,
                    project_id=project.project_id,
                    kind="email",
                    name="",
                    config="{}",
                    created=datetime.now(UTC),
                )
            )
    _, one = rw.call("post", "/api/v3/checks/", {"name": "a", "channels": ids[0]})
    assert one["channels"] == ids[0]
    _, every = rw.call("post", f"/api/v3/checks/{one['uuid']}", {"channels": "*"})
    assert every["channels"] == ",".join(sorted(ids))
    _, none = rw.call("post", f"/api/v3/checks/{one['uuid']}", {"channels": ""})
    assert none["channels"] == ""
    status, err = rw.call("post", "/api/v3/checks/", {"name": "b", "channels": "nope"})
    assert (status, err["field"]) == (400, "channels")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timeout": 5}, "timeout"),
        ({"timeout": "3600"}, "timeout"),
        ({"grace": -1}, "grace"),
        ({"schedule": "61 * * * *"}, "schedule"),
        ({"schedule": "* * *"}, "schedule"),
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"methods": "PUT"}, "methods"),
        ({"slug": "no spaces"}, "slug"),
        ({"manual_resume": "yes"}, "manual_resume"),
        ({"min_duration": 100, "max_duration": 10}, "min_duration"),
        ({"min_interval": "600"}, "min_interval"),
        ({"max_duration": 366 * 86400}, "max_duration"),
        ({"unique": ["desc"]}, "unique.0"),
        ({"name": None}, "name"),
    ],
)
def test_bad_fields_are_400s_that_name_the_field(rw: Api, body: dict[str, Any], field: str) -> None:
    status, err = rw.call("post", "/api/v3/checks/", body)
    assert status == 400
    assert err["field"] == field
    assert err["error"]


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"', "\xff"])
def test_a_malformed_body_is_a_400(rw: Api, raw: str) -> None:
    status, err = rw.call("post", "/api/v3/checks/", raw=raw)
    assert status == 400 and err["error"]


def test_a_json_body_sent_as_a_form_is_still_accepted(client: Client) -> None:
    resp = client.http.post(
        "/api/v3/checks/",
        headers={"X-Api-Key": RW_KEY, "Content-Type": "application/x-www-form-urlencoded"},
        body=json.dumps({"name": "from curl -d"}),
    )
    assert resp.status_code == 201


def test_missing_or_wrong_keys_are_401(client: Client) -> None:
    for headers in ({}, {"X-Api-Key": "wrong"}):
        resp = client.http.get("/api/v3/checks/", headers=headers)
        assert resp.status_code == 401
        assert "api key" in json.loads(resp.body)["error"]


def test_a_read_only_key_reads_with_unique_keys_but_cannot_change(rw: Api, ro: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "secret job"})
    deliver(a_ping(check["uuid"], body="out"))
    status, listing = ro.call("get", "/api/v3/checks/")
    assert status == 200
    [seen] = listing["checks"]
    assert "uuid" not in seen and "ping_url" not in seen and "update_url" not in seen
    key = seen["unique_key"]
    assert ro.call("get", f"/api/v3/checks/{key}")[1]["name"] == "secret job"
    status, pings = ro.call("get", f"/api/v3/checks/{key}/pings/")
    assert status == 200 and check["uuid"] not in json.dumps(pings)
    assert ro.call("get", f"/api/v3/checks/{key}/flips/")[0] == 200
    for method, path, body in [
        ("post", "/api/v3/checks/", {"name": "x"}),
        ("post", f"/api/v3/checks/{check['uuid']}", {"name": "x"}),
        ("post", f"/api/v3/checks/{check['uuid']}/pause", None),
        ("post", f"/api/v3/checks/{check['uuid']}/resume", None),
        ("delete", f"/api/v3/checks/{check['uuid']}", None),
    ]:
        status, err = ro.call(method, path, body)
        assert status == 401, (method, path)
        assert "read-only" in err["error"]


def test_unknown_checks_and_pings_are_404s(rw: Api) -> None:
    missing = str(uuid.uuid4())
    for method, path in [
        ("get", f"/api/v3/checks/{missing}"),
        ("post", f"/api/v3/checks/{missing}"),
        ("post", f"/api/v3/checks/{missing}/pause"),
        ("get", f"/api/v3/checks/{missing}/pings/"),
        ("get", f"/api/v3/checks/{missing}/flips/"),
        ("get", "/api/v3/checks/not-a-uuid"),
    ]:
        status, err = rw.call(method, path, {} if method == "post" else None)
        assert status == 404, (method, path)
        assert err["error"]
    _, check = rw.call("post", "/api/v3/checks/", {"name": "a"})
    assert rw.call("get", f"/api/v3/checks/{check['uuid']}/pings/7/body")[0] == 404


@pytest.mark.parametrize("query", ["?limit=0", "?limit=x", "?offset=-1", "?limit=100000"])
def test_bad_list_parameters_are_400s(rw: Api, query: str) -> None:
    status, err = rw.call("get", "/api/v3/checks/" + query)
    assert status == 400 and err["field"] in ("limit", "offset")


def test_bad_flip_and_ping_parameters_are_400s(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "a"})
    base = f"/api/v3/checks/{check['uuid']}"
    assert rw.call("get", base + "/flips/?start=yesterday")[1]["field"] == "start"
    assert rw.call("get", base + "/flips/?seconds=-1")[1]["field"] == "seconds"
    assert rw.call("get", base + "/pings/x/body")[1]["field"] == "n"
    assert rw.call("get", base + "/pings/?limit=-3")[1]["field"] == "limit"


def test_a_check_of_another_project_is_not_found(rw: Api, runtime: Runtime, client: Client) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "mine"})
    now = datetime.now(UTC)
    other_key = "other-project-key-0123456789"
    from srvpulse.services.tokens import digest

    projects = runtime.account_stores.projects
    other_project = Project(0, str(uuid.uuid4()), "other", "other-ping-key", now)
    pid = projects.create_project(other_project, None, now).id
    projects.create_api_key(pid, "k", False, digest(other_key), other_key[:8], now)
    other = Api(client, other_key)
    assert other.call("get", f"/api/v3/checks/{check['uuid']}")[0] == 404
    assert other.call("delete", f"/api/v3/checks/{check['uuid']}")[0] == 404
    assert other.call("get", "/api/v3/checks/")[1] == {"checks": []}


def test_a_wrong_method_or_content_type_gets_the_same_json_error_shape(rw: Api) -> None:
    r = rw.client.http.request("PATCH", "/api/v3/checks", headers={"X-Api-Key": RW_KEY})
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"
    assert json.loads(r.body) == {"error": "Unsupported method: PATCH"}
    r = rw.client.http.post("/api/v3/auth/signin", headers={"Content-Type": "text/plain"}, body="x")
    assert r.status_code == 415 and r.headers["Content-Type"] == "application/json"
    assert json.loads(r.body) == {"error": "Unsupported media type: text/plain"}


def test_a_check_can_be_created_with_a_given_uuid_once_and_only_on_create(rw: Api) -> None:
    given = "0b7e3a52-9d1c-4f5e-8a2b-1c3d5e7f9a01"
    status, check = rw.call("post", "/api/v3/checks/", {"name": "moved", "uuid": given.upper()})
    assert status == 201 and check["uuid"] == given
    status, again = rw.call("post", "/api/v3/checks/", {"name": "twice", "uuid": given})
    assert status == 409 and "uuid" in again["error"]
    status, bad = rw.call("post", "/api/v3/checks/", {"name": "bad", "uuid": "not-a-uuid"})
    assert (status, bad["field"]) == (400, "uuid")
    status, edit = rw.call("post", f"/api/v3/checks/{given}", {"uuid": str(uuid.uuid4())})
    assert (status, edit["field"]) == (400, "uuid")
    status, listing = rw.call("get", "/api/v3/checks/")
    assert [c["name"] for c in listing["checks"]] == ["moved"]
