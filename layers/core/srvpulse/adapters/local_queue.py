"""A durable local message queue on an SQLite file (the local mode's stand-in for SQS).

Semantics follow SQS: a message survives a crash once ``send``/``send_batch`` returns
(WAL, and the log fsynced after the commit, so kill -9 and power loss keep it);
``receive`` hides messages for a visibility timeout and counts receives; ``delete``
acknowledges; ``change_visibility`` schedules a retry. Unlike an SQS redrive policy, the
queue never gives up on a message by itself: only the consumer decides that a message can
never be processed and moves it to ``dead_letters`` (``dead_letter``), from where
``redrive`` puts it back. Plain ``sqlite3`` (no SQLAlchemy): the ping path must stay
light, and this file is separate from the main database so queue traffic never contends
with it.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # not POSIX: SQLite's own locking alone
    fcntl = None  # type: ignore[assignment]

from ..domain.model import PingMessage
from ..ports import QueueFull

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (visible_at, id);
-- Only received messages have a receipt: the edge's inserts add no entry here.
CREATE INDEX IF NOT EXISTS messages_received ON messages (receipt) WHERE receipt IS NOT NULL;
DROP INDEX IF EXISTS messages_receipt;
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at REAL NOT NULL,
    receive_count INTEGER NOT NULL,
    dead_at REAL NOT NULL
);
"""

# Rows of one multi-row INSERT at most (2 parameters a row, far below SQLite's limit).
_MAX_ROWS_A_STATEMENT = 64


@functools.cache
def _insert_statement(rows: int) -> str:
    """INSERT of ``rows`` messages: ?1 is the time sent (and visible); then each row's
    message id and body."""
    values = ",".join(f"(?{2 * i + 2},?{2 * i + 3},?1,?1)" for i in range(rows))
    # Only placeholders go into the text; the values are bound.
    return f"INSERT INTO messages (message_id, body, sent_at, visible_at) VALUES {values}"  # noqa: S608


# A receive: the oldest visible messages, hidden for the visibility timeout (?1), counted,
# each given a receipt (?2, the receive's prefix, and the row id); ?3 is now, ?4 how many.
_RECEIVE = """
UPDATE messages SET visible_at = ?1, receive_count = receive_count + 1, receipt = ?2 || id
WHERE id IN (
    SELECT id FROM messages WHERE visible_at <= ?3 ORDER BY visible_at, id LIMIT ?4
)
RETURNING id, message_id, receipt, body, receive_count, sent_at
"""

# An acknowledgement of many messages at once: the receipts as one JSON array (?1), so a
# batch is one statement (one step), whatever its size.
_DELETE_RECEIPTS = "DELETE FROM messages WHERE receipt IN (SELECT value FROM json_each(?1))"


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    message_id: str  # stable for the message's whole life, like SQS's MessageId
    receipt: str  # changes on every receive; needed to delete
    body: str
    receive_count: int  # 1 on the first receive
    sent_at: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message_id: str
    body: str
    receive_count: int
    sent_at: float
    dead_at: float
    reason: str


@dataclass(frozen=True, slots=True)
class QueueStats:
    queued: int  # not yet deleted: visible, in flight or waiting for a retry
    visible: int  # ready to be received now
    retrying: int  # received before and not yet deleted (a failed attempt or in flight)
    dead_letters: int
    oldest_enqueued_at: float | None  # epoch seconds


