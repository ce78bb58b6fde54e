"""Accept a ping at the edge: validate, give it an id, enqueue. Never touches the DB."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..domain.model import PingMessage
from ..domain.pinging import PingRequest, behind_proxy, parse_ping
from ..domain.targets import Verdict, verdict
from ..errors import NotFound, Unavailable
from ..ports import PingQueue, PingTargets, QueueFull

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


@dataclass(frozen=True, slots=True)
class PingReply:
    """What the edge answers an accepted ping (text/plain)."""

    status: int
    text: str


OK = PingReply(200, "OK")
CREATED = PingReply(201, "Created")


def receive_ping(
    request: PingRequest,
    queue: PingQueue,
    now: datetime,
    targets: PingTargets,
    *,
    trusted_proxies: frozenset[str] = frozenset(),
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> PingReply:
    """The one call an edge makes for a ping request (local server and ping Lambda).

    Parses it (InvalidInput -> 400; a path that is no ping URL -> NotFound, 404), answers
    NotFound ("not found", like Healthchecks) when ``targets`` certainly know no such
    check, else enqueues and answers 200 "OK", or 201 "Created" for a ``?create=1`` ping
    that will create its slug. Unavailable (503) when the queue cannot take it. A request
    from one of ``trusted_proxies`` is recorded with the client address and scheme its
    X-Forwarded-For / X-Forwarded-Proto name.
    """
    message = parse_ping(behind_proxy(request, trusted_proxies), new_id(), now)
    decided = verdict(message, targets.knows)
    if decided is Verdict.NOT_FOUND:
        raise NotFound("not found")
    try:
        queue.enqueue(message)
    except QueueFull as exc:
        raise Unavailable(f"ping queue unavailable: {exc}", QUEUE_FULL_RETRY_AFTER) from exc
    return CREATED if decided is Verdict.CREATE else OK
