"""GET /api/v3/checks/<key>/summary: the check page's one answer, through Chalice's test
client against app.app on SQLite and MariaDB: pings, flips, every delivery attempt per
channel, the channels' settings and the maintenance windows that apply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.domain.model import PingKind
from srvpulse.local.alert_worker import sns_event
from srvpulse.local.runner import load_handler
from srvpulse.services.analyzing import Analyzer

from tests.alerting_peers import Reply, http_peer
from tests.integration.conftest import Api, a_ping, deliver


def _window(rw: Api, name: str, check: str | None) -> dict[str, Any]:
    body: dict[str, object] = {
        "name": name,
        "starts_at": "2030-01-01T00:00:00+00:00",
        "ends_at": "2030-01-02T00:00:00+00:00",
    }
    if check:
        body["check"] = check
    status, window = rw.call("post", "/api/v3/maintenance", body)
    assert status == 201, window
    assert isinstance(window, dict)
    return window


def test_the_summary_holds_pings_flips_deliveries_channels_and_windows_of_the_check(
    rw: Api, bus: LocalAlertBus, analyzer: Analyzer
) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "nightly backup", "timeout": 3600})
    _, other = rw.call("post", "/api/v3/checks/", {"name": "other"})
    key = check["uuid"]
    alerters = load_handler("functions.alerters.handler")
    with http_peer([Reply(500), Reply(200)]) as hook:
        webhook = {"down": {"url": hook.url, "method": "POST", "body": "$NAME"}}
        _, channel = rw.call(
            "post", "/api/v3/channels", {"kind": "webhook", "name": "ops", "config": webhook}
        )
        _, unassigned = rw.call(
            "post", "/api/v3/channels", {"kind": "email", "config": {"to": "a@example.com"}}
        )
        status, _ = rw.call(
            "put",
            f"/api/v3/checks/{key}/channels/{channel['id']}",
            {"after_failures": 1, "reminder_every_minutes": 60, "reminder_max": 3},
        )
        assert status == 200
        started = datetime.now(UTC) - timedelta(seconds=20)
        deliver(
            a_ping(key, PingKind.START, at=started),
            a_ping(key, PingKind.FAIL, at=started + timedelta(seconds=12), body="disk full"),
        )
        analyzer.run_pass(datetime.now(UTC))
        for event in bus.published:
            alerters(sns_event(event), None)
    own = _window(rw, "db upgrade", key)
    everywhere = _window(rw, "network work", None)
    _window(rw, "not this one", other["uuid"])

    status, summary = rw.call("get", f"/api/v3/checks/{key}/summary")

    assert status == 200
    assert summary["check"]["uuid"] == key and summary["check"]["status"] == "down"
    assert [p["type"] for p in summary["pings"]] == ["fail", "start"]
    assert summary["pings"][0]["duration"] == 12
    assert summary["pings"][0]["body_url"].endswith(f"/api/v3/checks/{key}/pings/2/body")
    assert [(f["old_status"], f["status"], f["reason"]) for f in summary["flips"]] == [
        ("started", "down", "failed")
    ]
    (delivery,) = summary["notifications"]
    assert delivery["channel"] == channel["id"] and delivery["kind"] == "webhook"
    assert (delivery["status"], delivery["attempts"], delivery["check_status"]) == (
        "sent",
        2,
        "down",
    )
    (assigned,) = summary["channels"]
    assert assigned["channel"]["id"] == channel["id"] != unassigned["id"]
    assert (assigned["channel"]["name"], assigned["channel"]["kind"]) == ("ops", "webhook")
    assert (assigned["after_failures"], assigned["reminder_every_minutes"]) == (1, 60)
    assert (assigned["reminder_max"], assigned["notify_on_recovery"]) == (3, True)
    assert [w["uuid"] for w in summary["maintenance"]] == [own["uuid"], everywhere["uuid"]]


def test_each_part_of_the_summary_is_what_its_own_route_answers(rw: Api) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "job", "schedule": "0 3 * * *"})
    key = check["uuid"]
    deliver(a_ping(key), a_ping(key, PingKind.LOG, body="note"))
    _, summary = rw.call("get", f"/api/v3/checks/{key}/summary")
    assert summary["check"] == rw.call("get", f"/api/v3/checks/{key}")[1]
    assert summary["pings"] == rw.call("get", f"/api/v3/checks/{key}/pings/")[1]["pings"]
    flips = rw.call("get", f"/api/v3/checks/{key}/flips/")[1]
    assert summary["flips"] == flips["flips"]
    assert summary["notifications"] == []


def test_a_read_only_key_gets_the_summary_by_unique_key_without_channel_settings_leaking(
    rw: Api, ro: Api
) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "job"})
    _, channel = rw.call(
        "post", "/api/v3/channels", {"kind": "email", "config": {"to": "secret@example.com"}}
    )
    rw.call("put", f"/api/v3/checks/{check['uuid']}/channels/{channel['id']}", {})
    _, listed = ro.call("get", "/api/v3/checks/")
    unique_key = listed["checks"][0]["unique_key"]
    status, summary = ro.call("get", f"/api/v3/checks/{unique_key}/summary")
    assert status == 200
    assert "uuid" not in summary["check"]
    assert summary["channels"][0]["channel"] == {
        "id": channel["id"],
        "name": channel["name"],
        "kind": "email",
    }
    assert "secret@example.com" not in str(summary)


def test_the_summary_of_an_unknown_check_is_a_404_and_bad_limits_name_the_parameter(
    rw: Api,
) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "job"})
    status, body = rw.call("get", "/api/v3/checks/00000000-0000-4000-8000-000000000000/summary")
    assert (status, body["error"]) == (404, "check not found")
    status, body = rw.call("get", f"/api/v3/checks/{check['uuid']}/summary?flips=0")
    assert (status, body["field"]) == (400, "flips")
