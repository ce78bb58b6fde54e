"""A durable local message queue on an SQLite file (the local mode's stand-in for SQS).

Semantics follow SQS + a dead-letter queue: a message survives a crash once ``send``
returns (WAL + synchronous=FULL: the commit is on disk); ``receive`` hides messages for a
visibility timeout and counts receives; ``delete`` acknowledges; a message received
``max_receives`` times without being deleted moves to the ``dead_letters`` table on its
next receive. Plain ``sqlite3`` (no SQLAlchemy): the ping path must stay light, and this
file is separate from the main database so queue traffic never contends with it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
CREATE INDEX IF NOT EXISTS messages_receipt ON messages (receipt);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at REAL NOT NULL,
    receive_count INTEGER NOT NULL,
    dead_at REAL NOT NULL
);
"""


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


class LocalDurableQueue:
    """Durable, thread-safe queue in one SQLite file. Implements the PingQueue port.

    One connection guarded by a lock: SQLite serializes writers anyway, and the lock
    keeps busy-waiting out of the picture. ``busy_timeout`` bounds how long a send can
    wait for another process holding the file; past it the send raises QueueFull.
    """

    def __init__(
        self,
        path: Path,
        *,
        visibility_timeout: float = 30.0,
        max_receives: int = 5,
        busy_timeout: float = 2.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.visibility_timeout = visibility_timeout
        self.max_receives = max_receives
        self._clock = clock
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._conn = sqlite3.connect(
            str(path), timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # FULL: every commit is fsynced, so an acknowledged ping survives power loss too.
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    # --- producer side -------------------------------------------------------------------
    def enqueue(self, message: PingMessage) -> None:
        """PingQueue port: store the ping durably, or raise QueueFull."""
        self.send(message.to_json())

    def send(self, body: str) -> str:
        message_id = str(uuid.uuid4())
        now = self._clock()
        try:
            with self._lock:
                self._conn.execute(
                    "INSERT INTO messages (message_id, body, sent_at, visible_at) "
                    "VALUES (?, ?, ?, ?)",
                    (message_id, body, now, now),
                )
        except sqlite3.Error as exc:  # locked past busy_timeout, disk full, read-only...
            raise QueueFull(f"local queue: {exc}") from exc
        self._wake.set()
        return message_id

    # --- consumer side -------------------------------------------------------------------
    def receive(
        self, max_messages: int = 10, visibility_timeout: float | None = None
    ) -> list[ReceivedMessage]:
        """Up to ``max_messages`` visible messages, hidden for the visibility timeout.
        Messages already received ``max_receives`` times are dead-lettered instead."""
        vt = self.visibility_timeout if visibility_timeout is None else visibility_timeout
        now = self._clock()
        out: list[ReceivedMessage] = []
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = self._conn.execute(
                    "SELECT id, message_id, body, sent_at, receive_count FROM messages "
                    "WHERE visible_at <= ? ORDER BY visible_at, id LIMIT ?",
                    (now, max_messages * 2),
                ).fetchall()
                for row_id, message_id, body, sent_at, count in rows:
                    if count >= self.max_receives:
                        self._conn.execute(
                            "INSERT INTO dead_letters "
                            "(message_id, body, sent_at, receive_count, dead_at) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (message_id, body, sent_at, count, now),
                        )
                        self._conn.execute("DELETE FROM messages WHERE id = ?", (row_id,))
                        continue
                    if len(out) >= max_messages:
                        continue
                    receipt = uuid.uuid4().hex
                    self._conn.execute(
                        "UPDATE messages SET visible_at = ?, receive_count = ?, receipt = ? "
                        "WHERE id = ?",
                        (now + vt, count + 1, receipt, row_id),
                    )
                    out.append(ReceivedMessage(message_id, receipt, body, count + 1, sent_at))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return out

    def delete(self, receipt: str) -> bool:
        """Acknowledge a received message; False when the receipt is stale."""
        with self._lock:
            cur = self._conn.execute("DELETE FROM messages WHERE receipt = ?", (receipt,))
        return cur.rowcount > 0

    def delete_batch(self, receipts: list[str]) -> int:
        """Acknowledge several received messages in one commit (like SQS's
        DeleteMessageBatch): one fsync instead of one per message. Returns how many were
        deleted (stale receipts delete nothing)."""
        if not receipts:
            return 0
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                cur = self._conn.executemany(
                    "DELETE FROM messages WHERE receipt = ?", [(r,) for r in receipts]
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return cur.rowcount

    def change_visibility(self, receipt: str, seconds: float) -> bool:
        """Make a received message visible again after ``seconds`` (retry back-off)."""
        with self._lock:
            cur = self._conn.execute(
                "UPDATE messages SET visible_at = ? WHERE receipt = ?",
                (self._clock() + seconds, receipt),
            )
        return cur.rowcount > 0

    def wait(self, timeout: float) -> None:
        """Sleep until something is sent in this process or ``timeout`` passes."""
        self._wake.wait(timeout)
        self._wake.clear()

    # --- inspection ----------------------------------------------------------------------
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

    def dead_letters(self) -> list[DeadLetter]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT message_id, body, receive_count, sent_at, dead_at "
                "FROM dead_letters ORDER BY id"
            ).fetchall()
        return [DeadLetter(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
