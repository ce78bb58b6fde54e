"""The local mode's HTTP edge: one RSGI application (served by granian, see runner.py).

- ``/ping/...``: the ping service the AWS ping function calls
  (``services.pinging.receive_ping``), straight from the RSGI scope, then the local
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
from collections.abc import AsyncIterator, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from queue import SimpleQueue
from typing import Any, Protocol
from urllib.parse import parse_qsl

# granian's public RSGI module (it re-exports the class without `X as X`, hence the ignore).
from granian.rsgi import ProtocolClosed  # type: ignore[attr-defined]

from ..adapters.local_queue import LocalDurableQueue
from ..domain.model import PingMessage
from ..domain.pinging import PingRequest
from ..ports import PingTargets, QueueFull
from ..services.pinging import OK, QUEUE_UNAVAILABLE, PingReply, receive_ping
from .gateway import MAX_BODY_BYTES, ApiGatewayEmulator, HttpReply, HttpRequest, json_reply
from .spa import SpaFiles

log = logging.getLogger("srvpulse.local.edge")


class Headers(Protocol):
    """What the edge reads of an RSGI request's headers (granian's header map; names
    are looked up case-insensitively)."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def get_all(self, key: str) -> list[str]: ...
    def keys(self) -> list[str]: ...
    def items(self) -> list[tuple[str, str]]: ...
    def __contains__(self, key: str) -> bool: ...


class Scope(Protocol):
    """What the edge reads of an RSGI request's scope."""

    proto: str
    http_version: str
    client: str  # "127.0.0.1:5555", "[::1]:5555"
    scheme: str
    method: str
    path: str  # percent-escapes decoded as UTF-8 (invalid ones: U+FFFD)
    query_string: str

    @property
    def headers(self) -> Headers: ...


class HTTPProtocol(Protocol):
    """What the edge uses of an RSGI request's protocol: the body, and the reply."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...
    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None: ...


PING_PREFIX = "/ping/"
# Threads for the (synchronous) management API; pings never wait for them.
API_THREADS = 8
# A group commit holds at most this many pings (bounds one commit's latency).
MAX_COMMIT_BATCH = 5000


class GroupCommitQueue:
    """Puts pings on the durable local queue, many concurrent ones in one commit.

    ``enqueue`` returns once the commit holding the ping is durable (fsynced), or
    raises QueueFull when that commit failed. One commit is written at a time, by a
    thread of its own; pings arriving meanwhile form the next batch, which that thread
    takes itself the moment the commit before it is durable: the event loop is not on
    the way from one commit to the next (it only hears, once per batch, which pings
    to answer).

    Per batch, not per ping: one ``call_soon_threadsafe`` back to the event loop; a
    wake-up of the thread (a SimpleQueue put) only when it was idle. Per ping: two
    appends under an uncontended lock.
    """

    def __init__(self, queue: LocalDurableQueue) -> None:
        self.queue = queue
        self._lock = threading.Lock()  # guards the pending pings and ``_idle``
        self._bodies: list[str] = []
        self._waiters: list[asyncio.Future[None]] = []
        # True while the commit thread waits for pings (or has not started yet).
        self._idle = True
        self._wake: SimpleQueue[bool] = SimpleQueue()  # True: work to do; False: stop
        self._writer: threading.Thread | None = None
        self.commits = 0
        self.pings = 0

    async def enqueue(self, message: PingMessage) -> None:
        body = message.to_json()
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        with self._lock:
            self._bodies.append(body)
            self._waiters.append(done)
            wake, self._idle = self._idle, False
        if wake:
            # After the callbacks already due: the pings that arrived with this one
            # join its commit.
            loop.call_soon(self._wake_writer)
        await done

    def _wake_writer(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._write_forever, name="queue-commit", daemon=True
            )
            self._writer.start()
        self._wake.put(True)

    def _take(self) -> tuple[list[str], list[asyncio.Future[None]]]:
        """In the commit thread: the pings waiting (at most MAX_COMMIT_BATCH); none
        marks the thread idle, so the next ``enqueue`` wakes it."""
        with self._lock:
            if not self._bodies:
                self._idle = True
                return [], []
            bodies, waiters = self._bodies[:MAX_COMMIT_BATCH], self._waiters[:MAX_COMMIT_BATCH]
            del self._bodies[:MAX_COMMIT_BATCH], self._waiters[:MAX_COMMIT_BATCH]
            return bodies, waiters

    def _write_forever(self) -> None:
        """The commit thread: write what is waiting, tell the event loop(s), repeat;
        sleep when nothing waits."""
        while self._wake.get():
            while True:
                bodies, waiters = self._take()
                if not bodies:
                    break
                error: Exception | None = None
                try:
                    self.queue.send_batch(bodies)
                except Exception as exc:  # QueueFull, or anything else: none was stored
                    error = exc
                loops = {done.get_loop() for done in waiters}  # one, but for tests
                for loop in loops:
                    mine = (
                        waiters
                        if len(loops) == 1
                        else [done for done in waiters if done.get_loop() is loop]
                    )
                    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits
                        loop.call_soon_threadsafe(self._committed, mine, error)

    def _committed(self, waiters: list[asyncio.Future[None]], error: Exception | None) -> None:
        """On the event loop: answer the batch's pings."""
        if error is None:
            self.commits += 1
            self.pings += len(waiters)
            for done in waiters:
                if not done.done():  # the client may have gone; the ping is kept
                    done.set_result(None)
        else:
            log.error("local queue refused %d pings: %s", len(waiters), error)
            refused = error if isinstance(error, QueueFull) else QueueFull(str(error))
            for done in waiters:
                if not done.done():
                    done.set_exception(refused)

    def close(self) -> None:
        if self._writer is not None:
            self._wake.put(False)
            self._writer.join()
            self._writer = None
        if self.commits:
            log.info(
                "group commit: %d pings in %d commits (%.1f a commit)",
                self.pings,
                self.commits,
                self.pings / self.commits,
            )


