"""IngestLag adapters: how far ingestion has caught up (ports.IngestLag).

``LocalQueueLag`` (local mode): the enqueue time of the oldest message still in the
durable local queue (in flight and waiting for a retry included), or now when it is
empty. Exact: the queue knows every acknowledged ping that is not yet stored.

``HeartbeatLag`` (AWS): SQS cannot say when its oldest message was sent (the queue's
attributes count messages; ``ApproximateAgeOfOldestMessage`` is a CloudWatch metric
published once a minute, minutes late, absent for an idle queue, and it counts a poison
message cycling towards the DLQ as lag). Instead, every analyzer pass sends a heartbeat
message through the ping queue itself; ingest stores the send time of the newest one it
has taken off the queue together with the pings of its batch (``ingest_watermark``).
Whatever stops pings (a database outage, a throttled or disabled ingest function, a
backlog) stops the heartbeats in the same place, so the watermark is exactly as far as
ingestion has got, measured in the queue's own order. A standard queue does not keep
strict order, so the watermark is taken ``REORDER_MARGIN`` earlier. Cost: one SendMessage
per pass (12 a minute, about $0.21 a month) and a few bytes through ingest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..domain.model import HEARTBEAT_WATERMARK, Heartbeat

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from ..ports import CheckStore

log = logging.getLogger(__name__)

# A ping is stamped at the edge a moment before it is enqueued: pings received up to
# this long before the oldest message's enqueue time may still be in the queue.
ENQUEUE_MARGIN = timedelta(seconds=1)
# How much a standard SQS queue may deliver a heartbeat ahead of pings sent before it.
REORDER_MARGIN = timedelta(seconds=2)


class LocalQueueLag:
    """IngestLag of the local mode, from ``oldest_enqueued_at()`` of the local queue
    (epoch seconds of its oldest message, None when empty)."""

    def __init__(self, oldest_enqueued_at: Callable[[], float | None]) -> None:
        self.oldest_enqueued_at = oldest_enqueued_at

    def caught_up_to(self, now: datetime) -> datetime:
        oldest = self.oldest_enqueued_at()
        if oldest is None:
            return now
        return min(now, datetime.fromtimestamp(oldest, UTC) - ENQUEUE_MARGIN)


class HeartbeatLag:
    """IngestLag on AWS: sends a heartbeat through the ping queue on each call and
    answers with the newest heartbeat ingest has stored (see the module docstring)."""

    def __init__(
        self, queue_url: str, store: CheckStore, region: str | None = None, **client_kwargs: Any
    ) -> None:
        self.queue_url = queue_url
        self.store = store
        parts = queue_url.split(".")  # https://sqs.<region>.amazonaws.com/<account>/<name>
        guessed = parts[1] if len(parts) > 2 and parts[0].endswith("sqs") else None
        self.region = region or guessed
        self._client_kwargs = client_kwargs
        self._warned = False

    @cached_property
    def client(self) -> SQSClient:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=1, read_timeout=2, retries={"mode": "standard"})
        kwargs: dict[str, Any] = {"region_name": self.region, "config": config}
        return boto3.client("sqs", **kwargs, **self._client_kwargs)

    def caught_up_to(self, now: datetime) -> datetime:
        try:
            self.client.send_message(QueueUrl=self.queue_url, MessageBody=Heartbeat(now).to_json())
        except Exception:
            # The watermark then stops moving and deadlines wait: the safe side.
            log.exception("sending the ingest heartbeat failed")
        with self.store.transaction() as tx:
            mark = tx.watermark(HEARTBEAT_WATERMARK)
        if mark is None:
            # No heartbeat ever came through (a new stack, or a misconfiguration that
            # would otherwise silence every late alert): judge by the clock and say so.
            if not self._warned:
                log.warning("no ingest heartbeat stored yet: ingestion lag unknown")
                self._warned = True
            return now
        return min(now, mark - REORDER_MARGIN)
