"""In-process implementations of the ports: used by the local mode and by the tests.

Each one records what happened (a fake, not a mock) and is safe to use from several
threads.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from ..domain.model import AlertEvent

log = logging.getLogger(__name__)

# The local mode runs for months: what a fake keeps for tests to read is its most recent
# RECENT_KEPT entries (when there are more, the oldest half goes), not all of them.
RECENT_KEPT = 10_000


def _keep_recent(items: list[Any]) -> None:
    """Drop the oldest half of ``items`` once it holds more than RECENT_KEPT."""
    if len(items) > RECENT_KEPT:
        del items[: len(items) - RECENT_KEPT // 2]


class RecordingMailer:
    """The local mode's mailer when no SMTP server is configured: keeps the recent
    messages (``sent``, at most RECENT_KEPT) and logs each one's recipients, subject and
    text, so password-reset links and alerts can be read from the log during
    development."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.sent.append(message)
            _keep_recent(self.sent)
        body = message.get_body(preferencelist=("plain",))
        log.info(
            "email (not sent: no SMTP_HOST) to=%s subject=%s\n%s",
            message["To"],
            message["Subject"],
            body.get_content() if body is not None else "",
        )


class LocalAlertBus:
    """The local mode's AlertBus: keeps the recent events in ``published`` (at most
    RECENT_KEPT; tests read it) and puts each on ``queue``, a thread-safe queue the local
    alert-delivery worker drains."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.published: list[AlertEvent] = []
        self.queue: queue.Queue[AlertEvent] = queue.Queue()

    def publish(self, events: Sequence[AlertEvent]) -> None:
        with self._lock:
            self.published.extend(events)
            _keep_recent(self.published)
        for event in events:
            self.queue.put(event)


class ManualIngestLag:
    """IngestLag whose answer a test sets: ingestion has caught up to ``at`` (None: it
    is fully caught up, the lag is 0)."""

    def __init__(self, at: datetime | None = None) -> None:
        self.at = at

    def caught_up_to(self, now: datetime) -> datetime:
        return now if self.at is None else min(now, self.at)