class LocalEdge:
    """The RSGI application of the local mode (granian's own interface, see runner.py).

    Why RSGI and not ASGI: ASGI has the server build a scope dict (every header as a
    pair of bytes) and the app answer through two awaited ``send`` calls of message
    dicts; RSGI hands over a scope object whose fields are read when asked for and takes
    the reply in one call (``proto.response_bytes``). The ping path reads the few
    headers it needs; the rest of the request never becomes Python objects.
    """

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

    async def __rsgi__(self, scope: Scope, proto: HTTPProtocol) -> None:
        if scope.proto != "http":
            return  # websockets: not served (never accepted)
        if scope.path.startswith(PING_PREFIX):
            await self._ping(scope, proto)
        else:
            await self._other(scope, proto)

    # --- the ping path ---------------------------------------------------------------
    async def _ping(self, scope: Scope, proto: HTTPProtocol) -> None:
        body = await _read_body(scope, proto, MAX_BODY_BYTES)
        if body is None:
            _send_reply(proto, scope, json_reply(413, b'{"error": "request body too large"}'))
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
        if reply is OK:  # nearly every ping: headers and body encoded once
            proto.response_bytes(200, _OK_HEADERS, b"" if scope.method == "HEAD" else _OK_BODY)
        else:
            body = b"" if scope.method == "HEAD" else reply.text.encode("utf-8")
            proto.response_bytes(reply.status, _ping_headers(reply), body)

    # --- the API and the dashboard -----------------------------------------------------
    async def _other(self, scope: Scope, proto: HTTPProtocol) -> None:
        body = await _read_body(scope, proto, MAX_BODY_BYTES)
        if body is None:
            _send_reply(proto, scope, json_reply(413, b'{"error": "request body too large"}'))
            return
        request = http_request_from_scope(scope, body)
        loop = asyncio.get_running_loop()
        reply = await loop.run_in_executor(self._api, self._serve_other, request)
        _send_reply(proto, scope, reply)

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


class RequestHeaders(Mapping[str, str]):
    """The request's headers as the ping service reads them (lower-case names; a header
    sent more than once is its values joined with commas, as API Gateway passes them to
    the ping function), looked up in the server's own header map only when asked for."""

    __slots__ = ("_headers",)

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        values = self._headers.get_all(name)
        if not values:
            raise KeyError(name)
        return values[0] if len(values) == 1 else ",".join(values)

    def get(self, name: str, default: Any = None) -> Any:
        values = self._headers.get_all(name)
        if not values:
            return default
        return values[0] if len(values) == 1 else ",".join(values)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._headers.keys()))

    def __len__(self) -> int:
        return len(dict.fromkeys(self._headers.keys()))


def ping_request_from_scope(scope: Scope, body: bytes) -> PingRequest:
    """An RSGI request to ``/ping/...`` as the PingRequest the ping function builds from
    its event (functions/ping/handler.request_from_event): lower-case header names
    (repeated ones joined with commas), the first value of each query parameter, the
    path relative to /ping/ (granian decodes its percent-escapes as UTF-8, an invalid
    sequence becoming U+FFFD)."""
    headers = RequestHeaders(scope.headers)
    query: dict[str, str] = {}
    raw_query = scope.query_string
    if raw_query:
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            query.setdefault(key, value)
    scheme: str = headers.get("x-forwarded-proto") or scope.scheme or "http"
    return PingRequest(
        method=scope.method,
        path=scope.path[len(PING_PREFIX) :],
        query=query,
        headers=headers,
        body=body,
        remote_addr=client_address(scope.client),
        scheme=scheme.split(",")[0].strip(),
    )


def client_address(peer: str) -> str:
    """The address of an RSGI ``client`` (``127.0.0.1:5555``, ``[::1]:5555``)."""
    host = peer.rpartition(":")[0]
    return host[1:-1] if host.startswith("[") else host


def http_request_from_scope(scope: Scope, body: bytes) -> HttpRequest:
    return HttpRequest(
        method=scope.method.upper(),
        path=scope.path,
        query_string=scope.query_string,
        # API Gateway passes the client's header names; granian lower-cases them.
        headers=[(n.title(), v) for n, v in scope.headers.items()],
        body=body,
        source_ip=client_address(scope.client),
        scheme=scope.scheme or "http",
        protocol=f"HTTP/{scope.http_version}",
    )


async def _read_body(scope: Scope, proto: HTTPProtocol, limit: int) -> bytes | None:
    """The whole request body, or None when it is longer than ``limit``."""
    headers = scope.headers
    length = headers.get("content-length")
    if length is not None:
        if length.isdigit() and int(length) > limit:
            return None
        if length == "0" and "transfer-encoding" not in headers:
            return b""
    elif "transfer-encoding" not in headers:
        return b""  # most pings: a GET without a body; no round trip to the server
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in proto:
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
    except ProtocolClosed:  # the client went away
        pass
    return b"".join(chunks)


def _ping_headers(reply: PingReply) -> list[tuple[str, str]]:
    return [*reply.headers.items(), ("content-length", str(len(reply.text.encode("utf-8"))))]


_OK_HEADERS = _ping_headers(OK)  # the answer to nearly every ping, built once
_OK_BODY = OK.text.encode("utf-8")


def _send_reply(proto: HTTPProtocol, scope: Scope, reply: HttpReply) -> None:
    body = b"" if scope.method == "HEAD" else reply.body
    proto.response_bytes(reply.status, reply.headers, body)
