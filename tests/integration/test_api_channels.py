"""/api/v3/channels and channel assignment through Chalice's test client against
app.app, on SQLite and MariaDB, sending test notifications to real local receivers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from sqlalchemy import Engine
from srvpulse import bootstrap

from tests.alerting_peers import Reply, http_peer, smtp_peer
from tests.conftest import make_runtime
from tests.integration.conftest import RW_KEY, Api


@pytest.fixture
def api(client: Client) -> Api:
    return Api(client, RW_KEY)


def _create_check(api: Api) -> str:
    status, body = api.call("post", "/api/v3/checks", {"name": "nightly-backup"})
    assert status == 201, body
    return str(body["uuid"]) if "uuid" in body else str(body["ping_url"]).rsplit("/", 1)[-1]


def test_channels_are_created_listed_in_healthchecks_shape_and_secrets_stay_hidden(
    api: Api,
) -> None:
    status, made = api.call(
        "post",
        "/api/v3/channels",
        {
            "kind": "slack",
            "name": "ops",
            "config": {"url": "https://hooks.slack.com/services/T/B/SECRET123"},
        },
    )
    assert status == 201, made
    status, listed = api.call("get", "/api/v3/channels")
    assert status == 200
    (channel,) = listed["channels"]
    assert {k: channel[k] for k in ("id", "name", "kind")} == {
        "id": made["id"],
        "name": "ops",
        "kind": "slack",
    }
    assert "SECRET123" not in str(listed)
    assert channel["failing"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email", "config": {"to": "not-an-email"}}, "config.to"),
        ({"kind": "slack", "config": {"url": "http://hooks.slack.com/services/x"}}, "config.url"),
        ({"kind": "pagerduty", "config": {"routing_key": "abc"}}, "config.routing_key"),
        ({"kind": "carrier-pigeon", "config": {}}, "kind"),
    ],
)
def test_invalid_channels_are_refused_naming_the_field(
    api: Api, body: dict[str, Any], field: str
) -> None:
    status, reply = api.call("post", "/api/v3/channels", body)
    assert status == 400
    assert reply["field"] == field


def test_update_and_delete(api: Api) -> None:
    _, made = api.call(
        "post", "/api/v3/channels", {"kind": "email", "config": {"to": "a@example.com"}}
    )
    status, updated = api.call(
        "post",
        f"/api/v3/channels/{made['id']}",
        {"name": "on call", "config": {"to": ["b@example.com"]}},
    )
    assert status == 200 and updated["name"] == "on call"
    assert updated["config"] == {"to": ["b@example.com"]}
    assert api.call("delete", f"/api/v3/channels/{made['id']}")[0] == 200
    assert api.call("get", f"/api/v3/channels/{made['id']}")[0] == 404


def test_assignment_settings_are_stored_and_validated(api: Api) -> None:
    check = _create_check(api)
    _, ch = api.call(
        "post", "/api/v3/channels", {"kind": "email", "config": {"to": "a@example.com"}}
    )
    path = f"/api/v3/checks/{check}/channels/{ch['id']}"
    status, body = api.call(
        "put", path, {"after_failures": 3, "reminder_every_minutes": 60, "reminder_max": 2}
    )
    assert status == 200, body
    status, listed = api.call("get", f"/api/v3/checks/{check}/channels")
    assert listed["channels"][0]["after_failures"] == 3
    assert listed["channels"][0]["reminder_max"] == 2
    status, bad = api.call("put", path, {"after_failures": 0})
    assert status == 400 and bad["field"] == "after_failures"
    # reminders without an interval could never be sent
    status, bad = api.call("put", path, {"reminder_max": 3})
    assert status == 400 and bad["field"] == "reminder_every_minutes", bad
    status, bad = api.call("put", path, {"reminder_every_minutes": 60 * 24 * 31})
    assert status == 400 and bad["field"] == "reminder_every_minutes", bad
    assert api.call("delete", path)[0] == 200
    assert api.call("delete", path)[0] == 404


def test_a_test_notification_reaches_the_receiver_and_is_recorded(api: Api) -> None:
    with http_peer([Reply(200)]) as hook:
        _, ch = api.call(
            "post",
            "/api/v3/channels",
            {
                "kind": "webhook",
                "config": {"down": {"url": hook.url + "/t", "body": "$NAME: $REASON"}},
            },
        )
        status, result = api.call("post", f"/api/v3/channels/{ch['id']}/test")
        (req,) = hook.wait_for(1)
    assert status == 200 and result == {"status": "sent", "error": ""}
    assert req.body == b"srvpulse test: this is a test notification"


def test_a_failing_test_send_says_why_and_marks_a_dead_slack_webhook(api: Api) -> None:
    with http_peer([Reply(404, "no_service")]) as slack:
        _, ch = api.call(
            "post", "/api/v3/channels", {"kind": "slack", "config": {"url": slack.url + "/hook"}}
        )
        status, result = api.call("post", f"/api/v3/channels/{ch['id']}/test")
    assert status == 200 and result["status"] == "failed"
    assert "no_service" in result["error"]
    _, channel = api.call("get", f"/api/v3/channels/{ch['id']}")
    assert channel["failing"] is True
    assert datetime.fromisoformat(channel["failing_since"]).tzinfo == UTC


def test_a_missing_key_cannot_list_channels(client: Client) -> None:
    status, _ = Api(client, None).call("get", "/api/v3/channels")
    assert status == 401


def test_an_email_test_send_without_smtp_is_recorded_as_not_sent(api: Api) -> None:
    _, ch = api.call(
        "post", "/api/v3/channels", {"kind": "email", "config": {"to": "oncall@example.com"}}
    )
    status, result = api.call("post", f"/api/v3/channels/{ch['id']}/test")
    assert status == 200
    assert result == {"status": "failed", "error": "not sent: no SMTP configured (set SMTP_HOST)"}


def test_an_email_test_send_through_smtp_is_sent_and_arrives(
    engine: Engine, tmp_path: Path, client: Client
) -> None:
    with smtp_peer() as smtp:
        rt = make_runtime(engine, data_dir=tmp_path, smtp_host="127.0.0.1", smtp_port=smtp.port)
        bootstrap.install(rt)
        api = Api(client, RW_KEY)
        _, ch = api.call(
            "post", "/api/v3/channels", {"kind": "email", "config": {"to": "oncall@example.com"}}
        )
        status, result = api.call("post", f"/api/v3/channels/{ch['id']}/test")
        (mail,) = smtp.wait_for(1)
    assert status == 200 and result == {"status": "sent", "error": ""}
    assert mail.rcpt_tos == ["oncall@example.com"]
