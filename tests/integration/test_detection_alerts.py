"""Pattern detection end to end, on SQLite and MariaDB: pings through the ingest
handler, the analyzer on a controlled clock, the alerters handler, and a real local HTTP
receiver behind a webhook channel. A job that changes its pattern gets an explained
alert with no rule written, and the check is never taken down by it."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from srvpulse.adapters.memory import LocalAlertBus
from srvpulse.domain.model import PingKind
from srvpulse.local.alert_worker import sns_event
from srvpulse.local.runner import load_handler
from srvpulse.services.analyzing import Analyzer

from tests.alerting_peers import HttpPeer, Reply, http_peer
from tests.integration.conftest import Api, a_ping, deliver

FIRST = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 03:00 in Riga
BODY = '{"headline": "$HEADLINE", "reason": "$REASON", "status": "$STATUS"}'


@pytest.fixture
def hook() -> Iterator[HttpPeer]:
    with http_peer([Reply(200, "ok")]) as peer:
        yield peer


def nightly_check(rw: Api, hook: HttpPeer, *, anomaly_alerts: bool = True) -> str:
    _, check = rw.call(
        "post",
        "/api/v3/checks/",
        {"name": "nightly-backup", "schedule": "0 3 * * *", "tz": "Europe/Riga", "grace": 3600},
    )
    config = {"down": {"url": hook.url, "method": "POST", "body": BODY}}
    status, channel = rw.call(
        "post", "/api/v3/channels", {"kind": "webhook", "name": "hook", "config": config}
    )
    assert status == 201, channel
    path = f"/api/v3/checks/{check['uuid']}/channels/{channel['id']}"
    status, assigned = rw.call("put", path, {"anomaly_alerts": anomaly_alerts})
    assert status == 200 and assigned["anomaly_alerts"] is anomaly_alerts
    return str(check["uuid"])


def nights(key: str, days: range, seconds: float = 120.0) -> None:
    r = random.Random(7)
    for day in days:
        start = FIRST + timedelta(days=day, seconds=r.uniform(0, 20))
        took = timedelta(seconds=seconds * r.lognormvariate(0, 0.05))
        rid = f"00000000-0000-4000-8000-{day:012d}"
        deliver(
            a_ping(key, PingKind.START, at=start, rid=rid),
            a_ping(key, at=start + took, rid=rid),
        )


def run(key: str, start: datetime, seconds: float, rid: str) -> None:
    deliver(a_ping(key, PingKind.START, at=start, rid=rid))
    deliver(a_ping(key, at=start + timedelta(seconds=seconds), rid=rid))


def alert_everything(bus: LocalAlertBus) -> None:
    """What SNS does with the analyzer's events: invoke the alerters function."""
    handler = load_handler("functions.alerters.handler")
    for event in bus.published:
        handler(sns_event(event), None)


def test_a_backup_that_succeeds_in_three_seconds_is_an_explained_alert_not_a_down(
    rw: Api, hook: HttpPeer, analyzer: Analyzer, bus: LocalAlertBus
) -> None:
    key = nightly_check(rw, hook)
    nights(key, range(20), seconds=20 * 60)
    start = FIRST + timedelta(days=20)
    run(key, start, 3, "00000000-0000-4000-8000-999999999999")
    analyzer.run_pass(start + timedelta(seconds=5))
    alert_everything(bus)

    (request,) = hook.wait_for(1)
    body = json.loads(request.body)
    assert body["headline"] == "ANOMALY: nightly-backup finished far sooner than usual"
    assert re.fullmatch(
        r"finished in 3\.0 s; usually 1\d min \d+ s \u2013 \d+ min \d+ s over the last 20 runs"
        r" \(0\.\d % of the usual 1\d min \d+ s\)",
        body["reason"],
    ), body["reason"]
    assert body["status"] == "up"
    _, sent = rw.call("get", f"/api/v3/checks/{key}/notifications")
    assert [n["status"] for n in sent["notifications"]] == ["sent"]
    assert rw.call("get", f"/api/v3/checks/{key}/flips/") == (200, {"flips": []})
    # Another pass and a redelivery send nothing more.
    analyzer.run_pass(start + timedelta(seconds=10))
    alert_everything(bus)
    assert len(hook.requests) == 1


def test_a_run_still_going_far_past_its_usual_length_alerts_once_before_it_finishes(
    rw: Api, hook: HttpPeer, analyzer: Analyzer, bus: LocalAlertBus
) -> None:
    key = nightly_check(rw, hook)
    nights(key, range(20))
    start = FIRST + timedelta(days=20)
    rid = "00000000-0000-4000-8000-888888888888"
    deliver(a_ping(key, PingKind.START, at=start, rid=rid))
    analyzer.run_pass(start + timedelta(minutes=2))  # usual length: nothing to say
    assert bus.published == []
    analyzer.run_pass(start + timedelta(minutes=10))
    alert_everything(bus)
    (request,) = hook.wait_for(1)
    body = json.loads(request.body)
    assert body["headline"] == "ANOMALY: nightly-backup still running, far past its usual length"
    assert body["reason"].startswith("still running after 10 min (started 2026-03-22 03:00")
    assert body["status"] == "started"

    deliver(a_ping(key, at=start + timedelta(minutes=25), rid=rid))  # it finishes, long
    analyzer.run_pass(start + timedelta(minutes=26))
    alert_everything(bus)
    assert len(hook.requests) == 1  # the completion does not tell it again
    _, page = rw.call("get", f"/api/v3/checks/{key}/anomalies/")
    assert [a["kind"] for a in page["anomalies"]] == ["still_running_long"]
    assert page["anomalies"][0]["ping_n"] is None  # found by the analyzer, not at a ping


def test_a_channel_can_be_spared_anomaly_alerts_while_the_anomaly_is_still_listed(
    rw: Api, hook: HttpPeer, analyzer: Analyzer, bus: LocalAlertBus
) -> None:
    key = nightly_check(rw, hook, anomaly_alerts=False)
    nights(key, range(20))
    odd = FIRST + timedelta(days=20, hours=10)  # 13:00 in Riga
    run(key, odd, 120, "00000000-0000-4000-8000-777777777777")
    analyzer.run_pass(odd + timedelta(minutes=3))
    assert bus.published == []
    _, page = rw.call("get", f"/api/v3/checks/{key}/anomalies/")
    assert [a["kind"] for a in page["anomalies"]] == ["unusual_time"]
