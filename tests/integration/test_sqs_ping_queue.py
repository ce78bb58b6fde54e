"""SqsPingQueue against SQS as moto's server emulates it, over real HTTP; its signatures
checked against botocore's own SigV4 signer."""

from __future__ import annotations

import contextlib
import http.server
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto.server import ThreadedMotoServer
from mypy_boto3_sqs import SQSClient
from srvpulse.adapters.sqs import AwsCredentials, SqsPingQueue, sigv4_headers
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.ports import QueueFull

REGION = "eu-west-1"
KEYS = AwsCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def ping_message() -> PingMessage:
    return PingMessage(
        ping_id="7f1c7d8e-0000-4000-8000-000000000001",
        received_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        kind=PingKind.FAIL,
        check_uuid="5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
        exit_status=3,
        body="disk full\n" * 10 + "ünïcode ✓",
    )


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sqs(moto_endpoint: str) -> SQSClient:
    return boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url=moto_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def queue_for(url: str, endpoint: str) -> SqsPingQueue:
    return SqsPingQueue(url, region=REGION, endpoint_url=endpoint, credentials=lambda: KEYS)


def test_an_enqueued_ping_arrives_on_the_queue_intact(sqs: SQSClient, moto_endpoint: str) -> None:
    url = sqs.create_queue(QueueName="pings")["QueueUrl"]
    queue = queue_for(url, moto_endpoint)
    queue.enqueue(ping_message())
    queue.enqueue(ping_message())  # the second one over the same kept-alive connection
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [PingMessage.from_json(m["Body"]) for m in received] == [ping_message()] * 2


def test_a_queue_that_does_not_exist_raises_queue_full_naming_the_error(
    moto_endpoint: str,
) -> None:
    queue = queue_for(f"{moto_endpoint}/123456789012/missing", moto_endpoint)
    with pytest.raises(QueueFull, match=r"QueueDoesNotExist|NonExistentQueue"):
        queue.enqueue(ping_message())


def test_no_credentials_in_the_environment_is_queue_full_not_a_crash() -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/123456789012/pings"
    queue = SqsPingQueue(url, credentials=lambda: None)
    with pytest.raises(QueueFull, match="no AWS credentials"):
        queue.enqueue(ping_message())


def test_credentials_come_from_the_lambda_environment_with_the_session_token() -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"}
    assert AwsCredentials.from_env(env) == AwsCredentials("AKID", "s", "t")
    assert AwsCredentials.from_env({"AWS_ACCESS_KEY_ID": "AKID"}) is None


@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzEBYaDH-session-token"])
def test_the_signature_is_the_one_botocore_computes_for_the_same_request(
    token: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime(2026, 12, 1, 19, 58, 7, tzinfo=UTC)
    url = f"https://sqs.{REGION}.amazonaws.com/"
    body = b'{"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/1/q", "MessageBody": "x  y"}'
    base = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"}
    keys = AwsCredentials(KEYS.access_key, KEYS.secret_key, token)
    ours = sigv4_headers(
        method="POST",
        url=url,
        headers=base,
        body=body,
        credentials=keys,
        region=REGION,
        service="sqs",
        now=now,
    )
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now.replace(tzinfo=None))
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(base))
    botocore.auth.SigV4Auth(
        Credentials(keys.access_key, keys.secret_key, token), "sqs", REGION
    ).add_auth(request)
    assert ours["authorization"] == request.headers["Authorization"]
    assert ours["x-amz-date"] == request.headers["X-Amz-Date"] == "20261201T195807Z"


@pytest.mark.parametrize(
    ("url", "region"),
    [
        ("https://sqs.ap-southeast-2.amazonaws.com/123456789012/pings", "ap-southeast-2"),
        ("https://eu-central-1.queue.amazonaws.com/123456789012/pings", "eu-central-1"),
    ],
)
def test_the_region_is_read_from_the_queue_url(url: str, region: str) -> None:
    assert SqsPingQueue(url).region == region


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (a stalled SQS)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_a_stalled_sqs_gives_queue_full_within_seconds_never_a_hang(silent_server: str) -> None:
    queue = queue_for(f"{silent_server}/123456789012/pings", silent_server)
    started = time.monotonic()
    with pytest.raises(QueueFull, match="timed out"):
        queue.enqueue(ping_message())
    assert time.monotonic() - started < 5


class _WrongChecksum(http.server.BaseHTTPRequestHandler):
    """Answers every SendMessage 200 with an MD5OfMessageBody that does not match."""

    calls = 0

    def do_POST(self) -> None:
        type(self).calls += 1
        self.rfile.read(int(self.headers["content-length"]))
        body = json.dumps({"MD5OfMessageBody": "0" * 32, "MessageId": "m"}).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_message_sqs_got_altered_is_retried_once_then_queue_full() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WrongChecksum)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(QueueFull, match="altered"):
            queue_for(f"{endpoint}/123456789012/pings", endpoint).enqueue(ping_message())
    finally:
        server.shutdown()
        server.server_close()
    assert _WrongChecksum.calls == 2
