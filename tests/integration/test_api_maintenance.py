"""/api/v3/maintenance and the analyzer seen through the API (flips with their reason,
status fields), via Chalice's test client on SQLite and MariaDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client
from srvpulse.bootstrap import Runtime
from srvpulse.domain.model import PingKind
from srvpulse.services.projects import DefaultProject

from tests.integration.conftest import RW_KEY, Api, a_ping
from tests.integration.conftest import deliver as deliver_pings


@pytest.fixture
def api(client: Client) -> Any:
    def call(method: str, path: str, body: Any = None, key: str = RW_KEY) -> Any:
        return Api(client, key).call(method, path, body)

    return call


def deliver(check_uuid: str, kind: PingKind, at: datetime) -> None:
    deliver_pings(a_ping(check_uuid, kind, at=at))


def test_a_one_off_and_a_recurring_window_are_created_listed_and_deleted(api: Any) -> None:
    _, check = api("post", "/api/v3/checks/", {"name": "db-backup"})
    start = datetime.now(UTC) - timedelta(minutes=5)
    status, once = api(
        "post",
        "/api/v3/maintenance",
        {
            "name": "db upgrade",
            "check": check["uuid"],
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert status == 201
    assert (once["kind"], once["check"], once["open"]) == ("once", check["uuid"], True)
    assert abs(datetime.fromisoformat(once["starts_at"]) - start) < timedelta(seconds=1)
    assert datetime.fromisoformat(once["open_until"]).tzinfo == UTC
    status, weekly = api(
        "post",
        "/api/v3/maintenance",
        {"name": "patching", "schedule": "0 2 * * 6", "duration": 7200, "tz": "Europe/Riga"},
    )
    assert status == 201
    assert (weekly["kind"], weekly["check"], weekly["duration"]) == ("recurring", None, 7200)
    _, listing = api("get", "/api/v3/maintenance")
    assert [w["uuid"] for w in listing["windows"]] == [once["uuid"], weekly["uuid"]]
    assert api("get", f"/api/v3/maintenance/{weekly['uuid']}") == (200, weekly)
    assert api("delete", f"/api/v3/maintenance/{once['uuid']}")[0] == 200
    assert api("get", f"/api/v3/maintenance/{once['uuid']}")[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"schedule": "0 2 * *", "duration": 3600}, "schedule"),
        ({"schedule": "0 2 * * *", "duration": 10}, "duration"),
        ({"schedule": "0 2 * * *", "duration": 3600, "tz": "Mars/Olympus"}, "tz"),
        ({"starts_at": "2026-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "yesterday", "ends_at": "2026-01-01T00:00:00Z"}, "starts_at"),
        ({"check": "no-such-check", "schedule": "0 2 * * *", "duration": 3600}, "check"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_window_is_a_400_naming_the_field(api: Any, body: dict[str, Any], field: str) -> None:
    status, error = api("post", "/api/v3/maintenance", body)
    assert status == 400
    assert error["field"] == field


def test_a_read_only_key_cannot_create_windows(api: Any, project: DefaultProject) -> None:
    body = {"schedule": "0 2 * * *", "duration": 3600}
    assert api("post", "/api/v3/maintenance", body, key=project.read_only_key)[0] == 401
    assert api("get", "/api/v3/maintenance", key=project.read_only_key)[0] == 200


def test_a_check_made_through_the_api_goes_grace_then_down_and_shows_its_flips(
    api: Any, runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    _, late = api("post", "/api/v3/checks/", {"name": "late", "timeout": 60, "grace": 60})
    _, failing = api("post", "/api/v3/checks/", {"name": "failing", "timeout": 3600, "grace": 60})
    deliver(late["uuid"], PingKind.SUCCESS, now - timedelta(seconds=90))  # expected 30 s ago
    _, shown = api("get", f"/api/v3/checks/{late['uuid']}")
    assert shown["status"] == "grace"

    runtime.analyzer.run_pass(now + timedelta(seconds=31))  # the grace time is over
    _, shown = api("get", f"/api/v3/checks/{late['uuid']}")
    assert shown["status"] == "down"
    flips = api("get", f"/api/v3/checks/{late['uuid']}/flips/")[1]["flips"]
    assert [(f["old_status"], f["status"], f["reason"]) for f in flips] == [("up", "down", "late")]

    deliver(failing["uuid"], PingKind.SUCCESS, now - timedelta(seconds=10))
    deliver(failing["uuid"], PingKind.FAIL, now - timedelta(seconds=5))
    deliver(failing["uuid"], PingKind.SUCCESS, now)
    flips = api("get", f"/api/v3/checks/{failing['uuid']}/flips/")[1]["flips"]
    assert sorted((f["status"], f["reason"]) for f in flips) == [
        ("down", "failed"),
        ("up", "recovered"),
    ]
