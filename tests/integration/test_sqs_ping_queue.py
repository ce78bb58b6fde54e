"""SqsPingQueue against SQS as moto emulates it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from srvpulse.adapters.sqs import SqsPingQueue
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.ports import QueueFull

REGION = "eu-west-1"


def ping_message() -> PingMessage:
    return PingMessage(
        ping_id="7f1c7d8e-0000-4000-8000-000000000001",
        received_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        kind=PingKind.FAIL,
        check_uuid="5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
        exit_status=3,
        body="disk full\n" * 10,
    )


@pytest.mark.usefixtures("aws")
def test_an_enqueued_ping_arrives_on_the_queue_intact() -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="pings")["QueueUrl"]
    SqsPingQueue(url, region=REGION).enqueue(ping_message())
    [received] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert PingMessage.from_json(received["Body"]) == ping_message()


def test_the_region_is_read_from_the_queue_url() -> None:
    url = "https://sqs.ap-southeast-2.amazonaws.com/123456789012/pings"
    assert SqsPingQueue(url).region == "ap-southeast-2"


@pytest.mark.usefixtures("aws")
def test_a_queue_that_does_not_exist_raises_queue_full() -> None:
    url = f"https://sqs.{REGION}.amazonaws.com/123456789012/missing"
    with pytest.raises(QueueFull):
        SqsPingQueue(url).enqueue(ping_message())


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


def test_a_stalled_sqs_gives_queue_full_within_seconds_never_a_hang(
    silent_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    url = f"{silent_server}/123456789012/pings"
    queue = SqsPingQueue(url, region=REGION, endpoint_url=silent_server)
    assert "client" not in queue.__dict__  # nothing is created before the first ping
    started = time.monotonic()
    with pytest.raises(QueueFull):
        queue.enqueue(ping_message())
    assert time.monotonic() - started < 5
