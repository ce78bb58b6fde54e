"""Real protocol peers for the alerting tests: an SMTP server (aiosmtpd) and a
programmable HTTP server that answers like Slack, PagerDuty or any webhook receiver.

Other areas (accounts mail) may import ``SmtpPeer`` too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import json
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- TLS ---------------------------------------------------------------------------------
@dataclass
class SelfSignedCert:
    """A certificate for 127.0.0.1/localhost and contexts for both ends."""

    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.cert_path))
        return ctx


_cert: SelfSignedCert | None = None


def self_signed_cert() -> SelfSignedCert:
    global _cert
    if _cert is not None:
        return _cert
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    d = Path(tempfile.mkdtemp(prefix="srvpulse-tls-"))
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    _cert = SelfSignedCert(d / "cert.pem", d / "key.pem")
    return _cert


# --- SMTP --------------------------------------------------------------------------------
@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, peer: SmtpPeer) -> None:
        self.peer = peer

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address in self.peer.refuse:
            return self.peer.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.peer.data_delay:
            await asyncio.sleep(self.peer.data_delay)
        if self.peer.data_reply:
            return self.peer.data_reply
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.peer.lock:
            self.peer.received.append(ReceivedMail(envelope.mail_from, envelope.rcpt_tos, msg))
            self.peer.authenticated.append(session.authenticated)
        return "250 Message accepted for delivery"


@dataclass
class SmtpPeer:
    """An SMTP server on 127.0.0.1 that keeps what it receives."""

    tls: str = "none"  # none | starttls | tls
    credentials: tuple[str, str] | None = None
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply
    data_reply: str | None = None  # e.g. "451 try later"
    data_delay: float = 0.0  # seconds before answering DATA (slow server)
    received: list[ReceivedMail] = field(default_factory=list)
    authenticated: list[bool] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0
    controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (
            self.credentials is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok, handled=False)

    def start(self) -> SmtpPeer:
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        cert = self_signed_cert()
        if self.tls == "starttls":
            kwargs.update(tls_context=cert.server_context(), require_starttls=True)
        elif self.tls == "tls":
            kwargs.update(ssl_context=cert.server_context())
        if self.credentials:
            kwargs.update(
                authenticator=self._authenticate,
                auth_required=True,
                auth_require_tls=self.tls != "none",
            )
        self.controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, ready_timeout=10, **kwargs
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} mail(s), got {len(self.received)}")


@contextmanager
def smtp_peer(**kwargs: Any) -> Iterator[SmtpPeer]:
    peer = SmtpPeer(**kwargs).start()
    try:
        yield peer
    finally:
        peer.stop()


# --- HTTP --------------------------------------------------------------------------------
@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (slow provider)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpPeer:
    """A local HTTP server that records requests and answers from a script.

    ``script`` is a list of replies used in order (the last one repeats), or a callable
    taking the request and returning a reply.
    """

    def __init__(
        self,
        script: list[Reply] | Callable[[Received], Reply] | None = None,
        *,
        tls: bool = False,
    ) -> None:
        self.tls = tls
        self.script: list[Reply] | Callable[[Received], Reply] = script or [Reply()]
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                reply = peer._next(req)
                if reply.delay:
                    time.sleep(reply.delay)
                data = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls:
            ctx = self_signed_cert().server_context()
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _next(self, req: Received) -> Reply:
        with self.lock:
            self.requests.append(req)
            if callable(self.script):
                return self.script(req)
            if len(self.script) > 1:
                return self.script.pop(0)
            return self.script[0]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host!s}:{port}"

    def start(self) -> HttpPeer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} request(s), got {len(self.requests)}")


@contextmanager
def http_peer(
    script: list[Reply] | Callable[[Received], Reply] | None = None,
    *,
    tls: bool = False,
) -> Iterator[HttpPeer]:
    peer = HttpPeer(script, tls=tls).start()
    try:
        yield peer
    finally:
        peer.stop()
