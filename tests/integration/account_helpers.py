"""Test plumbing for the accounts API: a real SMTP server (aiosmtpd) catching mail, a
Runtime on the test engine with a controllable clock, and a cookie-keeping browser
around Chalice's test client."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiosmtpd.controller import Controller
from argon2 import PasswordHasher
from chalice.test import Client
from sqlalchemy import Engine
from srvpulse import bootstrap

import app as chalice_app
from tests.conftest import make_runtime

SITE = "https://srvpulse.test"
# argon2id with small parameters: the tests hash hundreds of passwords. The production
# parameters are checked by one test on its own.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# The env below serves HTTPS-style Secure cookies, so their names carry __Host-.
SESSION = "__Host-srvpulse_session"
CSRF = "__Host-srvpulse_csrf"
VERIFY_SUBJECT = "Confirm your srvpulse email address"
RESET_SUBJECT = "Reset your srvpulse password"


class MailSink:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str, subject: str | None = None) -> list[Message]:
        return [
            m
            for m in self.messages
            if m["To"] == address and (subject is None or m["Subject"] == subject)
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def smtp() -> Iterator[MailSink]:
    sink = MailSink(_free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Env:
    runtime: bootstrap.Runtime
    clock: Clock
    mail: MailSink
    client: Client


def _env(engine: Engine, smtp: MailSink, *, secure_cookies: bool) -> Iterator[Env]:
    smtp.messages.clear()
    rt = make_runtime(
        engine,
        site_url=SITE,
        ping_url="https://srvp.test/ping/",
        smtp_host="127.0.0.1",
        smtp_port=smtp.port,
        email_from="srvpulse <noreply@srvpulse.test>",
        secure_cookies=secure_cookies,
    )
    clock = Clock()
    rt.accounts.clock = clock
    rt.accounts.hasher = FAST_HASHER
    rt.project_admin.clock = clock
    bootstrap.install(rt)
    with Client(chalice_app.app) as client:
        yield Env(rt, clock, smtp, client)
    bootstrap.install(None)


@pytest.fixture
def env(engine: Engine, smtp: MailSink) -> Iterator[Env]:
    """The app behind HTTPS (Secure, __Host- cookies), mail to the SMTP sink."""
    yield from _env(engine, smtp, secure_cookies=True)


@pytest.fixture
def plain_env(engine: Engine, smtp: MailSink) -> Iterator[Env]:
    """The plain-http local mode: cookies without Secure and without a name prefix."""
    yield from _env(engine, smtp, secure_cookies=False)


class Browser:
    """Keeps cookies like a browser and echoes the CSRF cookie in X-CSRF-Token, as the
    dashboard's script does."""

    def __init__(self, client: Client, *, secure: bool = True) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.last_set_cookie: list[str] = []
        self.csrf_cookie = CSRF if secure else "srvpulse_csrf"
        self.session_cookie = SESSION if secure else "srvpulse_session"

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        csrf: bool = True,
    ) -> Any:
        h = {"Content-Type": "application/json"}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and self.csrf_cookie in self.cookies:
            h["X-CSRF-Token"] = self.cookies[self.csrf_cookie]
        h.update(headers or {})
        raw = b"" if body is None else json.dumps(body).encode()
        response = self.client.http.request(method, path, headers=h, body=raw)
        set_cookie = response.headers.get("Set-Cookie") or response.headers.get("set-cookie")
        values = set_cookie if isinstance(set_cookie, list) else [set_cookie] if set_cookie else []
        self.last_set_cookie = values
        for value in values:
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.request("DELETE", path, **kw)


def register(
    env: Env, email: str, password: str = "correct horse battery", *, sign_in: bool = True
) -> Browser:
    """Sign up, then (``sign_in``) sign in with the password without following the
    mailed link: a signed-in account whose address is not verified yet."""
    browser = Browser(env.client)
    r = browser.post("/api/v3/auth/register", {"email": email, "password": password})
    assert r.status_code == 202, r.body
    assert not browser.cookies  # registration itself signs nobody in
    if not sign_in:
        return browser
    r = browser.post("/api/v3/auth/signin", {"email": email, "password": password})
    assert r.status_code == 200, r.body
    return browser


def link_token(env: Env, address: str, subject: str) -> str:
    """The token of the link in the last mail with ``subject`` to ``address``, checking
    that it points at the site and keeps the token out of the query string."""
    mails = env.mail.to(address, subject)
    assert mails, f"no mail {subject!r} to {address}"
    text = mails[-1].get_payload(decode=True).decode()  # type: ignore[union-attr]
    link = re.search(r"https://\S+", text)
    assert link is not None
    url = urlsplit(link.group(0))
    assert f"{url.scheme}://{url.netloc}" == SITE
    assert not url.query  # the token never travels in a query string (logs, Referer)
    return parse_qs(url.fragment)["token"][0]


def verify(env: Env, address: str) -> None:
    """Follow the verification link mailed to ``address``, as its owner does."""
    token = link_token(env, address, VERIFY_SUBJECT)
    r = Browser(env.client).post("/api/v3/auth/verify-email", {"token": token})
    assert r.status_code == 200, r.body


def register_verified(env: Env, email: str, password: str = "correct horse battery") -> Browser:
    """Sign up and follow the mailed link, as a new user does: the link signs in."""
    browser = register(env, email, password, sign_in=False)
    token = link_token(env, email, VERIFY_SUBJECT)
    r = browser.post("/api/v3/auth/verify-email", {"token": token})
    assert r.status_code == 200 and json.loads(r.body)["signed_in"] is True, r.body
    return browser


def body(response: Any) -> Any:
    return json.loads(response.body) if response.body else None
