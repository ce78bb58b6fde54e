"""A ping whose JSON completion body spells a lone surrogate is acknowledged only if it
can be stored: the edge replaces the character, ingest stores the failure, the check
goes down (on SQLite and MariaDB)."""

from __future__ import annotations

from srvpulse.bootstrap import Runtime

from functions.ingest import handler as ingest
from functions.ping import handler as ping
from tests.integration.conftest import Api
from tests.sqs_events import sqs_event
from tests.unit.test_ping_handler import http_api_event


def test_a_fail_ping_with_a_lone_surrogate_is_stored_and_takes_the_check_down(
    runtime: Runtime, rw: Api
) -> None:
    _, check = rw.call("post", "/api/v3/checks/", {"name": "backup", "timeout": 3600})
    uuid = check["ping_url"].rsplit("/", 1)[1]
    body = b'{"status":"fail","summary":"ok \\ud83d","report":"disk \\udfff full"}'
    event = http_api_event(
        "POST", f"/ping/{uuid}", headers={"content-type": "application/json"}, body=body
    )
    assert ping.handler(event)["statusCode"] == 200

    [message] = runtime.local_queue.receive(10)
    assert ingest.handler(sqs_event(message.body), None) == {"batchItemFailures": []}
    _, shown = rw.call("get", f"/api/v3/checks/{uuid}")
    assert shown["status"] == "down"
    _, pings = rw.call("get", f"/api/v3/checks/{uuid}/pings/")
    [stored] = pings["pings"]
    assert stored["summary"] == "ok \ufffd"
    _, report = rw.call("get", f"/api/v3/checks/{uuid}/pings/{stored['n']}/body")
    assert report == "disk \ufffd full"
