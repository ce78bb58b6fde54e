"""Accept a ping at the edge: validate, give it an id, enqueue. Never touches the DB."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from ..domain.model import PingMessage
from ..domain.pinging import PingRequest, parse_ping
from ..errors import Unavailable
from ..ports import PingQueue, QueueFull

# Seconds a client is asked to wait when the queue cannot take a ping.
QUEUE_FULL_RETRY_AFTER = 5


def accept_ping(
    request: PingRequest,
    queue: PingQueue,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> PingMessage:
    """Parse ``request`` and put the resulting ping on ``queue``.

    The ping gets a fresh id here (ingest is idempotent on it) and ``now`` as its
    receive time. Raises InvalidInput for a malformed request and Unavailable (503,
    with ``retry_after``) when the queue cannot take it; whether the check exists is
    only known at ingest, so an unknown id is accepted like any other.
    """
    message = parse_ping(request, new_id(), now)
    try:
        queue.enqueue(message)
    except QueueFull as exc:
        raise Unavailable(f"ping queue unavailable: {exc}", QUEUE_FULL_RETRY_AFTER) from exc
    return message
