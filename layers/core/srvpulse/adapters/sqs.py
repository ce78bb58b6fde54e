"""SqsPingQueue: the PingQueue port on Amazon SQS (the ping function on AWS).

The boto3 client is created on first use (not at import: cold start, no environment
reads) and configured to fail fast: a job's ping must never hang because SQS is slow,
so after a short connect/read timeout and one retry the edge answers 503 instead.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..domain.model import PingMessage
from ..ports import QueueFull

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SendMessage normally answers in tens of milliseconds; past these a 503 beats a hang.
CONNECT_TIMEOUT_S = 0.5
READ_TIMEOUT_S = 1.0
# Total attempts including the first (botocore "standard" retry mode).
MAX_ATTEMPTS = 2


class SqsPingQueue:
    def __init__(self, queue_url: str, region: str | None = None, **client_kwargs: Any) -> None:
        self.queue_url = queue_url
        # The queue URL names its region (https://sqs.<region>.amazonaws.com/...).
        self.region = region or _region_from_url(queue_url)
        self._client_kwargs = client_kwargs

    @cached_property
    def client(self) -> SQSClient:
        import boto3
        from botocore.config import Config

        config = Config(
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=READ_TIMEOUT_S,
            retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        )
        return boto3.client("sqs", region_name=self.region, config=config, **self._client_kwargs)

    def enqueue(self, message: PingMessage) -> None:
        """Send the ping; QueueFull on any SQS or network error (the edge answers 503)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=message.to_json())
        except (BotoCoreError, ClientError) as exc:
            raise QueueFull(f"SQS: {exc}") from exc


def _region_from_url(url: str) -> str | None:
    host = url.split("://", 1)[-1].split("/", 1)[0]
    parts = host.split(".")
    if len(parts) >= 4 and parts[0] == "sqs":
        return parts[1]
    return None
