"""The durable local queue behaves like SQS + a DLQ, and an acknowledged message survives
the process being killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from srvpulse.adapters.local_queue import LocalDurableQueue
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.local.queue_worker import FloodYield, QueueDrainWorker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(tmp_path: Path, clock: FakeClock) -> Iterator[LocalDurableQueue]:
    q = LocalDurableQueue(tmp_path / "q.sqlite3", visibility_timeout=30, clock=clock)
    yield q
    q.close()


def test_messages_come_out_in_the_order_they_were_sent(queue: LocalDurableQueue) -> None:
    for i in range(5):
        queue.send(f"m{i}")
    assert [m.body for m in queue.receive(10)] == ["m0", "m1", "m2", "m3", "m4"]


def test_a_received_message_is_hidden_until_its_visibility_timeout_ends(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    queue.send("a")
    [first] = queue.receive(10)
    assert queue.receive(10) == []
    clock.now += 31
    [again] = queue.receive(10)
    assert again.message_id == first.message_id and again.receipt != first.receipt
    assert (first.receive_count, again.receive_count) == (1, 2)


def test_a_deleted_message_is_gone_and_a_stale_receipt_deletes_nothing(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    queue.send("a")
    [first] = queue.receive(10)
    clock.now += 31
    [second] = queue.receive(10)
    assert queue.delete(first.receipt) is False
    assert queue.delete(second.receipt) is True
    clock.now += 31
    assert queue.receive(10) == [] and queue.depth() == 0


def test_a_batch_delete_removes_the_acknowledged_messages_only(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    for body in ("a", "b", "c"):
        queue.send(body)
    a, b, c = queue.receive(10)
    stale = a.receipt
    clock.now += 31
    [a_again] = queue.receive(1)
    assert queue.delete_batch([stale, b.receipt, c.receipt]) == 2
    assert queue.delete_batch([]) == 0
    assert queue.depth() == 1
    clock.now += 31
    assert [m.body for m in queue.receive(10)] == ["a"]
    assert a_again.message_id == a.message_id


def test_receive_returns_at_most_the_batch_size(queue: LocalDurableQueue) -> None:
    for i in range(25):
        queue.send(str(i))
    assert [len(queue.receive(10)) for _ in range(4)] == [10, 10, 5, 0]


def test_the_queue_never_gives_up_on_a_message_however_often_it_is_received(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    queue.send("hard to ingest")
    for attempt in range(1, 51):
        [m] = queue.receive(10)
        assert m.receive_count == attempt
        clock.now += 31
    assert queue.dead_letters() == [] and queue.depth() == 1


def test_a_dead_lettered_message_is_redriven_once_with_its_message_id(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    queue.send("undecodable")
    [m] = queue.receive(10)
    assert queue.dead_letter(m.receipt, "not a ping message")
    assert queue.dead_letter(m.receipt, "again") is False  # the receipt is gone
    [dead] = queue.dead_letters()
    assert (dead.message_id, dead.reason, queue.depth()) == (m.message_id, "not a ping message", 0)
    clock.now += 100
    assert queue.redrive() == 1
    assert queue.redrive() == 0  # run twice: nothing more, nothing doubled
    [back] = queue.receive(10)
    assert (back.message_id, back.body, back.receive_count) == (m.message_id, "undecodable", 1)
    assert queue.dead_letters() == []
    # Requeued now: the lag watermark does not jump back to its first enqueue.
    assert queue.oldest_enqueued_at() == clock.now


def test_oldest_enqueued_at_is_the_oldest_message_not_yet_deleted_retries_included(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    assert queue.oldest_enqueued_at() is None
    first_sent = clock.now
    queue.send("first")
    clock.now += 5
    queue.send_batch(["second", "third"])
    [first, *_] = queue.receive(10)
    queue.change_visibility(first.receipt, 600)  # failed, waiting for a retry
    queue.delete_batch([m.receipt for m in _])
    assert queue.oldest_enqueued_at() == first_sent
    clock.now += 601
    [again] = queue.receive(10)
    queue.delete(again.receipt)
    assert queue.oldest_enqueued_at() is None
    stats = queue.stats()
    assert (stats.queued, stats.dead_letters, stats.oldest_enqueued_at) == (0, 0, None)


def test_a_batch_send_stores_every_message_in_order(queue: LocalDurableQueue) -> None:
    ids = queue.send_batch([f"m{i}" for i in range(100)])
    assert len(set(ids)) == 100
    got = queue.receive(100)
    assert [m.body for m in got] == [f"m{i}" for i in range(100)]
    assert [m.message_id for m in got] == ids


def test_change_visibility_brings_a_failed_message_back_sooner(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    queue.send("retry me")
    [m] = queue.receive(10)
    assert queue.change_visibility(m.receipt, 1)
    clock.now += 1.5
    assert [x.body for x in queue.receive(10)] == ["retry me"]


def test_messages_persist_when_the_queue_is_reopened(tmp_path: Path) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    q.send("kept")
    q.close()
    reopened = LocalDurableQueue(tmp_path / "q.sqlite3")
    assert [m.body for m in reopened.receive(10)] == ["kept"]
    reopened.close()


def test_a_queue_file_from_before_the_partial_receipt_index_keeps_working(
    tmp_path: Path,
) -> None:
    """The receipt index holds received messages only (the edge's inserts add nothing to
    it); a file made with the old full index gets the new one when opened."""
    path = tmp_path / "q.sqlite3"
    q = LocalDurableQueue(path)
    q.send("waiting")
    q._conn.execute("DROP INDEX messages_received")  # as files were made before
    q._conn.execute("CREATE INDEX messages_receipt ON messages (receipt)")
    q.close()
    reopened = LocalDurableQueue(path)
    indexes = {r[0] for r in reopened._conn.execute("SELECT name FROM sqlite_master")}
    assert "messages_receipt" not in indexes and "messages_received" in indexes
    (got,) = reopened.receive(10)
    assert got.body == "waiting" and reopened.delete(got.receipt)
    assert reopened.depth() == 0
    reopened.close()


def test_an_acknowledged_message_survives_kill_9_of_the_process(tmp_path: Path) -> None:
    path = tmp_path / "q.sqlite3"
    producer = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from srvpulse.adapters.local_queue import LocalDurableQueue
        q = LocalDurableQueue(Path({str(path)!r}))
        for i in range(50):
            q.send(f"ping-{{i}}")
        print("acked", flush=True)
        while True:          # keep sending until killed mid-stream
            q.send("late")
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", producer], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "acked"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL

    q = LocalDurableQueue(path)
    bodies = []
    while batch := q.receive(10):
        bodies += [m.body for m in batch]
        for m in batch:
            q.delete(m.receipt)
    q.close()
    assert bodies[:50] == [f"ping-{i}" for i in range(50)]
    assert set(bodies[50:]) <= {"late"}


# --- the queue drain worker (the local SQS -> Lambda event source mapping) -------------
def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_the_drain_worker_sends_sqs_shaped_batches_and_deletes_what_succeeded(
    tmp_path: Path,
) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    events: list[dict[str, Any]] = []

    def ingest(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        assert context.get_remaining_time_in_millis() > 0
        return {"batchItemFailures": []}

    for i in range(15):
        q.send(f"ping {i}")
    worker = QueueDrainWorker(q, ingest, batch_size=10, idle_wait=0.05)
    worker.start()
    assert _wait_until(lambda: q.depth() == 0)
    worker.stop(drain=True)
    records = [r for e in events for r in e["Records"]]
    assert [r["body"] for r in records] == [f"ping {i}" for i in range(15)]
    assert len({r["messageId"] for r in records}) == 15  # unique, like SQS
    assert {r["attributes"]["ApproximateReceiveCount"] for r in records} == {"1"}
    assert {r["eventSource"] for r in records} == {"aws:sqs"}
    assert max(len(e["Records"]) for e in events) <= 10
    q.close()


class _StepClock:
    """A monotonic clock that moves ``step`` seconds each time it is read: every batch
    looks as if it took the same time to ingest, whatever the machine does."""

    def __init__(self, step: float) -> None:
        self.step, self.now = step, 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_under_a_flood_the_drain_pauses_between_batches_and_still_stores_every_ping(
    tmp_path: Path,
) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    stored: list[str] = []
    flood_batches = 5

    def ingest(event: dict[str, Any], context: Any) -> dict[str, Any]:
        stored.extend(r["body"] for r in event["Records"])
        if len(stored) <= 10 * flood_batches:  # the edge: 20 new pings per batch of 10
            q.send_batch([f"ping {len(stored)}-{i}" for i in range(20)])
        return {"batchItemFailures": []}

    q.send_batch([f"first {i}" for i in range(10)])
    worker = QueueDrainWorker(
        q,
        ingest,
        batch_size=10,
        idle_wait=0.01,
        flood=FloodYield(share=0.5, max_lag=60.0),
        clock=_StepClock(0.01),  # each batch "took" 0.01 s: a pause of 0.01 s
    )
    worker.start()
    assert _wait_until(lambda: q.depth() == 0 and len(stored) == 10 + 20 * flood_batches)
    worker.stop(drain=True)
    assert worker.paused == pytest.approx(0.01 * flood_batches)  # one pause per flooded batch
    assert len(set(stored)) == len(stored) == 10 + 20 * flood_batches  # each once
    q.close()


def test_a_drain_already_max_lag_behind_never_pauses(tmp_path: Path) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    sent = 0

    def ingest(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal sent
        if sent < 100:
            q.send_batch([f"more {sent + i}" for i in range(20)])
            sent += 20
        return {"batchItemFailures": []}

    q.send_batch([f"first {i}" for i in range(10)])
    worker = QueueDrainWorker(
        q, ingest, batch_size=10, idle_wait=0.01, flood=FloodYield(share=0.5, max_lag=0.0)
    )
    worker.start()
    assert _wait_until(lambda: sent >= 100 and q.depth() == 0)
    worker.stop(drain=True)
    assert worker.paused == 0.0 and worker.processed == 110
    q.close()


def test_the_queue_counts_every_message_ever_sent_whatever_was_deleted(tmp_path: Path) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    assert q.sent_count() == 0
    q.send_batch(["a", "b", "c"])
    q.delete_batch([m.receipt for m in q.receive(3)])
    q.send("d")
    assert q.depth() == 1 and q.sent_count() == 4
    q.close()


def _ping(text: str = "") -> str:
    return PingMessage(
        ping_id=str(uuid.uuid4()),
        received_at=datetime.now(UTC),
        kind=PingKind.SUCCESS,
        check_uuid=str(uuid.uuid4()),
        body=text,
    ).to_json()


def test_a_ping_the_handler_keeps_failing_is_retried_with_capped_backoff_not_dead_lettered(
    tmp_path: Path,
) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    stuck = _ping("stuck")
    attempts: list[str] = []

    def ingest(event: dict[str, Any], context: Any) -> dict[str, Any]:
        failures = []
        for r in event["Records"]:
            if r["body"] == stuck:
                attempts.append(r["attributes"]["ApproximateReceiveCount"])
                failures.append({"itemIdentifier": r["messageId"]})
        return {"batchItemFailures": failures}

    q.send(stuck)
    q.send(_ping("fine"))
    worker = QueueDrainWorker(q, ingest, retry_delay=0.01, max_retry_delay=0.04, idle_wait=0.01)
    worker.start()
    assert _wait_until(lambda: len(attempts) >= 12)
    worker.stop(drain=False)
    assert attempts[:12] == [str(n) for n in range(1, 13)]
    assert q.dead_letters() == [] and q.depth() == 1 and worker.processed == 1
    assert [worker.backoff(n) for n in (1, 2, 3, 4, 40)] == [0.01, 0.02, 0.04, 0.04, 0.04]
    q.close()


def test_a_message_that_can_never_be_stored_is_dead_lettered_at_once(tmp_path: Path) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")

    def ingest(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]]}

    q.send("not json")
    q.send('{"ping_id": "x"}')
    lone_surrogate = _ping("ok \ud83d")  # escaped in the JSON, decoded by ingest
    assert "\\ud83d" in lone_surrogate
    q.send(lone_surrogate)
    worker = QueueDrainWorker(q, ingest, retry_delay=0.01, idle_wait=0.01)
    worker.start()
    assert _wait_until(lambda: len(q.dead_letters()) == 3)
    worker.stop(drain=False)
    reasons = [d.reason for d in q.dead_letters()]
    assert reasons[0].startswith("not a ping message") and reasons[1].startswith("not a ping")
    assert reasons[2].startswith("text no database can store")
    assert [d.receive_count for d in q.dead_letters()] == [1, 1, 1] and q.depth() == 0
    q.close()


def test_when_ingest_recovers_the_pings_waiting_for_a_retry_go_at_once(tmp_path: Path) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    database_up = False
    stored: list[str] = []

    def ingest(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not database_up:
            raise RuntimeError("database unreachable")
        stored.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": []}

    waiting = [_ping(f"queued during the outage {i}") for i in range(20)]
    q.send_batch(waiting)
    # A long back-off: without the release these would wait an hour.
    worker = QueueDrainWorker(q, ingest, retry_delay=3600, max_retry_delay=3600, idle_wait=0.01)
    worker.start()
    assert _wait_until(lambda: worker.failed >= 20)
    database_up = True
    q.send(_ping("after the outage"))
    assert _wait_until(lambda: q.depth() == 0)
    worker.stop(drain=False)
    assert sorted(stored) == sorted([*waiting, _body_of(stored, "after the outage")])
    q.close()


def _body_of(bodies: list[str], text: str) -> str:
    [body] = [b for b in bodies if text in b]
    return body


def test_a_handler_that_raises_fails_the_whole_batch_which_comes_back(tmp_path: Path) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    calls: list[int] = []

    def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("database restarting")
        return {"batchItemFailures": []}

    q.send(_ping("a"))
    q.send(_ping("b"))
    worker = QueueDrainWorker(q, flaky, retry_delay=0.05, idle_wait=0.02)
    worker.start()
    assert _wait_until(lambda: q.depth() == 0)
    worker.stop(drain=True)
    assert calls[0] == 2 and sum(calls[1:]) == 2


def test_stop_with_drain_ingests_everything_still_queued(tmp_path: Path) -> None:
    q = LocalDurableQueue(tmp_path / "q.sqlite3")
    seen: list[str] = []

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        time.sleep(0.01)
        seen.extend(r["body"] for r in event["Records"])
        return {"batchItemFailures": []}

    worker = QueueDrainWorker(q, slow, idle_wait=0.05)
    worker.start()
    for i in range(100):
        q.send(str(i))
    worker.stop(drain=True)
    assert q.depth() == 0 and sorted(seen, key=int) == [str(i) for i in range(100)]
    q.close()
