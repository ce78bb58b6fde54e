"""The local edge's group commit: concurrent pings share commits (one fsync for many),
each enqueue returns only once its commit is durable, and a commit the queue file
refuses fails every ping in it (they are answered 503, never "OK")."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from srvpulse.adapters.local_queue import LocalDurableQueue
from srvpulse.domain.model import PingKind, PingMessage
from srvpulse.local.edge import GroupCommitQueue
from srvpulse.ports import QueueFull


def _ping(n: int) -> PingMessage:
    return PingMessage(
        ping_id=str(uuid.uuid4()),
        received_at=datetime.now(UTC),
        kind=PingKind.SUCCESS,
        check_uuid=str(uuid.uuid4()),
        body=f"ping {n}",
    )


def test_concurrent_pings_share_commits_and_each_is_stored_once(tmp_path: Path) -> None:
    queue = LocalDurableQueue(tmp_path / "queue.sqlite3")
    group = GroupCommitQueue(queue)

    async def burst() -> None:
        await asyncio.gather(*(group.enqueue(_ping(n)) for n in range(500)))

    asyncio.run(burst())
    group.close()
    bodies = sorted(PingMessage.from_json(m.body).body for m in queue.receive(1000))
    assert bodies == sorted(f"ping {n}" for n in range(500))
    assert group.pings == 500 and group.commits < 500 / 10


def test_an_enqueue_returns_only_after_its_ping_is_in_the_queue_file(tmp_path: Path) -> None:
    queue = LocalDurableQueue(tmp_path / "queue.sqlite3")
    group = GroupCommitQueue(queue)
    seen_by_another_connection: list[int] = []

    async def one() -> None:
        await group.enqueue(_ping(1))
        other = sqlite3.connect(tmp_path / "queue.sqlite3")
        seen_by_another_connection.append(
            other.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        )
        other.close()

    asyncio.run(one())
    group.close()
    assert seen_by_another_connection == [1]


def test_a_commit_the_queue_file_refuses_fails_every_ping_in_it(tmp_path: Path) -> None:
    queue = LocalDurableQueue(tmp_path / "queue.sqlite3", busy_timeout=0.2)
    group = GroupCommitQueue(queue)
    blocker = sqlite3.connect(tmp_path / "queue.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the file

    async def burst() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(group.enqueue(_ping(n)) for n in range(20)), return_exceptions=True
        )
        return list(results)

    try:
        results = asyncio.run(burst())
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    group.close()
    assert all(isinstance(r, QueueFull) for r in results)
    assert queue.depth() == 0


class HeldSync(LocalDurableQueue):
    """The real queue, whose fsync waits until the test lets it go (or fails)."""

    def __init__(self, path: Path, *, fail: bool = False) -> None:
        super().__init__(path)
        self.go = threading.Event()
        self.fail = fail

    def sync(self) -> None:
        self.go.wait()
        if self.fail:
            raise QueueFull("local queue: disk I/O error")
        super().sync()


def _rows(path: Path) -> int:
    other = sqlite3.connect(path)
    try:
        return int(other.execute("SELECT COUNT(*) FROM messages").fetchone()[0])
    finally:
        other.close()


def test_a_committed_ping_is_answered_only_after_the_fsync_that_follows(tmp_path: Path) -> None:
    queue = HeldSync(tmp_path / "queue.sqlite3")
    group = GroupCommitQueue(queue)

    async def one() -> tuple[int, bool, bool]:
        answered = asyncio.ensure_future(group.enqueue(_ping(1)))
        while _rows(tmp_path / "queue.sqlite3") == 0:  # committed, not yet synced
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        before = answered.done()
        queue.go.set()
        await answered
        return _rows(tmp_path / "queue.sqlite3"), before, answered.done()

    rows, answered_before_the_fsync, answered_after = asyncio.run(one())
    group.close()
    assert (rows, answered_before_the_fsync, answered_after) == (1, False, True)


def test_a_failed_fsync_fails_every_ping_waiting_for_it(tmp_path: Path) -> None:
    queue = HeldSync(tmp_path / "queue.sqlite3", fail=True)
    queue.go.set()
    group = GroupCommitQueue(queue)

    async def burst() -> list[BaseException | None]:
        results = await asyncio.gather(
            *(group.enqueue(_ping(n)) for n in range(20)), return_exceptions=True
        )
        return list(results)

    results = asyncio.run(burst())
    group.close()
    assert all(isinstance(r, QueueFull) for r in results)
