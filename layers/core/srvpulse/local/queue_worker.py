"""The local mode's stand-in for the SQS -> Lambda event source mapping: receive batches
from the durable local queue, call the ingest handler with an SQS-shaped event, delete
what succeeded, and retry what failed.

The retry rule is the durability promise: a ping that was acknowledged is retried for as
long as it takes (capped exponential back-off), because a failure to store it is an
infrastructure problem (database unreachable, lock timeout, deadlock) that ends. Only a
message that can never be stored, whatever the database does (not a PingMessage, or text
no database can hold), goes to the dead letters, at once; ``srvpulse queue redrive``
brings those back after a fix."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..adapters.local_queue import LocalDurableQueue, ReceivedMessage
from ..services.ingesting import PoisonMessage, decode
from .lambda_context import LocalLambdaContext

log = logging.getLogger("srvpulse.local.queue")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
QUEUE_ARN = "arn:aws:sqs:local:000000000000:srvpulse-pings"
# Back-off between attempts at one message: retry_delay x 2^(attempt-1), at most this.
MAX_RETRY_DELAY = 30.0
# Messages per handler call: ingest stores a batch in one transaction, so its cost per
# ping falls with the batch (bench/ingest_throughput.py: batches of 500 took 14 % fewer
# instructions per ping than batches of 100); a batch of 500 is still ingested in a
# fraction of a second. What template.yaml's SQS event source sends, too.
BATCH_SIZE = 500
# While pings arrive faster than ingest stores them, ingest works this share of its time
# and pauses for the rest (FloodYield), as long as it is less than FLOOD_MAX_LAG seconds
# behind; INGEST_FLOOD_SHARE (settings) overrides the share, 1 turns yielding off.
FLOOD_SHARE = 0.5
FLOOD_MAX_LAG = 5.0
# After a whole batch failed, the first whole batch that succeeds (the database is back)
# releases every message waiting for its back-off at once, at most this often.
RELEASE_INTERVAL = 10.0


def never_storable(body: str) -> str | None:
    """Why ``body`` can never be stored, or None when it can (so a failure to store it
    is the infrastructure's and worth retrying)."""
    try:
        decode(body)  # ingest's own rule for what is a ping message at all
    except PoisonMessage as exc:
        return str(exc)
    try:
        # Lone surrogates decode from JSON escapes but no database can store them.
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"text no database can store: {exc.reason}"
    return None


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


@dataclass(frozen=True, slots=True)
class FloodYield:
    """How ingest gives way to the HTTP edge during a flood of pings.

    Why not an OS priority: on this kind of machine (2 vCPUs) work on the other CPU slows
    the edge whatever its priority. Measured with the workers process stopped, a
    busy-looping process at SCHED_IDLE cut the edge's accepted pings by a quarter, as
    much as one at normal priority, and ingest's own thread at nice 19 or SCHED_IDLE left
    the edge as slow as at niceness 5. What helps is ingest not running: while pings
    arrive faster than it stores them it pauses after each batch, so that it works
    ``share`` of the time, until it is ``max_lag`` seconds behind (the oldest queued
    ping's age); from there on it works flat out, so a flood that lasts only delays
    ingest by about ``max_lag``, and a load ingest can keep up with is never paced.
    """

    share: float = FLOOD_SHARE
    max_lag: float = FLOOD_MAX_LAG

    def pause(self, *, busy: float, arrived: int, stored: int, lag: float | None) -> float:
        """Seconds to pause after a batch that took ``busy`` seconds, when ``arrived``
        pings were queued since the last batch and this one stored ``stored``; ``lag``:
        the age of the oldest ping still queued (None: the queue is empty)."""
        if self.share >= 1.0 or lag is None or lag >= self.max_lag or arrived <= stored:
            return 0.0
        return busy * (1.0 - self.share) / self.share


class QueueDrainWorker:
    """A Worker (see runner.Worker) feeding the ingest handler from the local queue.

    A failed record is retried after ``retry_delay`` x 2^(attempt-1) seconds, at most
    ``max_retry_delay``, forever; one that can never be stored (``never_storable``) is
    dead-lettered instead. When a whole batch succeeds after a whole batch failed (the
    database came back), every message waiting for its back-off is released at once.
    """

    def __init__(
        self,
        queue: LocalDurableQueue,
        handler: Handler,
        *,
        batch_size: int = BATCH_SIZE,
        visibility_timeout: float = 30.0,
        retry_delay: float = 1.0,
        max_retry_delay: float = MAX_RETRY_DELAY,
        idle_wait: float = 0.5,
        drain_timeout: float = 30.0,
        flood: FloodYield | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue = queue
        self.handler = handler
        self.batch_size = batch_size
        self.visibility_timeout = visibility_timeout
        self.retry_delay = retry_delay
        self.max_retry_delay = max_retry_delay
        self.idle_wait = idle_wait
        self.drain_timeout = drain_timeout
        self.flood = flood or FloodYield()
        self._clock = clock
        self._stopping = threading.Event()
        self._drain = False
        self._thread: threading.Thread | None = None
        self.processed = 0
        self.failed = 0  # failed attempts (each retried later)
        self.dead_lettered = 0
        self._outage = False  # the last whole batch failed
        self._last_release = 0.0
        self.paused = 0.0  # seconds paused for floods (FloodYield)

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
        sent = self._sent()
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
            started = self._clock()
            stored = self.process(batch)
            if self._stopping.is_set():
                continue
            before, sent = sent, self._sent()
            pause = self.flood.pause(
                busy=self._clock() - started,
                arrived=sent - before,
                stored=stored,
                lag=self._lag(),
            )
            if pause > 0:
                self.paused += pause
                self._stopping.wait(pause)  # a stop ends the pause at once

    def _sent(self) -> int:
        try:
            return self.queue.sent_count()
        except Exception:  # the queue will say what is wrong at the next receive
            return 0

    def _lag(self) -> float | None:
        try:
            oldest = self.queue.oldest_enqueued_at()
        except Exception:
            return None
        return None if oldest is None else max(0.0, time.time() - oldest)

    def process(self, batch: list[ReceivedMessage]) -> int:
        """One invocation of the handler for ``batch``, then delete or retry each record;
        returns how many were stored (deleted from the queue)."""
        try:
            reply = self.handler(sqs_event(batch), LocalLambdaContext("ingest"))
            failed = {f["itemIdentifier"] for f in reply.get("batchItemFailures", [])}
        except Exception:
            # Like Lambda: an exception fails the whole batch.
            log.exception("ingest handler raised; the whole batch will be retried")
            failed = {m.message_id for m in batch}
        done = [m.receipt for m in batch if m.message_id not in failed]
        retried = 0
        for m in batch:
            if m.message_id not in failed:
                continue
            self.failed += 1
            reason = never_storable(m.body)
            if reason is not None:
                log.error("dead-lettering message %s: %s", m.message_id, reason)
                self.queue.dead_letter(m.receipt, reason)
                self.dead_lettered += 1
                continue
            retried += 1
            self.queue.change_visibility(m.receipt, self.backoff(m.receive_count))
        if retried:
            log.warning(
                "ingest failed for %d of %d pings; retrying (attempt %d, next in %.0f s)",
                retried,
                len(batch),
                max(m.receive_count for m in batch),
                self.backoff(max(m.receive_count for m in batch)),
            )
        self.processed += len(done)
        # One commit (one fsync) for the batch, not one per message.
        self.queue.delete_batch(done)
        self._note_health(whole_batch_failed=not done, whole_batch_ok=not failed)
        return len(done)

    def backoff(self, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1`` of a message."""
        return float(min(self.max_retry_delay, self.retry_delay * 2 ** min(attempt - 1, 30)))

    def _note_health(self, *, whole_batch_failed: bool, whole_batch_ok: bool) -> None:
        if whole_batch_failed:
            self._outage = True
        elif whole_batch_ok and self._outage:
            self._outage = False
            now = time.monotonic()
            if now - self._last_release >= RELEASE_INTERVAL:
                self._last_release = now
                released = self.queue.retry_now()
                if released:
                    log.info("ingest recovered; retrying %d waiting pings now", released)
