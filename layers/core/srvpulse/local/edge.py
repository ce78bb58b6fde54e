"""The local mode's HTTP edge: one ASGI application (served by granian, see runner.py).

- ``/ping/...``: the ping service the AWS ping function calls
  (``services.pinging.receive_ping``), straight from the ASGI scope, then the local
  queue through a group commit: every ping that arrives while a commit is being written
  waits for the next one, so N concurrent pings cost one fsync, and each is answered
  "OK" only once the commit that holds it is on disk.
- anything else: the API Gateway emulator (gateway.py) and the Chalice app, in a small
  thread pool (the app is synchronous), or the dashboard's files.

Nothing here blocks the event loop: the queue commit and the API run in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from queue import SimpleQueue
from typing import Any
from urllib.parse import parse_qsl

from ..adapters.local_queue import LocalDurableQueue
from ..domain.model import PingMessage
from ..domain.pinging import PingRequest
from ..ports import PingTargets, QueueFull
from ..services.pinging import OK, QUEUE_UNAVAILABLE, PingReply, receive_ping
from .gateway import MAX_BODY_BYTES, ApiGatewayEmulator, HttpReply, HttpRequest, json_reply
from .spa import SpaFiles

log = logging.getLogger("srvpulse.local.edge")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PING_PREFIX = "/ping/"
# Threads for the (synchronous) management API; pings never wait for them.
API_THREADS = 8
# A group commit holds at most this many pings (bounds one commit's latency).
MAX_COMMIT_BATCH = 5000


class GroupCommitQueue:
    """Puts pings on the durable local queue, many concurrent ones in one commit.

    ``enqueue`` returns once the commit holding the ping is durable (fsynced), or
    raises QueueFull when that commit failed. One commit is written at a time, by a
    thread of its own; pings arriving meanwhile form the next batch, handed over as
    soon as the commit before it is done.

    Per batch, not per ping: one hand-over to the thread (a SimpleQueue put) and one
    back (``call_soon_threadsafe``); the event loop does no other work for the commit.
    """

    def __init__(self, queue: LocalDurableQueue) -> None:
        self.queue = queue
        self._bodies: list[str] = []
        self._waiters: list[asyncio.Future[None]] = []
        # True from the moment a commit is scheduled until the last batch is written.
        self._busy = False
        self._batches: SimpleQueue[_Batch | None] = SimpleQueue()
        self._writer: threading.Thread | None = None
        self.commits = 0
        self.pings = 0

    async def enqueue(self, message: PingMessage) -> None:
        body = message.to_json()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._bodies.append(body)
        self._waiters.append(done)
        if not self._busy:
            # After the callbacks already due: the pings that arrived with this one
            # join its commit.
            self._busy = True
            loop.call_soon(self._hand_over, loop)
        await done

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        """On the event loop: give the pings waiting to the commit thread, if any."""
        if not self._bodies:
            self._busy = False
            return
        bodies, waiters = self._bodies[:MAX_COMMIT_BATCH], self._waiters[:MAX_COMMIT_BATCH]
        del self._bodies[:MAX_COMMIT_BATCH], self._waiters[:MAX_COMMIT_BATCH]
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_forever, name="queue-commit", daemon=True
            )
            self._writer.start()
        self._batches.put(_Batch(loop, bodies, waiters))

    def _write_forever(self) -> None:
        """The commit thread: write each batch, then tell the event loop."""
        while (batch := self._batches.get()) is not None:
            error: Exception | None = None
            try:
                self.queue.send_batch(batch.bodies)
            except Exception as exc:  # QueueFull, or anything else: none was stored
                error = exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits
                batch.loop.call_soon_threadsafe(self._committed, batch, error)

    def _committed(self, batch: _Batch, error: Exception | None) -> None:
        """On the event loop: answer the batch's pings, then hand over the next one."""
        if error is None:
            self.commits += 1
            self.pings += len(batch.waiters)
            for done in batch.waiters:
                if not done.done():  # the client may have gone; the ping is kept
                    done.set_result(None)
        else:
            log.error("local queue refused %d pings: %s", len(batch.waiters), error)
            refused = error if isinstance(error, QueueFull) else QueueFull(str(error))
            for done in batch.waiters:
                if not done.done():
                    done.set_exception(refused)
        self._hand_over(batch.loop)

    def close(self) -> None:
        if self._writer is not None:
            self._batches.put(None)
            self._writer.join()
            self._writer = None
        if self.commits:
            log.info(
                "group commit: %d pings in %d commits (%.1f a commit)",
                self.pings,
                self.commits,
                self.pings / self.commits,
            )


@dataclass(frozen=True, slots=True)
class _Batch:
    """Pings handed to the commit thread: their bodies, and who waits for them where."""

    loop: asyncio.AbstractEventLoop
    bodies: list[str]
    waiters: list[asyncio.Future[None]]


