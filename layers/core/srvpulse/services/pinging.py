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
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..domain.model import MAX_REPORT_BYTES, PingMessage
from ..domain.pinging import PingRequest, behind_proxy, parse_ping
from ..domain.targets import Verdict, verdict
from ..errors import InvalidInput, NotFound
from ..ports import PingQueue, PingTargets, QueueFull

# Seconds a client is asked to wait when the queue cannot take a ping.
QUEUE_FULL_RETRY_AFTER = 5

PING_HEADERS: Mapping[str, str] = {
    "content-type": "text/plain; charset=utf-8",
    # Like Healthchecks: pings may come from browsers, and clients may read the limit.
    "access-control-allow-origin": "*",
    "ping-body-limit": str(MAX_REPORT_BYTES),
    # Like Healthchecks (Django's never_cache): no proxy may answer a ping for us.
    "cache-control": "max-age=0, no-cache, no-store, must-revalidate, private",
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
CREATED = PingReply(201, "Created")  # ?create=1 on a new slug (ingest creates the check)
NOT_FOUND = PingReply(404, "not found")
PREFLIGHT = PingReply(204, "", _PREFLIGHT)
QUEUE_UNAVAILABLE = PingReply(
    503, "service unavailable, try again", {"retry-after": str(QUEUE_FULL_RETRY_AFTER)}
)


def new_ping_id() -> str:
    """A time-ordered (version 7, RFC 9562) UUID as text: the Unix time in milliseconds,
    then 74 random bits. Ids made later sort later, so the idempotency table
    (``ping_receipts``, keyed by the id and kept 15 days) grows at its end instead of
    taking each new id into a random page of its key (bench/receipt_keys.py: towards a
    million receipts on SQLite a batch of 500 went in in 4.0 ms, against 20.9 ms with
    random version 4 ids), and a batch's duplicate lookup reads the same few recent
    pages. Made by hand (it runs for every accepted ping; Python 3.11 has no
    ``uuid.uuid7``)."""
    h = f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


@dataclass(slots=True)
class Admitted:
    """A ping to enqueue, and what to answer once it is queued (OK, or Created). Not
    frozen: one is made for every accepted ping (like PingMessage)."""

    message: PingMessage
    reply: PingReply = OK


def receive_ping(
    request: PingRequest,
    now: datetime,
    *,
    new_id: Callable[[], str] = new_ping_id,
    targets: PingTargets | None = None,
    trusted_proxies: frozenset[str] = frozenset(),
) -> Admitted | PingReply:
    """The ping to enqueue for ``request``, or the reply that ends it here.

    OPTIONS is a CORS preflight (204). A malformed URL, query or completion body is a
    400 with a one-line reason, and a path that is no ping URL a 404, like Healthchecks.
    ``targets`` (the edge's set of known ping targets, domain/targets.py) turn an
    unknown uuid, slug or ping key into 404 "not found" without a database round trip,
    and a ``?create=1`` ping for a new slug of a known project into 201 "Created"; when
    they cannot tell (or are None) every well-formed ping is accepted and ingest counts
    orphans. A request from one of ``trusted_proxies`` is recorded with the client
    address and scheme its X-Forwarded-For / -Proto name. The ping gets a fresh id
    (ingest is idempotent on it) and ``now`` as its receive time.
    """
    if request.method == "OPTIONS":
        return PREFLIGHT
    try:
        message = parse_ping(behind_proxy(request, trusted_proxies), new_id(), now)
    except InvalidInput as exc:
        return PingReply(400, exc.message)
    except NotFound:
        return NOT_FOUND
    decided = Verdict.ACCEPT if targets is None else verdict(message, targets.knows)
    if decided is Verdict.NOT_FOUND:
        return NOT_FOUND
    return Admitted(message, CREATED if decided is Verdict.CREATE else OK)


def accept_ping(
    request: PingRequest,
    queue: PingQueue,
    now: datetime,
    new_id: Callable[[], str] = new_ping_id,
    *,
    targets: PingTargets | None = None,
    trusted_proxies: frozenset[str] = frozenset(),
) -> PingReply:
    """``receive_ping``, then put the ping on ``queue`` (synchronously): its reply, or
    503 with Retry-After when the queue cannot take it (QueueFull)."""
    received = receive_ping(
        request, now, new_id=new_id, targets=targets, trusted_proxies=trusted_proxies
    )
    if isinstance(received, PingReply):
        return received
    try:
        queue.enqueue(received.message)
    except QueueFull:
        return QUEUE_UNAVAILABLE
    return received.reply
