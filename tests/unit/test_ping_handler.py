"""The ping function with real API Gateway HTTP API (payload 2.0) and Function URL event
shapes, enqueueing to a real durable local queue."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from srvpulse import bootstrap
from srvpulse.adapters.local_queue import LocalDurableQueue
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.settings import Settings

from functions.ping.handler import handler

ROOT = Path(__file__).resolve().parents[2]
UUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"
RID = "0a1b2c3d-0000-4000-8000-000000000001"


def http_api_event(
    method: str,
    path: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    binary: bool = False,
) -> dict[str, Any]:
    """An HTTP API payload 2.0 event for route ``ANY /ping/{proxy+}``, as API Gateway
    sends it (headers lower-case, repeated query values comma-joined)."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "ANY /ping/{proxy+}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "accept": "*/*",
            "content-length": str(len(body or b"")),
            "host": "srvp.io",
            "user-agent": "curl/8.5.0",
            "x-amzn-trace-id": "Root=1-65f0c6a1-0a1b2c3d4e5f60718293a4b5",
            "x-forwarded-for": "203.0.113.9",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "a1b2c3d4e5",
            "domainName": "srvp.io",
            "domainPrefix": "srvp",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.9",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "ANY /ping/{proxy+}",
            "stage": "$default",
            "time": "12/Mar/2026:19:03:58 +0000",
            "timeEpoch": 1773342238000,
        },
        "pathParameters": {"proxy": path.removeprefix("/ping/")},
        "isBase64Encoded": binary,
    }
    if query:
        pairs = [p.split("=", 1) for p in query.split("&")]
        params: dict[str, str] = {}
        for k, v in pairs:
            params[k] = f"{params[k]},{v}" if k in params else v
        event["queryStringParameters"] = params
    if body is not None:
        event["body"] = base64.b64encode(body).decode() if binary else body.decode()
    return event


def function_url_event(method: str, path: str) -> dict[str, Any]:
    """A Lambda Function URL event: the same 2.0 shape, without route or path parameters."""
    event = http_api_event(method, path)
    event["routeKey"] = "$default"
    event["requestContext"]["routeKey"] = "$default"
    del event["pathParameters"]
    return event


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[LocalDurableQueue]:
    runtime = bootstrap.for_local(Settings(data_dir=tmp_path))
    bootstrap.install(runtime)
    yield runtime.local_queue
    bootstrap.install(None)
    runtime.local_queue.close()


def queued(queue: LocalDurableQueue) -> list[PingMessage]:
    return [PingMessage.from_json(m.body) for m in queue.receive(10)]


def test_a_ping_is_answered_ok_as_plain_text_and_enqueued(queue: LocalDurableQueue) -> None:
    reply = handler(http_api_event("GET", f"/ping/{UUID}"))
    assert reply["statusCode"] == 200 and reply["body"] == "OK"
    assert reply["headers"]["content-type"].startswith("text/plain")
    [message] = queued(queue)
    assert (message.check_uuid, message.kind, message.method) == (UUID, PingKind.SUCCESS, "GET")
    assert (message.remote_addr, message.scheme, message.user_agent) == (
        "203.0.113.9",
        "https",
        "curl/8.5.0",
    )


def test_every_ping_gets_its_own_id(queue: LocalDurableQueue) -> None:
    for _ in range(3):
        handler(http_api_event("GET", f"/ping/{UUID}"))
    assert len({m.ping_id for m in queued(queue)}) == 3


def test_a_post_body_becomes_the_report(queue: LocalDurableQueue) -> None:
    event = http_api_event("POST", f"/ping/{UUID}/fail", body=b"disk full\n")
    assert handler(event)["statusCode"] == 200
    [message] = queued(queue)
    assert (message.kind, message.body) == (PingKind.FAIL, "disk full\n")


def test_a_base64_encoded_body_is_decoded(queue: LocalDurableQueue) -> None:
    event = http_api_event("POST", f"/ping/{UUID}/log", body="héllo".encode(), binary=True)
    handler(event)
    assert queued(queue)[0].body == "héllo"


def test_query_parameters_rid_and_create_are_read(queue: LocalDurableQueue) -> None:
    handler(http_api_event("GET", "/ping/key123/backup/start", query=f"rid={RID}&create=1"))
    [message] = queued(queue)
    assert (message.ping_key, message.slug, message.kind) == ("key123", "backup", PingKind.START)
    assert (message.rid, message.create) == (RID, True)


def test_a_json_completion_body_is_understood(queue: LocalDurableQueue) -> None:
    body = b'{"status": 2, "summary": "3 files failed", "report": "..."}'
    handler(
        http_api_event(
            "POST", f"/ping/{UUID}", headers={"content-type": "application/json"}, body=body
        )
    )
    [message] = queued(queue)
    assert (message.kind, message.exit_status, message.summary) == (
        PingKind.FAIL,
        2,
        "3 files failed",
    )


def test_a_function_url_event_is_served_the_same_way(queue: LocalDurableQueue) -> None:
    assert handler(function_url_event("HEAD", f"/ping/{UUID}/start"))["body"] == "OK"
    assert handler(function_url_event("GET", f"/{UUID}/1"))["body"] == "OK"
    kinds = [(m.kind, m.exit_status) for m in queued(queue)]
    assert kinds == [(PingKind.START, None), (PingKind.FAIL, 1)]


