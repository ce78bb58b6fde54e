"""Alerting end to end in the local mode: `python -m srvpulse.local` as a subprocess with
its SMTP server, Slack receiver and PagerDuty endpoint pointed at local peers. A failing
job takes its check down -> mail and Slack message within seconds; it recovers ->
PagerDuty receives `resolve` with the trigger's dedup_key."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.alerting_events import ROUTING_KEY
from tests.alerting_peers import (
    HttpPeer,
    Received,
    Reply,
    SmtpPeer,
    http_peer,
    self_signed_cert,
    smtp_peer,
)
from tests.e2e.local_mode import API_KEY, running_local_mode

pytestmark = pytest.mark.e2e


def _pd_accept(req: Received) -> Reply:
    dedup = json.loads(req.body).get("dedup_key", "x")
    return Reply(202, json.dumps({"status": "success", "dedup_key": dedup}))


@pytest.fixture
def peers() -> Iterator[tuple[SmtpPeer, HttpPeer, HttpPeer]]:
    with (
        smtp_peer() as smtp,
        http_peer([Reply(200, "ok")]) as slack,
        http_peer(_pd_accept, tls=True) as pd,
    ):
        yield smtp, slack, pd


@pytest.fixture
def base(tmp_path: Path, peers: tuple[SmtpPeer, HttpPeer, HttpPeer]) -> Iterator[str]:
    smtp, _, pd = peers
    with running_local_mode(
        tmp_path,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp.port),
        PAGERDUTY_EVENTS_URL=pd.url,
        ALERT_CA_FILE=str(self_signed_cert().cert_path),
    ) as mode:
        yield mode.base


def test_a_failing_job_alerts_by_mail_and_slack_and_its_recovery_resolves_pagerduty(
    base: str, peers: tuple[SmtpPeer, HttpPeer, HttpPeer]
) -> None:
    smtp, slack, pd = peers
    api = httpx.Client(base_url=base, timeout=15, headers={"X-Api-Key": API_KEY})
    r = api.post("/api/v3/checks", json={"name": "nightly-backup", "timeout": 3600, "grace": 60})
    assert r.status_code == 201, r.text
    check = r.json()
    code = check.get("uuid") or check["ping_url"].rstrip("/").rsplit("/", 1)[-1]
    channel_bodies = [
        {"kind": "email", "config": {"to": "oncall@example.com"}},
        {"kind": "slack", "config": {"url": slack.url + "/services/T/B/x"}},
        {"kind": "pagerduty", "config": {"routing_key": ROUTING_KEY}},
    ]
    for body in channel_bodies:
        made = api.post("/api/v3/channels", json=body)
        assert made.status_code == 201, made.text
        assigned = api.put(f"/api/v3/checks/{code}/channels/{made.json()['id']}", json={})
        assert assigned.status_code == 200, assigned.text

    assert httpx.get(f"{base}/ping/{code}/fail", timeout=5).status_code == 200
    (mail,) = smtp.wait_for(1, timeout=20)
    (slack_msg,) = slack.wait_for(1, timeout=20)
    trigger = pd.wait_for(1, timeout=20)[0].json()
    assert mail.message["Subject"].startswith("DOWN: nightly-backup")
    assert slack_msg.json()["text"].startswith("DOWN: nightly-backup")
    assert trigger["event_action"] == "trigger"

    assert httpx.get(f"{base}/ping/{code}", timeout=5).status_code == 200
    resolve = pd.wait_for(2, timeout=20)[1].json()
    assert resolve["event_action"] == "resolve"
    assert resolve["dedup_key"] == trigger["dedup_key"]

    # The receiver may answer before the worker records the attempt: poll briefly.
    deadline = time.monotonic() + 10
    while True:
        notes = api.get(f"/api/v3/checks/{code}/notifications").json()["notifications"]
        if {n["status"] for n in notes} == {"sent"} or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert {n["status"] for n in notes} == {"sent"}
    assert {n["kind"] for n in notes} >= {"email", "slack", "pagerduty"}
