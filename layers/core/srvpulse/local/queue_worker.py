"""The local mode's stand-in for the SQS -> Lambda event source mapping: receive batches
from the durable local queue, call the ingest handler with an SQS-shaped event, delete
what succeeded, and let failures come back (then dead-letter them) like SQS would."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..adapters.local_queue import LocalDurableQueue, ReceivedMessage
from .lambda_context import LocalLambdaContext

log = logging.getLogger("srvpulse.local.queue")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
QUEUE_ARN = "arn:aws:sqs:local:000000000000:srvpulse-pings"


def sqs_event(messages: list[ReceivedMessage], queue_arn: str = QUEUE_ARN) -> dict[str, Any]:
    """The event an SQS event source mapping sends to Lambda for ``messages``."""
    now_ms = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": m.message_id,
                "receiptHandle": m.receipt,
                "body": m.body,
                "attributes": {
                    "ApproximateReceiveCount": str(m.receive_count),
                    "SentTimestamp": str(int(m.sent_at * 1000)),
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(m.body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "local",
            }
            for m in messages
        ]
    }


class QueueDrainWorker:
    """A Worker (see runner.Worker) feeding the ingest handler from the local queue.

    Failed records are retried with a growing delay (receive count x ``retry_delay``)
    and dead-lettered by the queue after its ``max_receives``.
    """

    def __init__(
        self,
        queue: LocalDurableQueue,
        handler: Handler,
        *,
        batch_size: int = 10,
        visibility_timeout: float = 30.0,
        retry_delay: float = 1.0,
        idle_wait: float = 0.5,
        drain_timeout: float = 30.0,
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.batch_size = batch_size
        self.visibility_timeout = visibility_timeout
        self.retry_delay = retry_delay
        self.idle_wait = idle_wait
        self.drain_timeout = drain_timeout
        self._stopping = threading.Event()
        self._drain = False
        self._thread: threading.Thread | None = None
        self.processed = 0
        self.failed = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ingest-drain", daemon=True)
        self._thread.start()

    def stop(self, drain: bool) -> None:
        """Stop; with ``drain`` first ingest everything visible in the queue (bounded by
        ``drain_timeout``). Messages waiting for a retry stay queued for the next start."""
        self._drain = drain
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(self.drain_timeout + self.visibility_timeout)

    def _run(self) -> None:
        deadline: float | None = None
        while True:
            if self._stopping.is_set():
                if not self._drain:
                    return
                deadline = deadline or time.monotonic() + self.drain_timeout
                if time.monotonic() > deadline:
                    log.warning("drain timed out; %d pings left queued", self.queue.depth())
                    return
            try:
                batch = self.queue.receive(self.batch_size, self.visibility_timeout)
            except Exception:
                log.exception("receiving from the local queue failed")
                batch = []
            if not batch:
                if self._stopping.is_set():
                    return
                self.queue.wait(self.idle_wait)
                continue
            self.process(batch)

    def process(self, batch: list[ReceivedMessage]) -> None:
        """One invocation of the handler for ``batch``, then delete or retry each record."""
        try:
            reply = self.handler(sqs_event(batch), LocalLambdaContext("ingest"))
            failed = {f["itemIdentifier"] for f in reply.get("batchItemFailures", [])}
        except Exception:
            # Like Lambda: an exception fails the whole batch.
            log.exception("ingest handler raised; the whole batch will be retried")
            failed = {m.message_id for m in batch}
        done = [m.receipt for m in batch if m.message_id not in failed]
        for m in batch:
            if m.message_id in failed:
                self.failed += 1
                self.queue.change_visibility(m.receipt, self.retry_delay * m.receive_count)
        self.processed += len(done)
        # One commit (one fsync) for the batch, not one per message.
        self.queue.delete_batch(done)
