"""The ping edge, whatever carries the request: validate, give the ping an id, enqueue,
and the reply. Never touches the database.

The AWS ping function (functions/ping/handler.py) and the local edge (srvpulse/local/
edge.py) both call ``receive_ping`` and answer with the ``PingReply`` it or
``accept_ping`` gives, so what one does to a request the other does too; only how the
request arrives (a Lambda event, an ASGI scope) and how the message is enqueued (SQS,
the local queue's group commit) differ.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.model import MAX_REPORT_BYTES, PingMessage
from ..domain.pinging import PingRequest, parse_ping
from ..errors import InvalidInput
from ..ports import PingQueue, QueueFull

# Seconds a client is asked to wait when the queue cannot take a ping.
QUEUE_FULL_RETRY_AFTER = 5

PING_HEADERS: Mapping[str, str] = {
    "content-type": "text/plain; charset=utf-8",
    # Like Healthchecks: pings may come from browsers, and clients may read the limit.
    "access-control-allow-origin": "*",
    "ping-body-limit": str(MAX_REPORT_BYTES),
}
# A browser sending a JSON completion body (Content-Type: application/json) asks first.
_PREFLIGHT = {
    "access-control-allow-methods": "GET, HEAD, POST",
    "access-control-allow-headers": "content-type",
    "access-control-max-age": "86400",
}


@dataclass(frozen=True, slots=True)
class PingReply:
    """What the edge answers: status, a one-line text, and the headers (PING_HEADERS
    plus ``extra``)."""

    status: int
    text: str
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {**PING_HEADERS, **self.extra}


OK = PingReply(200, "OK")
PREFLIGHT = PingReply(204, "", _PREFLIGHT)
QUEUE_UNAVAILABLE = PingReply(
    503, "service unavailable, try again", {"retry-after": str(QUEUE_FULL_RETRY_AFTER)}
)


def new_ping_id() -> str:
    """A random (version 4) UUID as text, like ``str(uuid.uuid4())`` in a fifth of the
    time: it runs for every accepted ping."""
    h = os.urandom(16).hex()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def receive_ping(
    request: PingRequest,
    now: datetime,
    *,
    new_id: Callable[[], str] = new_ping_id,
    is_unknown: Callable[[PingMessage], bool] | None = None,
) -> PingMessage | PingReply:
    """The ping to enqueue for ``request``, or the reply that ends it here.

    OPTIONS is a CORS preflight (204). A malformed URL, query or completion body is a
    400 with a one-line reason, like Healthchecks. ``is_unknown`` is the seam for a
    snapshot of known ping targets: when it says the target does not exist, the answer
    is 404 without a database round trip; without it every well-formed ping is accepted
    and ingest counts orphans. The ping gets a fresh id (ingest is idempotent on it)
    and ``now`` as its receive time.
    """
    if request.method == "OPTIONS":
        return PREFLIGHT
    try:
        message = parse_ping(request, new_id(), now)
    except InvalidInput as exc:
        return PingReply(400, exc.message)
    if is_unknown is not None and is_unknown(message):
        return PingReply(404, "not found")
    return message


def accept_ping(
    request: PingRequest,
    queue: PingQueue,
    now: datetime,
    new_id: Callable[[], str] = new_ping_id,
) -> PingReply:
    """``receive_ping``, then put the ping on ``queue`` (synchronously): "OK", or 503
    with Retry-After when the queue cannot take it (QueueFull)."""
    received = receive_ping(request, now, new_id=new_id)
    if isinstance(received, PingReply):
        return received
    try:
        queue.enqueue(received)
    except QueueFull:
        return QUEUE_UNAVAILABLE
    return OK