@pytest.mark.parametrize(
    ("path", "query", "reason"),
    [
        ("/ping/pingkey0123456789ab/Nightly", "", "slugs are lower case"),
        (f"/ping/{UUID}/300", "", "exit status must be between 0 and 255"),
        (f"/ping/{UUID}", "rid=nope", "invalid rid"),
    ],
)
def test_a_malformed_ping_gets_400_with_a_one_line_reason_and_is_not_queued(
    queue: LocalDurableQueue, path: str, query: str, reason: str
) -> None:
    reply = handler(http_api_event("GET", path, query=query))
    assert reply["statusCode"] == 400 and reason in reply["body"]
    assert queue.depth() == 0


@pytest.mark.parametrize("path", ["/ping/not-a-uuid", f"/ping/{UUID}/restart", "/ping/"])
def test_a_path_that_is_no_ping_url_gets_404_not_found_like_healthchecks(
    queue: LocalDurableQueue, path: str
) -> None:
    reply = handler(http_api_event("GET", path))
    assert (reply["statusCode"], reply["body"]) == (404, "not found")
    assert reply["headers"]["cache-control"].startswith("max-age=0, no-cache")
    assert queue.depth() == 0


def test_a_queue_that_cannot_take_the_ping_gives_503_with_retry_after(tmp_path: Path) -> None:
    runtime = bootstrap.for_local(Settings(data_dir=tmp_path))
    runtime.__dict__["local_queue"] = LocalDurableQueue(
        tmp_path / "queue.sqlite3", busy_timeout=0.2
    )
    bootstrap.install(runtime)
    blocker = sqlite3.connect(tmp_path / "queue.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the queue file
    try:
        started = time.monotonic()
        reply = handler(http_api_event("GET", f"/ping/{UUID}"))
        elapsed = time.monotonic() - started
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        bootstrap.install(None)
    assert reply["statusCode"] == 503 and reply["headers"]["retry-after"] == "5"
    assert elapsed < 2  # a slow queue is a quick 503, never a hang


def test_importing_the_handler_does_not_import_sqlalchemy_pydantic_or_powertools() -> None:
    code = (
        "import sys, functions.ping.handler\n"
        "heavy = [m for m in ('sqlalchemy', 'pydantic', 'aws_lambda_powertools', 'chalice')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""


class _FakeSqs(http.server.BaseHTTPRequestHandler):
    """Answers SendMessage as SQS does (JSON protocol), with the body's MD5."""

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["content-length"])))
        md5 = hashlib.md5(request["MessageBody"].encode(), usedforsecurity=False).hexdigest()
        body = json.dumps({"MD5OfMessageBody": md5, "MessageId": "m-1"}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_sqs() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeSqs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# What a container's first ping may load besides the handler's imports: http.client
# with its email header parser, ssl, hmac/hashlib. A boto3 client was +290 modules.
FIRST_PING_MODULES_MAX = 60


def test_the_first_ping_on_aws_loads_no_boto3_and_only_a_few_standard_modules(
    fake_sqs: str,
) -> None:
    code = (
        "import json, sys\n"
        "from functions.ping.handler import handler\n"
        "event = json.loads(sys.argv[1])\n"
        "before = set(sys.modules)\n"
        "reply = handler(event)\n"
        "print(json.dumps([reply['statusCode'], sorted(set(sys.modules) - before)]))\n"
    )
    env = {
        **os.environ,
        "SRVPULSE_MODE": "aws",
        "PING_QUEUE_URL": f"{fake_sqs}/123456789012/pings",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(http_api_event("GET", f"/ping/{UUID}"))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    status, loaded = json.loads(out.stdout)
    assert status == 200
    heavy = [m for m in loaded if m.split(".")[0] in ("boto3", "botocore", "urllib3", "s3transfer")]
    assert heavy == []
    assert len(loaded) <= FIRST_PING_MODULES_MAX, loaded


def test_a_browsers_cors_preflight_is_answered_and_nothing_is_queued(
    queue: LocalDurableQueue,
) -> None:
    reply = handler(
        http_api_event(
            "OPTIONS",
            f"/ping/{UUID}",
            headers={
                "origin": "https://intranet.example",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type",
            },
        )
    )
    assert reply["statusCode"] == 204
    assert reply["headers"]["access-control-allow-origin"] == "*"
    assert "POST" in reply["headers"]["access-control-allow-methods"]
    assert reply["headers"]["access-control-allow-headers"] == "content-type"
    assert queued(queue) == []


def test_every_ping_id_is_a_distinct_time_ordered_version_7_uuid() -> None:
    import time
    import uuid as uuid_module

    from srvpulse.services.pinging import new_ping_id

    before_ms = time.time_ns() // 1_000_000
    ids = [new_ping_id() for _ in range(2000)]
    after_ms = time.time_ns() // 1_000_000
    assert len(set(ids)) == 2000
    for text in ids:
        parsed = uuid_module.UUID(text)
        assert (str(parsed), parsed.version, parsed.variant) == (text, 7, uuid_module.RFC_4122)
        # The first 48 bits are the Unix time in ms when the id was made.
        assert before_ms <= parsed.int >> 80 <= after_ms
    # Made later, sorted later (as text too: the time is the leading hex digits); ids of
    # the same millisecond may come in any order.
    stamps = [uuid_module.UUID(text).int >> 80 for text in ids]
    assert stamps == sorted(stamps)
    assert sorted(ids) == sorted(ids, key=lambda i: uuid_module.UUID(i).int)