class LocalDurableQueue:
    """Durable, thread-safe queue in one SQLite file. Implements the PingQueue port.

    One connection guarded by a lock: SQLite serializes writers anyway, and the lock
    keeps busy-waiting out of the picture. ``busy_timeout`` bounds how long a send can
    wait for another process holding the file; past it the send raises QueueFull.
    Several processes may open the same file (the HTTP edge sends, the ingest process
    receives, ``srvpulse queue`` inspects and redrives).
    """

    def __init__(
        self,
        path: Path,
        *,
        visibility_timeout: float = 30.0,
        busy_timeout: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.visibility_timeout = visibility_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._conn = sqlite3.connect(
            str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL: commits do not wait for the disk; a send fsyncs the log itself, after
        # its commit and outside the write lock (_sync_wal), so an acknowledged ping
        # survives power loss. Everything the consumer does needs no fsync: a receive,
        # an acknowledgement or a retry lost to a power cut only means a redelivery,
        # which ingest ignores (idempotent on the ping id); a dead-letter move is one
        # transaction either way.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._lock_file = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        self._wal_lock = threading.Lock()
        self._wal_fd: int | None = None
        self._conn.executescript(_SCHEMA)
        columns = {row[1] for row in self._conn.execute("PRAGMA table_info(dead_letters)")}
        if "reason" not in columns:  # queue files written before reasons were kept
            self._conn.execute(
                "ALTER TABLE dead_letters ADD COLUMN reason TEXT NOT NULL DEFAULT ''"
            )

    # --- producer side -------------------------------------------------------------------
    def enqueue(self, message: PingMessage) -> None:
        """PingQueue port: store the ping durably, or raise QueueFull."""
        self.send(message.to_json())

    def send(self, body: str) -> str:
        """Store one message durably (one commit); returns its message id."""
        return self.send_batch([body])[0]

    def send_batch(self, bodies: Sequence[str]) -> list[str]:
        """Store several messages in ONE commit (one fsync): the group commit of the
        ping edge. All or none are stored, in order; raises QueueFull when the file
        refuses (locked past ``busy_timeout``, disk full, read-only).

        The rows go in as multi-row INSERTs of up to 64 rows (``_insert_rows``), not
        ``executemany``: the sqlite3 module lets go of the GIL around every statement
        step and ``executemany`` steps once per row, so a batch of 50 had this thread
        wait 50 times to take the GIL back from the busy event loop; now it is a few
        statements a batch (and 40 % fewer instructions a row). Message ids are a
        random prefix per batch and the message's place in it: unique like uuid4s,
        without a uuid4 per message."""
        if not bodies:
            return []
        ids = self.commit_batch(bodies)
        self.sync()
        return ids

    def commit_batch(self, bodies: Sequence[str]) -> list[str]:
        """``send_batch`` without its fsync: committed (a consumer may receive them),
        but durable only once ``sync`` returns. For a producer that syncs one commit
        while it writes the next (the edge's group commit)."""
        if not bodies:
            return []
        now = self._clock()
        h = os.urandom(10).hex()
        prefix = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:]}-"
        ids = [f"{prefix}{i:012x}" for i in range(len(bodies))]
        try:
            # Committed without waiting for the disk, then the WAL fsynced outside the
            # lock (see _sync_wal): the ingest process may write meanwhile.
            with self._writing():
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    self._insert_rows(ids, bodies, now)
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, OSError) as exc:
            raise QueueFull(f"local queue: {exc}") from exc
        self._wake.set()
        return ids

    def sync(self) -> None:
        """Make every commit made so far durable (``_sync_wal``); QueueFull if the
        disk refuses."""
        try:
            self._sync_wal()
        except OSError as exc:
            raise QueueFull(f"local queue: {exc}") from exc

    def _insert_rows(self, ids: Sequence[str], bodies: Sequence[str], now: float) -> None:
        """INSERT the messages in statements of 64, 32, ... 1 rows (a power of two each,
        so a handful of distinct statements, all kept prepared by sqlite3's cache)."""
        done, total = 0, len(bodies)
        while done < total:
            rows = min(_MAX_ROWS_A_STATEMENT, 1 << ((total - done).bit_length() - 1))
            params: list[object] = [now]
            for i in range(done, done + rows):
                params += (ids[i], bodies[i])
            self._conn.execute(_insert_statement(rows), params)
            done += rows

    def _sync_wal(self) -> None:
        """Make everything committed so far durable: fsync the write-ahead log.

        Why this is enough, and why outside the write lock: a commit in WAL mode appends
        its frames to the -wal file; once that file is fsynced the commit survives a
        power cut. Frames that a checkpoint already copied into the database file are
        durable through the checkpoint's own fsyncs (synchronous=NORMAL syncs the WAL
        before and the database after each checkpoint), and the log is only rewound
        after such a checkpoint. Holding the lock through the fsync (what FULL does)
        made the ingest process wait 3-5 ms behind every group commit."""
        with self._wal_lock:
            fd = self._wal_fd
            if fd is not None and os.fstat(fd).st_nlink == 0:
                # The log was checkpointed and removed (every connection closed once):
                # what it held is in the database file, synced; follow the new one.
                os.close(fd)
                fd = self._wal_fd = None
            if fd is None:
                fd = self._wal_fd = os.open(str(self.path) + "-wal", os.O_RDONLY)
                # A new -wal file: make its directory entry durable too.
                dir_fd = os.open(str(self.path.parent), os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
            os.fsync(fd)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Hold the right to write: this process's lock, then the file lock the other
        processes take too (the HTTP edge sends, the ingest process receives).

        Why a file lock when SQLite has its own: a writer that finds SQLite's lock taken
        sleeps 1, 2, 5, 10... ms before it looks again, so under load the edge's group
        commits waited up to 500 ms behind the ingest process's short transactions;
        ``flock`` wakes the waiter the moment the lock is free.
        """
        with self._lock:
            if fcntl is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    # --- consumer side -------------------------------------------------------------------
    def receive(
        self, max_messages: int = 10, visibility_timeout: float | None = None
    ) -> list[ReceivedMessage]:
        """Up to ``max_messages`` visible messages, oldest first, each hidden for the
        visibility timeout and given a new receipt."""
        vt = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        now = self._clock()
        # One statement under the write lock (the edge's group commits wait for it):
        # the receipts are a random prefix per receive and the row's id, unique like
        # uuid4s, made by SQLite itself instead of one uuid4 and one UPDATE per message.
        # The rows come back in no set order: sorted by id, the order they were sent.
        prefix = os.urandom(12).hex() + "-"
        with self._writing():
            rows = self._conn.execute(_RECEIVE, (now + vt, prefix, now, max_messages)).fetchall()
        rows.sort()
        return [
            ReceivedMessage(message_id, receipt, body, count, sent_at)
            for _, message_id, receipt, body, count, sent_at in rows
        ]

    def delete(self, receipt: str) -> bool:
        """Acknowledge a received message; False when the receipt is stale."""
        return self.delete_batch([receipt]) > 0

    def delete_batch(self, receipts: Sequence[str]) -> int:
        """Acknowledge several received messages in one commit (like SQS's
        DeleteMessageBatch): one fsync instead of one per message. Returns how many were
        deleted (stale receipts delete nothing)."""
        if not receipts:
            return 0
        with self._writing():
            cur = self._conn.execute(_DELETE_RECEIPTS, (json.dumps(list(receipts)),))
        return cur.rowcount

    def change_visibility(self, receipt: str, seconds: float) -> bool:
        """Make a received message visible again after ``seconds`` (retry back-off)."""
        with self._writing():
            cur = self._conn.execute(
                "UPDATE messages SET visible_at = ? WHERE receipt = ?",
                (self._clock() + seconds, receipt),
            )
        return cur.rowcount > 0

    def retry_now(self) -> int:
        """Make every message waiting for a retry visible at once (the consumer saw its
        dependency recover); messages in flight keep their receipt but may be received
        again, which an idempotent consumer ignores. Returns how many were moved."""
        now = self._clock()
        with self._writing():
            cur = self._conn.execute(
                "UPDATE messages SET visible_at = ? WHERE receive_count > 0 AND visible_at > ?",
                (now, now),
            )
        return cur.rowcount

    def dead_letter(self, receipt: str, reason: str) -> bool:
        """Move a received message that can never be processed to ``dead_letters`` (one
        commit). False when the receipt is stale."""
        now = self._clock()
        with self._writing():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.execute(
                    "INSERT INTO dead_letters "
                    "(message_id, body, sent_at, receive_count, dead_at, reason) "
                    "SELECT message_id, body, sent_at, receive_count, ?, ? FROM messages "
                    "WHERE receipt = ?",
                    (now, reason[:500], receipt),
                )
                self._conn.execute("DELETE FROM messages WHERE receipt = ?", (receipt,))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return cur.rowcount > 0

    def redrive(self, batch_size: int = 500) -> int:
        """Move up to ``batch_size`` dead letters back into the queue, oldest first, in
        one commit (they are gone from ``dead_letters`` exactly when they are queued
        again, so a redrive interrupted or run twice never duplicates a message). Each
        keeps its message id and counts as enqueued now (the lag watermark must not
        jump back to when it first failed). Returns how many moved; call until 0."""
        now = self._clock()
        with self._writing():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = self._conn.execute(
                    "SELECT id, message_id, body FROM dead_letters ORDER BY id LIMIT ?",
                    (batch_size,),
                ).fetchall()
                self._conn.executemany(
                    "INSERT INTO messages (message_id, body, sent_at, visible_at) "
                    "VALUES (?, ?, ?, ?)",
                    [(message_id, body, now, now) for _, message_id, body in rows],
                )
                self._conn.executemany(
                    "DELETE FROM dead_letters WHERE id = ?", [(row_id,) for row_id, _, _ in rows]
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        if rows:
            self._wake.set()
        return len(rows)

    def wait(self, timeout: float) -> None:
        """Sleep until something is sent in this process or ``timeout`` passes."""
        self._wake.wait(timeout)
        self._wake.clear()

    # --- inspection ----------------------------------------------------------------------
    def sent_count(self) -> int:
        """How many messages were ever sent to this queue (redriven ones count again):
        the highest id handed out (AUTOINCREMENT never reuses one), so the difference
        between two looks is how many arrived in between, whatever was deleted."""
        with self._lock:
            row = self._conn.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = 'messages'"
            ).fetchone()
        return 0 if row is None else int(row[0])

    def oldest_enqueued_at(self) -> float | None:
        """When the oldest message not yet deleted was enqueued (epoch seconds), messages
        in flight or waiting for a retry included; None when the queue is empty. The
        ingestion-lag watermark: every ping received before this time is ingested."""
        with self._lock:
            # Ids grow with enqueue time (redriven messages get a new id and time), so
            # the smallest id is the oldest: one rowid lookup, no scan.
            row = self._conn.execute("SELECT sent_at FROM messages ORDER BY id LIMIT 1").fetchone()
        return None if row is None else float(row[0])

    def depth(self) -> int:
        """Messages not yet deleted (visible or in flight)."""
        with self._lock:
            row = self._conn.execute("SELECT COUNT(*) FROM messages").fetchone()
        return int(row[0])

    def visible_depth(self) -> int:
        with self._lock:
            row = self._conn.execute(
                "SELECT COUNT(*) FROM messages WHERE visible_at <= ?", (self._clock(),)
            ).fetchone()
        return int(row[0])

    def stats(self) -> QueueStats:
        now = self._clock()
        with self._lock:
            queued, visible, retrying = self._conn.execute(
                "SELECT COUNT(*), COALESCE(SUM(visible_at <= ?), 0), "
                "COALESCE(SUM(receive_count > 0), 0) FROM messages",
                (now,),
            ).fetchone()
            (dead,) = self._conn.execute("SELECT COUNT(*) FROM dead_letters").fetchone()
        return QueueStats(
            int(queued), int(visible), int(retrying), int(dead), self.oldest_enqueued_at()
        )

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT message_id, body, receive_count, sent_at, dead_at, reason "
                "FROM dead_letters ORDER BY id"
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
            os.close(self._lock_file)
            if self._wal_fd is not None:
                os.close(self._wal_fd)