class LocalEdge:
    """The ASGI application of the local mode."""

    def __init__(
        self,
        queue: GroupCommitQueue,
        gateway: ApiGatewayEmulator,
        *,
        spa: SpaFiles | None = None,
        targets: PingTargets | None = None,
        trusted_proxies: frozenset[str] = frozenset(),
        api_threads: int = API_THREADS,
    ) -> None:
        self.queue = queue
        self.gateway = gateway
        self.spa = spa  # the dashboard's files, answered before any route (local/spa.py)
        self.targets = targets  # the known ping targets (404 for unknown checks)
        self.trusted_proxies = trusted_proxies
        self._api = ThreadPoolExecutor(api_threads, thread_name_prefix="api")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"].startswith(PING_PREFIX):
                await self._ping(scope, receive, send)
            else:
                await self._other(scope, receive, send)
        elif kind == "lifespan":
            await _lifespan(receive, send)
        # websockets: not served (the connection is refused by not accepting it)

    # --- the ping path ---------------------------------------------------------------
    async def _ping(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(scope, receive, MAX_BODY_BYTES)
        if body is None:
            await _send_reply(send, scope, json_reply(413, b'{"error": "request body too large"}'))
            return
        request = ping_request_from_scope(scope, body)
        received = receive_ping(
            request,
            datetime.now(UTC),
            targets=self.targets,
            trusted_proxies=self.trusted_proxies,
        )
        if not isinstance(received, PingReply):
            try:
                await self.queue.enqueue(received.message)
                reply = received.reply
            except QueueFull:
                reply = QUEUE_UNAVAILABLE
        else:
            reply = received
        await _send_ping_reply(send, scope, reply)

    # --- the API and the dashboard -----------------------------------------------------
    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(scope, receive, MAX_BODY_BYTES)
        if body is None:
            await _send_reply(send, scope, json_reply(413, b'{"error": "request body too large"}'))
            return
        request = http_request_from_scope(scope, body)
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(self._api, self._serve_other, request)
        await _send_reply(send, scope, reply)

    def _serve_other(self, request: HttpRequest) -> HttpReply:
        if self.spa is not None:
            if_none_match = next(
                (v for k, v in request.headers if k.lower() == "if-none-match"), None
            )
            page = self.spa.answer(request.method, request.path, if_none_match)
            if page is not None:
                headers = [(k, v) for k, v in page.headers.items() if k.lower() != "content-length"]
                body = page.content()
                return HttpReply(page.status, [*headers, ("Content-Length", str(len(body)))], body)
        return self.gateway.handle(request)

    def close(self) -> None:
        self._api.shutdown(wait=False, cancel_futures=True)
        self.queue.close()


def ping_request_from_scope(scope: Scope, body: bytes) -> PingRequest:
    """An ASGI request to ``/ping/...`` as the PingRequest the ping function builds from
    its event (functions/ping/handler.request_from_event): lower-case header names,
    the first value of each query parameter, the path relative to /ping/."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    query: dict[str, str] = {}
    raw_query: bytes = scope.get("query_string", b"")
    if raw_query:
        for key, value in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True):
            query.setdefault(key, value)
    client = scope.get("client")
    scheme: str = headers.get("x-forwarded-proto") or scope.get("scheme") or "http"
    return PingRequest(
        method=scope["method"],
        path=_decoded_path(scope)[len(PING_PREFIX) :],
        query=query,
        headers=headers,
        body=body,
        remote_addr=client[0] if client else "",
        scheme=scheme.split(",")[0].strip(),
    )


def http_request_from_scope(scope: Scope, body: bytes) -> HttpRequest:
    client = scope.get("client")
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    return HttpRequest(
        method=scope["method"].upper(),
        path=_decoded_path(scope),
        raw_path=raw_path.decode("latin-1").split("?", 1)[0],
        query_string=scope.get("query_string", b"").decode("latin-1"),
        # API Gateway passes the client's header names; ASGI lower-cases them.
        headers=[(n.decode("latin-1").title(), v.decode("latin-1")) for n, v in scope["headers"]],
        body=body,
        source_ip=client[0] if client else "",
        scheme=scope.get("scheme", "http"),
        protocol=f"HTTP/{scope.get('http_version', '1.1')}",
    )


def _decoded_path(scope: Scope) -> str:
    path: str = scope["path"]
    # Servers decode the percent-escapes as latin-1 or UTF-8; URLs are UTF-8, and an
    # invalid sequence becomes U+FFFD rather than an error.
    try:
        return path.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return path


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None when it is longer than ``limit``."""
    has_body = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            if value.isdigit() and int(value) > limit:
                return None
            has_body = value != b"0"
        elif name == b"transfer-encoding":
            has_body = True
    if not has_body:  # most pings: a GET without a body; no round trip to the server
        return b""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk: bytes = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _encoded(reply: PingReply) -> list[tuple[bytes, bytes]]:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()]
    headers.append((b"content-length", str(len(reply.text.encode("utf-8"))).encode("ascii")))
    return headers


_OK_HEADERS = _encoded(OK)  # the answer to nearly every ping, encoded once


async def _send_ping_reply(send: Send, scope: Scope, reply: PingReply) -> None:
    body = reply.text.encode("utf-8")
    headers = _OK_HEADERS if reply is OK else _encoded(reply)
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _send_reply(send: Send, scope: Scope, reply: HttpReply) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    body = b"" if scope["method"] == "HEAD" else reply.body
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
