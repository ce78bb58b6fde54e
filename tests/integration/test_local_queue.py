"""The durable local queue behaves like SQS + a DLQ, and an acknowledged message survives
the process being killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from srvpulse.adapters.local_queue import LocalDurableQueue


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
    q = LocalDurableQueue(
        tmp_path / "q.sqlite3", visibility_timeout=30, max_receives=3, clock=clock
    )
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


def test_receive_returns_at_most_the_batch_size(queue: LocalDurableQueue) -> None:
    for i in range(25):
        queue.send(str(i))
    assert [len(queue.receive(10)) for _ in range(4)] == [10, 10, 5, 0]


def test_a_message_failing_too_often_moves_to_the_dead_letter_table(
    queue: LocalDurableQueue, clock: FakeClock
) -> None:
    queue.send("poison")
    queue.send("good")
    for _ in range(3):  # max_receives=3: received three times, never deleted
        batch = queue.receive(10)
        for m in batch:
            if m.body == "good":
                queue.delete(m.receipt)
        clock.now += 31
    assert queue.receive(10) == []
    [dead] = queue.dead_letters()
    assert (dead.body, dead.receive_count) == ("poison", 3)
    assert queue.depth() == 0


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
