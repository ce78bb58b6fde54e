"""Address verification, TOTP needing the password, and __Host- cookie names, end to end
through the Chalice app on SQLite and MariaDB, with the mail caught by a real SMTP server
(aiosmtpd) and the mailed links followed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from alembic import command
from sqlalchemy import Engine, insert, select, text
from srvpulse.adapters.sql.db import alembic_config, make_engine
from srvpulse.adapters.sql.tables import email_verification_tokens, users
from srvpulse.errors import RateLimited
from srvpulse.services.accounts import CurrentUser, csrf_token_for
from srvpulse.services.tokens import digest

from tests.conftest import MYSQL_SERVER_URL, require_server

from .account_helpers import (
    CSRF,
    RESET_SUBJECT,
    SESSION,
    VERIFY_SUBJECT,
    Browser,
    Env,
    body,
    env,
    link_token,
    plain_env,
    register,
    register_verified,
    smtp,
    verify,
)

__all__ = ["env", "plain_env", "smtp"]  # fixtures

PASSWORD = "correct horse battery"
VERIFY = "/api/v3/auth/verify-email"
RESEND = "/api/v3/account/verify-email/resend"


def _project_of(browser: Browser) -> str:
    uuid_: str = body(browser.get("/api/v3/projects"))["projects"][0]["uuid"]
    return uuid_


def _projects(browser: Browser) -> set[str]:
    return {p["uuid"] for p in body(browser.get("/api/v3/projects"))["projects"]}


# --- the verification link -------------------------------------------------------------


def test_registering_mails_a_link_that_verifies_the_address(env: Env) -> None:
    browser = register(env, "ann@example.com")
    assert body(browser.get("/api/v3/account"))["email_verified"] is False
    (mail,) = env.mail.to("ann@example.com")
    assert mail["Subject"] == VERIFY_SUBJECT
    token = link_token(env, "ann@example.com", VERIFY_SUBJECT)
    assert "/verify-email#token=" in mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    with env.runtime.engine.connect() as conn:
        stored = conn.execute(select(email_verification_tokens.c.token_hash)).scalars().all()
    assert stored == [digest(token)]  # only the hash is kept
    # Any browser may follow the link: it needs no session.
    other = Browser(env.client)
    r = other.post(VERIFY, {"token": token})
    assert r.status_code == 200
    assert body(r)["email_verified"] is True and body(r)["signed_in"] is True
    assert body(other.get("/api/v3/account"))["email"] == "ann@example.com"  # signed in
    assert body(browser.get("/api/v3/account"))["email_verified"] is True
    signin = Browser(env.client).post(
        "/api/v3/auth/signin", {"email": "ann@example.com", "password": PASSWORD}
    )
    assert body(signin)["user"]["email_verified"] is True


def test_a_second_click_on_the_link_gets_the_same_answer_but_a_bad_token_a_400(
    env: Env,
) -> None:
    register(env, "twice@example.com")
    token = link_token(env, "twice@example.com", VERIFY_SUBJECT)
    anon = Browser(env.client)
    first = anon.post(VERIFY, {"token": token})
    again = Browser(env.client).post(VERIFY, {"token": token})
    assert first.status_code == again.status_code == 200
    assert body(first)["signed_in"] is True
    # A used link verifies nothing new and signs nobody in: it may have leaked.
    assert body(again) == {"email_verified": True, "signed_in": False}
    for bad in ("x" * 43, token[:-1], " "):
        r = anon.post(VERIFY, {"token": bad})
        assert r.status_code == 400, (bad, r.body)
        assert body(r)["field"] == "token"
    missing = anon.post(VERIFY, {})
    assert missing.status_code == 400
    assert body(missing)["field"] == "token"


def test_a_verification_link_expires_after_24_hours_and_a_new_one_can_be_asked_for(
    env: Env,
) -> None:
    browser = register(env, "slow@example.com")
    old = link_token(env, "slow@example.com", VERIFY_SUBJECT)
    env.clock.advance(hours=24, seconds=1)
    expired = Browser(env.client).post(VERIFY, {"token": old})
    assert expired.status_code == 400
    assert body(expired)["field"] == "token"
    assert "expired" in body(expired)["error"]
    assert body(browser.get("/api/v3/account"))["email_verified"] is False
    resent = browser.post(RESEND)
    assert resent.status_code == 202
    assert "slow@example.com" in body(resent)["message"]
    new = link_token(env, "slow@example.com", VERIFY_SUBJECT)
    assert new != old
    env.clock.advance(hours=23, minutes=59)
    assert Browser(env.client).post(VERIFY, {"token": new}).status_code == 200
    assert body(browser.get("/api/v3/account"))["email_verified"] is True
    # The expired link now names a verified account: the same answer as a second click.
    assert Browser(env.client).post(VERIFY, {"token": old}).status_code == 200


def test_verifying_with_one_link_uses_up_the_others(env: Env) -> None:
    browser = register(env, "links@example.com")
    first = link_token(env, "links@example.com", VERIFY_SUBJECT)
    assert browser.post(RESEND).status_code == 202
    second = link_token(env, "links@example.com", VERIFY_SUBJECT)
    assert Browser(env.client).post(VERIFY, {"token": second}).status_code == 200
    with env.runtime.engine.connect() as conn:
        unused = conn.execute(
            select(email_verification_tokens.c.token_hash).where(
                email_verification_tokens.c.used_at.is_(None)
            )
        ).all()
    assert unused == []
    assert Browser(env.client).post(VERIFY, {"token": first}).status_code == 200


def test_resending_needs_csrf_is_throttled_per_account_and_refused_once_verified(
    env: Env,
) -> None:
    browser = register(env, "resend@example.com")
    assert browser.post(RESEND, csrf=False).status_code == 403
    assert Browser(env.client).post(RESEND).status_code == 401
    statuses = [browser.post(RESEND) for _ in range(4)]
    assert [r.status_code for r in statuses] == [202, 202, 202, 429]
    assert int(statuses[3].headers["Retry-After"]) > 0
    assert len(env.mail.to("resend@example.com", VERIFY_SUBJECT)) == 1 + 3
    verify(env, "resend@example.com")
    env.clock.advance(hours=1)
    done = browser.post(RESEND)
    assert done.status_code == 409
    assert "verified already" in body(done)["error"]


def test_resending_is_throttled_per_ip_across_accounts(env: Env) -> None:
    accounts = env.runtime.accounts
    users = []
    for i in range(8):
        register(env, f"ip{i}@example.com")
        user = env.runtime.account_stores.users.user_by_email(f"ip{i}@example.com")
        assert user is not None
        users.append(CurrentUser(user, "unused"))
    outcomes = []
    for n in range(21):
        try:
            accounts.resend_verification(users[n // 3], "198.51.100.7")
            outcomes.append(202)
        except RateLimited:
            outcomes.append(429)
    assert outcomes == [202] * 20 + [429]
    # Another address has its own budget (an account that has sent nothing yet).
    accounts.resend_verification(users[7], "198.51.100.8")


# --- invitations wait for a verified address --------------------------------------------


def test_registering_someone_elses_invited_address_gains_nothing_until_it_is_verified(
    env: Env,
) -> None:
    owner = register_verified(env, "owner@example.com")
    project = _project_of(owner)
    invited = owner.post(f"/api/v3/projects/{project}/members", {"email": "vic@example.com"})
    assert body(invited)["pending"] is True
    squatter = register(env, "vic@example.com")  # someone without access to that mailbox
    assert project not in _projects(squatter)
    assert squatter.get("/api/v3/checks", headers={"X-Project": project}).status_code == 404
    members = body(owner.get(f"/api/v3/projects/{project}/members"))["members"]
    assert ("vic@example.com", True) in [(m["email"], m["pending"]) for m in members]
    # The owner of the mailbox follows the link: now the address joins the project.
    verify(env, "vic@example.com")
    assert project in _projects(squatter)
    members = body(owner.get(f"/api/v3/projects/{project}/members"))["members"]
    assert ("vic@example.com", False) in [(m["email"], m["pending"]) for m in members]


def test_an_invitation_to_an_existing_unverified_account_waits_for_verification(
    env: Env,
) -> None:
    owner = register_verified(env, "boss@example.com")
    project = _project_of(owner)
    late = register(env, "late@example.com")
    r = owner.post(
        f"/api/v3/projects/{project}/members", {"email": "late@example.com", "role": "readonly"}
    )
    assert r.status_code == 201
    assert body(r) == {"email": "late@example.com", "role": "readonly", "pending": True}
    invitation = env.mail.to("late@example.com")[-1]
    assert "Confirm your address" in invitation.get_payload()  # type: ignore[operator]
    assert project not in _projects(late)
    verify(env, "late@example.com")
    roles = {p["uuid"]: p["role"] for p in body(late.get("/api/v3/projects"))["projects"]}
    assert roles[project] == "readonly"
    again = owner.post(f"/api/v3/projects/{project}/members", {"email": "late@example.com"})
    assert again.status_code == 409


def test_a_password_reset_proves_the_address_and_hands_the_account_to_its_owner(
    env: Env,
) -> None:
    owner = register_verified(env, "lead@example.com")
    project = _project_of(owner)
    owner.post(f"/api/v3/projects/{project}/members", {"email": "mine@example.com"})
    squatter = register(env, "mine@example.com", "squatters pass 1")
    Browser(env.client).post("/api/v3/auth/password-reset", {"email": "mine@example.com"})
    token = link_token(env, "mine@example.com", RESET_SUBJECT)
    r = Browser(env.client).post(
        "/api/v3/auth/password-reset/confirm", {"token": token, "password": "the real owner 1"}
    )
    assert r.status_code == 204
    assert squatter.get("/api/v3/account").status_code == 401  # signed out everywhere
    real = Browser(env.client)
    real.post("/api/v3/auth/signin", {"email": "mine@example.com", "password": "the real owner 1"})
    assert body(real.get("/api/v3/account"))["email_verified"] is True
    assert project in _projects(real)


def test_an_owner_must_verify_their_own_address_before_inviting(env: Env) -> None:
    owner = register(env, "fresh@example.com")
    project = _project_of(owner)
    r = owner.post(f"/api/v3/projects/{project}/members", {"email": "anyone@example.com"})
    assert r.status_code == 403
    assert "confirm your email" in body(r)["error"]
    assert env.mail.to("anyone@example.com") == []
    # Everything else works unverified: API keys, checks, signing in again.
    assert owner.post(f"/api/v3/projects/{project}/keys", {"name": "ci"}).status_code == 201
    assert (
        owner.post("/api/v3/checks", {"name": "j"}, headers={"X-Project": project}).status_code
        == 201
    )
    again = Browser(env.client).post(
        "/api/v3/auth/signin", {"email": "fresh@example.com", "password": PASSWORD}
    )
    assert again.status_code == 200
    verify(env, "fresh@example.com")
    ok = owner.post(f"/api/v3/projects/{project}/members", {"email": "anyone@example.com"})
    assert ok.status_code == 201


# --- TOTP needs the password to be turned on --------------------------------------------


def test_turning_totp_on_needs_the_current_password(env: Env) -> None:
    # A stolen session cookie must not let the thief add their own second factor and
    # keep its recovery codes.
    browser = register(env, "tfa@example.com")
    totp = pyotp.TOTP(body(browser.post("/api/v3/account/totp/setup"))["secret"])
    code = totp.at(env.clock.now)
    missing = browser.post("/api/v3/account/totp/confirm", {"code": code})
    assert missing.status_code == 400
    assert body(missing)["field"] == "password"
    wrong = browser.post(
        "/api/v3/account/totp/confirm", {"password": "not it at all", "code": code}
    )
    assert wrong.status_code == 400
    assert body(wrong)["field"] == "password"
    assert "recovery_codes" not in body(wrong)
    assert body(browser.get("/api/v3/account"))["totp_enabled"] is False
    ok = browser.post("/api/v3/account/totp/confirm", {"password": PASSWORD, "code": code})
    assert ok.status_code == 200
    assert len(body(ok)["recovery_codes"]) == 10
    assert body(browser.get("/api/v3/account"))["totp_enabled"] is True


def test_the_mailed_link_does_not_sign_in_an_account_with_two_factor_on(env: Env) -> None:
    # The link proves the mailbox, not the second factor: it must not skip it.
    browser = register(env, "careful@example.com")
    totp = pyotp.TOTP(body(browser.post("/api/v3/account/totp/setup"))["secret"])
    confirm = {"password": PASSWORD, "code": totp.at(env.clock.now)}
    assert browser.post("/api/v3/account/totp/confirm", confirm).status_code == 200
    stranger = Browser(env.client)
    token = link_token(env, "careful@example.com", VERIFY_SUBJECT)
    r = stranger.post(VERIFY, {"token": token})
    assert r.status_code == 200
    assert body(r) == {"email_verified": True, "signed_in": False}
    assert stranger.get("/api/v3/account").status_code == 401
    assert body(browser.get("/api/v3/account"))["email_verified"] is True


def test_guessing_the_password_at_totp_confirmation_is_throttled_like_sign_in(env: Env) -> None:
    browser = register_verified(env, "guess2fa@example.com")  # no sign-in attempt used
    totp = pyotp.TOTP(body(browser.post("/api/v3/account/totp/setup"))["secret"])
    statuses = [
        browser.post(
            "/api/v3/account/totp/confirm",
            {"password": f"guess {i:04}", "code": totp.at(env.clock.now)},
        ).status_code
        for i in range(11)
    ]
    assert statuses == [400] * 10 + [429]


# --- cookie names ------------------------------------------------------------------------


def _set_cookies(browser: Browser) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in browser.last_set_cookie}


def test_secure_cookies_carry_the_host_prefix_and_only_that_name_is_read(env: Env) -> None:
    browser = register(env, "host@example.com")
    cookies = _set_cookies(browser)
    assert set(cookies) == {SESSION, CSRF}
    for value in cookies.values():
        assert "Secure" in value and "Path=/" in value and "Domain" not in value
    token = browser.cookies[SESSION]
    # The same valid session id under the plain name (as a sibling subdomain or an
    # http:// response could set it) is not read.
    planted = env.client.http.get(
        "/api/v3/account", headers={"Cookie": f"srvpulse_session={token}"}
    )
    assert planted.status_code == 401
    real = env.client.http.get("/api/v3/account", headers={"Cookie": f"{SESSION}={token}"})
    assert real.status_code == 200
    out = browser.post("/api/v3/auth/signout")
    assert set(_set_cookies(browser)) == {SESSION, CSRF}
    assert out.status_code == 204 and browser.cookies == {}


def test_plain_http_local_mode_keeps_the_plain_cookie_names(plain_env: Env) -> None:
    browser = Browser(plain_env.client, secure=False)
    r = browser.post("/api/v3/auth/register", {"email": "local@example.com", "password": PASSWORD})
    assert r.status_code == 202
    r = browser.post("/api/v3/auth/signin", {"email": "local@example.com", "password": PASSWORD})
    assert r.status_code == 200
    cookies = _set_cookies(browser)
    assert set(cookies) == {"srvpulse_session", "srvpulse_csrf"}
    assert all("Secure" not in value for value in cookies.values())
    token = browser.cookies["srvpulse_session"]
    prefixed = plain_env.client.http.get(
        "/api/v3/account", headers={"Cookie": f"{SESSION}={token}"}
    )
    assert prefixed.status_code == 401
    assert browser.get("/api/v3/account").status_code == 200
    headers = {"X-CSRF-Token": csrf_token_for(token)}
    assert browser.post("/api/v3/projects", {"name": "P"}, headers=headers).status_code == 201


# --- the migration -----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "mysql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, for migrating step by step."""
    request.node.user_properties.append(("database", request.param))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/upgrade.sqlite3"
        return
    name = f"srvpulse_upgrade_{uuid.uuid4().hex[:12]}"
    try:
        server = make_engine(MYSQL_SERVER_URL + "/")
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}`"))
    except Exception as exc:
        require_server(f"MariaDB/MySQL not reachable at {MYSQL_SERVER_URL}: {exc}")
    yield f"{MYSQL_SERVER_URL}/{name}"
    with server.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    server.dispose()


def test_accounts_that_exist_at_the_upgrade_count_as_verified(fresh_url: str) -> None:
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "0005")
    engine: Engine = make_engine(fresh_url)
    created = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            # Only the columns revision 0005 has.
            conn.execute(
                insert(users).values(
                    uuid="u1",
                    email="old@example.com",
                    password_hash="x",
                    created=created,
                    password_changed_at=created,
                )
            )
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            verified_at = conn.execute(select(users.c.email_verified_at)).scalar_one()
        assert verified_at == created
        command.downgrade(cfg, "0005")
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
