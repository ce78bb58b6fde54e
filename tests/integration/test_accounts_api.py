"""Every account flow end to end through the Chalice app, on SQLite and MariaDB: mail
caught by a real SMTP server, TOTP codes computed from the secret with pyotp."""

from __future__ import annotations

from datetime import timedelta
from email.header import decode_header, make_header
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from srvpulse.adapters.sql.tables import api_keys, projects, sessions, throttle_buckets, users
from srvpulse.errors import RateLimited, Unauthorized
from srvpulse.services.projects import ensure_default_project, verify_api_key

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
    register,
    register_verified,
    smtp,
)

__all__ = ["env", "smtp"]  # fixtures

PASSWORD = "correct horse battery"
NEW_PASSWORD = "staple gun 4 lunch"


def _sign_in(env: Env, email: str, password: str = PASSWORD) -> tuple[Browser, Any]:
    browser = Browser(env.client)
    r = browser.post("/api/v3/auth/signin", {"email": email, "password": password})
    return browser, r


def _enable_totp(browser: Browser, env: Env) -> tuple[pyotp.TOTP, list[str]]:
    setup = body(browser.post("/api/v3/account/totp/setup"))
    totp = pyotp.TOTP(setup["secret"])
    r = browser.post(
        "/api/v3/account/totp/confirm", {"password": PASSWORD, "code": totp.at(env.clock.now)}
    )
    assert r.status_code == 200, r.body
    return totp, body(r)["recovery_codes"]


# --- registration, sign-in, sessions ------------------------------------------------------


def test_the_mailed_link_of_a_registration_signs_the_user_in_with_a_safe_session_cookie(
    env: Env,
) -> None:
    r = Browser(env.client).post(
        "/api/v3/auth/register", {"email": " Ann@Example.com", "password": PASSWORD}
    )
    assert r.status_code == 202
    assert "Check your mailbox" in body(r)["message"]
    browser = Browser(env.client)  # the link may open in another browser
    token = link_token(env, "ann@example.com", VERIFY_SUBJECT)
    r = browser.post("/api/v3/auth/verify-email", {"token": token})
    assert r.status_code == 200
    assert body(r)["user"]["email"] == "ann@example.com"
    assert body(r)["user"]["email_verified"] is True and body(r)["signed_in"] is True
    session_cookie = next(c for c in browser.last_set_cookie if c.startswith(f"{SESSION}="))
    for attribute in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/"):
        assert attribute in session_cookie
    csrf_cookie = next(c for c in browser.last_set_cookie if c.startswith(f"{CSRF}="))
    assert "HttpOnly" not in csrf_cookie  # the dashboard's script reads it
    token = browser.cookies[SESSION]
    assert len(token) >= 43  # 256 bits, URL-safe base64
    with env.runtime.engine.connect() as conn:
        stored = conn.execute(select(sessions.c.id_hash)).scalars().all()
    assert token not in stored and len(stored) == 1  # only its hash is kept
    account = body(browser.get("/api/v3/account"))
    assert account["email"] == "ann@example.com"
    assert account["totp_enabled"] is False
    listed = body(browser.get("/api/v3/projects"))["projects"]
    assert [p["role"] for p in listed] == ["owner"]


def test_passwords_are_stored_as_argon2id_hashes_with_the_production_parameters(
    env: Env,
) -> None:
    env.runtime.accounts.hasher = PasswordHasher()
    register(env, "hash@example.com")
    with env.runtime.engine.connect() as conn:
        stored = conn.execute(select(users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "m=65536,t=3,p=4" in stored
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("payload", "field", "text"),
    [
        ({"email": "a@example.com", "password": "short"}, "password", "at least 8"),
        ({"email": "a@example.com", "password": "x" * 129}, "password", "at most 128"),
        ({"email": "a@example.com", "password": "iloveyou1"}, "password", "too common"),
        ({"email": "not-an-address", "password": PASSWORD}, "email", "valid email"),
        ({"password": PASSWORD}, "email", "email"),
    ],
)
def test_registration_refuses_bad_input_naming_the_field(
    env: Env, payload: dict[str, str], field: str, text: str
) -> None:
    r = Browser(env.client).post("/api/v3/auth/register", payload)
    assert r.status_code == 400
    assert body(r)["field"] == field
    assert text in body(r)["error"]


def test_registering_a_taken_address_answers_as_for_a_new_one_and_mails_its_owner(
    env: Env,
) -> None:
    register(env, "twice@example.com")
    new = Browser(env.client)
    fresh = new.post("/api/v3/auth/register", {"email": "new@example.com", "password": PASSWORD})
    again = Browser(env.client)
    taken = again.post(
        "/api/v3/auth/register", {"email": "TWICE@example.com", "password": "another passphrase"}
    )
    assert fresh.status_code == taken.status_code == 202
    assert body(fresh) == body(taken)
    assert new.last_set_cookie == again.last_set_cookie == []
    owner_mail = env.mail.to("twice@example.com", "Signing up to srvpulse with your address")
    assert len(owner_mail) == 1
    text = owner_mail[0].get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "https://srvpulse.test/forgot-password" in text and "Nothing was changed" in text
    # The account is untouched: its password still signs in, the other one does not.
    assert _sign_in(env, "twice@example.com")[1].status_code == 200
    wrong = _sign_in(env, "twice@example.com", "another passphrase")[1]
    assert wrong.status_code == 401
    with env.runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(users)).scalar_one() == 2


def test_a_flood_of_registrations_for_a_taken_address_mails_its_owner_only_a_few_times(
    env: Env,
) -> None:
    register(env, "popular@example.com")
    for _ in range(6):
        r = Browser(env.client).post(
            "/api/v3/auth/register", {"email": "popular@example.com", "password": PASSWORD}
        )
        assert r.status_code == 202  # never a 429 that only taken addresses would get
    mails = env.mail.to("popular@example.com", "Signing up to srvpulse with your address")
    assert len(mails) == 3


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(env: Env) -> None:
    register(env, "bob@example.com")
    _, wrong = _sign_in(env, "bob@example.com", "not the password")
    _, unknown = _sign_in(env, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert body(wrong) == body(unknown)


def test_signing_in_issues_a_new_session_id_and_ends_the_one_sent_along(env: Env) -> None:
    browser = register(env, "rot@example.com")
    before = browser.cookies[SESSION]
    r = browser.post("/api/v3/auth/signin", {"email": "rot@example.com", "password": PASSWORD})
    assert r.status_code == 200
    after = browser.cookies[SESSION]
    assert after != before
    stale = Browser(env.client)
    stale.cookies = {SESSION: before}
    assert stale.get("/api/v3/account").status_code == 401
    assert browser.get("/api/v3/account").status_code == 200


def test_signing_out_ends_the_session_and_clears_the_cookies(env: Env) -> None:
    browser = register(env, "out@example.com")
    token = browser.cookies[SESSION]
    r = browser.post("/api/v3/auth/signout")
    assert r.status_code == 204
    assert browser.cookies == {}
    replay = Browser(env.client)
    replay.cookies = {SESSION: token}
    assert replay.get("/api/v3/account").status_code == 401


def test_signing_out_everywhere_ends_every_session_of_the_account(env: Env) -> None:
    laptop = register(env, "many@example.com")
    phone, r = _sign_in(env, "many@example.com")
    assert r.status_code == 200
    assert laptop.post("/api/v3/auth/signout-everywhere").status_code == 204
    assert laptop.get("/api/v3/account").status_code == 401
    assert phone.get("/api/v3/account").status_code == 401


def test_unsafe_requests_with_a_session_cookie_need_the_csrf_token(env: Env) -> None:
    browser = register(env, "csrf@example.com")
    assert browser.get("/api/v3/account", csrf=False).status_code == 200
    r = browser.post("/api/v3/projects", {"name": "X"}, csrf=False)
    assert r.status_code == 403
    assert "CSRF" in body(r)["error"]
    forged = browser.post("/api/v3/projects", {"name": "X"}, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403
    assert browser.post("/api/v3/projects", {"name": "X"}).status_code == 201


def test_a_session_ends_after_fourteen_idle_days(env: Env) -> None:
    browser = register(env, "idle@example.com")
    env.clock.advance(days=13, hours=23)
    assert browser.get("/api/v3/account").status_code == 200
    env.clock.advance(days=14)
    assert browser.get("/api/v3/account").status_code == 401


def test_a_session_in_daily_use_still_ends_after_thirty_days(env: Env) -> None:
    browser = register(env, "busy@example.com")
    for _ in range(29):
        env.clock.advance(days=1)
        assert browser.get("/api/v3/account").status_code == 200
    env.clock.advance(days=1)
    assert browser.get("/api/v3/account").status_code == 401


# --- password change, account deletion -------------------------------------------------


def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(env: Env) -> None:
    here = register(env, "chg@example.com")
    elsewhere, _ = _sign_in(env, "chg@example.com")
    wrong = here.post(
        "/api/v3/account/password",
        {"current_password": "guess guess", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 400
    assert body(wrong)["field"] == "current_password"
    weak = here.post(
        "/api/v3/account/password", {"current_password": PASSWORD, "new_password": "password"}
    )
    assert body(weak)["field"] == "password"
    ok = here.post(
        "/api/v3/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert ok.status_code == 204
    assert here.get("/api/v3/account").status_code == 200
    assert elsewhere.get("/api/v3/account").status_code == 401
    assert _sign_in(env, "chg@example.com")[1].status_code == 401
    assert _sign_in(env, "chg@example.com", NEW_PASSWORD)[1].status_code == 200


def test_deleting_the_account_deletes_its_projects_and_keys_too(env: Env) -> None:
    browser = register(env, "gone@example.com")
    project = body(browser.get("/api/v3/projects"))["projects"][0]["uuid"]
    key = body(browser.post(f"/api/v3/projects/{project}/keys", {"name": "ci"}))["key"]
    assert browser.post("/api/v3/account/delete", {"password": "wrong one!"}).status_code == 400
    r = browser.post("/api/v3/account/delete", {"password": PASSWORD})
    assert r.status_code == 204
    assert browser.cookies == {}
    assert _sign_in(env, "gone@example.com")[1].status_code == 401
    with env.runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(projects)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(api_keys)).scalar_one() == 0
    with pytest.raises(Unauthorized):
        verify_api_key(env.runtime.account_stores.projects, key)


# --- password reset ------------------------------------------------------------------------


def _reset_token(env: Env, address: str) -> str:
    return link_token(env, address, RESET_SUBJECT)


def test_a_reset_request_answers_the_same_whether_or_not_the_address_exists(env: Env) -> None:
    register(env, "real@example.com")
    anon = Browser(env.client)
    known = anon.post("/api/v3/auth/password-reset", {"email": "real@example.com"})
    unknown = anon.post("/api/v3/auth/password-reset", {"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert body(known) == body(unknown)
    assert len(env.mail.to("real@example.com", RESET_SUBJECT)) == 1
    assert env.mail.to("ghost@example.com") == []


def test_a_reset_request_without_an_address_is_refused_naming_the_field(env: Env) -> None:
    register(env, "real@example.com")
    r = Browser(env.client).post("/api/v3/auth/password-reset", {"email": ""})
    assert r.status_code == 400
    assert body(r)["field"] == "email"
    assert env.mail.to("real@example.com", RESET_SUBJECT) == []


def test_the_mailed_reset_link_sets_a_new_password_once_and_signs_out_everywhere(
    env: Env,
) -> None:
    signed_in = register(env, "lost@example.com")
    anon = Browser(env.client)
    anon.post("/api/v3/auth/password-reset", {"email": "lost@example.com"})
    mail = env.mail.to("lost@example.com")[-1]
    assert mail["Subject"] == "Reset your srvpulse password"
    token = _reset_token(env, "lost@example.com")
    r = anon.post("/api/v3/auth/password-reset/confirm", {"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 204
    assert signed_in.get("/api/v3/account").status_code == 401
    assert _sign_in(env, "lost@example.com", NEW_PASSWORD)[1].status_code == 200
    again = anon.post(
        "/api/v3/auth/password-reset/confirm", {"token": token, "password": "another 1 pass"}
    )
    assert again.status_code == 404
    assert _sign_in(env, "lost@example.com", "another 1 pass")[1].status_code == 401


def test_a_reset_link_expires_after_one_hour(env: Env) -> None:
    register(env, "late@example.com")
    anon = Browser(env.client)
    anon.post("/api/v3/auth/password-reset", {"email": "late@example.com"})
    token = _reset_token(env, "late@example.com")
    env.clock.advance(minutes=60, seconds=1)
    r = anon.post("/api/v3/auth/password-reset/confirm", {"token": token, "password": NEW_PASSWORD})
    assert r.status_code == 404
    assert "expired" in body(r)["error"]


def test_a_reset_with_a_weak_password_keeps_the_token_usable(env: Env) -> None:
    register(env, "weak@example.com")
    anon = Browser(env.client)
    anon.post("/api/v3/auth/password-reset", {"email": "weak@example.com"})
    token = _reset_token(env, "weak@example.com")
    weak = anon.post("/api/v3/auth/password-reset/confirm", {"token": token, "password": "123"})
    assert weak.status_code == 400
    assert body(weak)["field"] == "password"
    ok = anon.post(
        "/api/v3/auth/password-reset/confirm", {"token": token, "password": NEW_PASSWORD}
    )
    assert ok.status_code == 204


# --- two-factor authentication ---------------------------------------------------------------


def test_totp_setup_gives_a_provisioning_uri_and_qr_code_and_ten_recovery_codes(
    env: Env,
) -> None:
    browser = register(env, "totp@example.com")
    setup = body(browser.post("/api/v3/account/totp/setup"))
    assert setup["provisioning_uri"].startswith("otpauth://totp/srvpulse:totp%40example.com?")
    assert "<svg" in setup["qr_svg"]
    wrong = browser.post("/api/v3/account/totp/confirm", {"password": PASSWORD, "code": "000000"})
    assert wrong.status_code == 400
    assert body(wrong)["field"] == "code"
    totp = pyotp.TOTP(setup["secret"])
    r = browser.post(
        "/api/v3/account/totp/confirm", {"password": PASSWORD, "code": totp.at(env.clock.now)}
    )
    codes = body(r)["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    account = body(browser.get("/api/v3/account"))
    assert account["totp_enabled"] is True
    assert account["recovery_codes_left"] == 10
    assert browser.post("/api/v3/account/totp/setup").status_code == 409


def test_with_totp_on_signing_in_takes_a_password_then_a_code(env: Env) -> None:
    browser = register(env, "two@example.com")
    totp, _ = _enable_totp(browser, env)
    env.clock.advance(seconds=30)
    second, r = _sign_in(env, "two@example.com")
    assert body(r)["totp_required"] is True
    pending = second.cookies[SESSION]
    assert second.get("/api/v3/account").status_code == 401  # the password alone is not enough
    wrong = second.post("/api/v3/auth/signin/totp", {"code": "123456"})
    assert wrong.status_code == 401
    ok = second.post("/api/v3/auth/signin/totp", {"code": totp.at(env.clock.now)})
    assert ok.status_code == 200
    assert body(ok)["totp_required"] is False
    assert second.cookies[SESSION] != pending  # rotated again
    assert second.get("/api/v3/account").status_code == 200


def test_a_totp_code_cannot_be_replayed_within_its_window(env: Env) -> None:
    browser = register(env, "replay@example.com")
    totp, _ = _enable_totp(browser, env)
    env.clock.advance(seconds=30)
    code = totp.at(env.clock.now)
    first, _ = _sign_in(env, "replay@example.com")
    assert first.post("/api/v3/auth/signin/totp", {"code": code}).status_code == 200
    thief, _ = _sign_in(env, "replay@example.com")
    replayed = thief.post("/api/v3/auth/signin/totp", {"code": code})
    assert replayed.status_code == 401
    assert "used already" in body(replayed)["error"]
    env.clock.advance(seconds=30)
    fresh = thief.post("/api/v3/auth/signin/totp", {"code": totp.at(env.clock.now)})
    assert fresh.status_code == 200


def test_the_second_step_must_come_within_five_minutes(env: Env) -> None:
    browser = register(env, "slow@example.com")
    totp, _ = _enable_totp(browser, env)
    second, _ = _sign_in(env, "slow@example.com")
    env.clock.advance(minutes=5, seconds=1)
    r = second.post("/api/v3/auth/signin/totp", {"code": totp.at(env.clock.now)})
    assert r.status_code == 401


def test_a_recovery_code_signs_in_once(env: Env) -> None:
    browser = register(env, "rec@example.com")
    _, codes = _enable_totp(browser, env)
    second, _ = _sign_in(env, "rec@example.com")
    ok = second.post("/api/v3/auth/signin/totp", {"recovery_code": codes[3].upper()})
    assert ok.status_code == 200
    assert body(second.get("/api/v3/account"))["recovery_codes_left"] == 9
    third, _ = _sign_in(env, "rec@example.com")
    assert third.post("/api/v3/auth/signin/totp", {"recovery_code": codes[3]}).status_code == 401


def test_disabling_totp_needs_the_password_and_a_code(env: Env) -> None:
    browser = register(env, "off@example.com")
    totp, _ = _enable_totp(browser, env)
    env.clock.advance(seconds=30)
    code = totp.at(env.clock.now)
    bad_password = browser.post(
        "/api/v3/account/totp/disable", {"password": "not it at all", "code": code}
    )
    assert bad_password.status_code == 400
    assert body(bad_password)["field"] == "password"
    no_code = browser.post("/api/v3/account/totp/disable", {"password": PASSWORD})
    assert no_code.status_code == 400
    assert body(no_code)["field"] == "code"
    ok = browser.post("/api/v3/account/totp/disable", {"password": PASSWORD, "code": code})
    assert ok.status_code == 204
    _, r = _sign_in(env, "off@example.com")
    assert body(r)["totp_required"] is False


# --- throttling ------------------------------------------------------------------------------


def test_sign_in_attempts_per_account_are_limited_with_retry_after(env: Env) -> None:
    register(env, "brute@example.com", sign_in=False)
    for _ in range(10):
        assert _sign_in(env, "brute@example.com", "guess guess")[1].status_code == 401
    _, r = _sign_in(env, "brute@example.com")  # even the right password waits now
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    env.clock.advance(seconds=int(r.headers["Retry-After"]))
    assert _sign_in(env, "brute@example.com")[1].status_code == 200


def test_sign_in_attempts_per_ip_are_limited_across_accounts(env: Env) -> None:
    statuses = [
        _sign_in(env, f"user{i}@example.com", "guess guess")[1].status_code for i in range(51)
    ]
    assert statuses[:50] == [401] * 50
    assert statuses[50] == 429


def test_reset_requests_are_limited_per_address_and_per_ip(env: Env) -> None:
    register(env, "spam@example.com")
    anon = Browser(env.client)
    per_address = [
        anon.post("/api/v3/auth/password-reset", {"email": "spam@example.com"}).status_code
        for _ in range(4)
    ]
    assert per_address == [202, 202, 202, 429]
    assert len(env.mail.to("spam@example.com", RESET_SUBJECT)) == 3
    per_ip = [
        anon.post("/api/v3/auth/password-reset", {"email": f"x{i}@example.com"}) for i in range(17)
    ]
    assert [r.status_code for r in per_ip[:16]] == [202] * 16
    assert per_ip[16].status_code == 429
    assert "Retry-After" in per_ip[16].headers


def test_totp_and_recovery_code_attempts_are_limited(env: Env) -> None:
    browser = register(env, "guess@example.com")
    totp, _ = _enable_totp(browser, env)
    second, _ = _sign_in(env, "guess@example.com")
    tries = [second.post("/api/v3/auth/signin/totp", {"code": "000000"}) for _ in range(3)]
    tries += [
        second.post("/api/v3/auth/signin/totp", {"recovery_code": "aaaaa-bbbbb"}) for _ in range(3)
    ]
    assert [r.status_code for r in tries] == [401, 401, 401, 401, 401, 429]
    env.clock.advance(seconds=30)
    assert (
        second.post("/api/v3/auth/signin/totp", {"code": totp.at(env.clock.now)}).status_code == 429
    )


# --- projects, members, API keys, ping keys -------------------------------------------------


def test_projects_can_be_created_renamed_and_deleted_but_not_the_last_one(env: Env) -> None:
    browser = register(env, "proj@example.com")
    first = body(browser.get("/api/v3/projects"))["projects"][0]["uuid"]
    created = browser.post("/api/v3/projects", {"name": "Backups"})
    assert created.status_code == 201
    second = body(created)["uuid"]
    assert body(browser.post("/api/v3/projects", {"name": "  "}))["field"] == "name"
    renamed = browser.post(f"/api/v3/projects/{second}", {"name": "Nightly backups"})
    assert body(renamed)["name"] == "Nightly backups"
    assert body(browser.get(f"/api/v3/projects/{second}"))["name"] == "Nightly backups"
    assert browser.delete(f"/api/v3/projects/{second}").status_code == 200
    assert browser.get(f"/api/v3/projects/{second}").status_code == 404
    last = browser.delete(f"/api/v3/projects/{first}")
    assert last.status_code == 409


def test_an_invited_address_joins_the_project_when_it_registers_and_verifies(env: Env) -> None:
    owner = register_verified(env, "owner@example.com")
    project = body(owner.get("/api/v3/projects"))["projects"][0]["uuid"]
    r = owner.post(
        f"/api/v3/projects/{project}/members", {"email": "New@Example.com", "role": "member"}
    )
    assert r.status_code == 201
    assert body(r) == {"email": "new@example.com", "role": "member", "pending": True}
    invitation = env.mail.to("new@example.com")[-1]
    assert "owner@example.com" in invitation.get_payload()  # type: ignore[operator]
    bad_role = owner.post(
        f"/api/v3/projects/{project}/members", {"email": "x@example.com", "role": "owner"}
    )
    assert body(bad_role)["field"] == "role"
    newcomer = register_verified(env, "new@example.com")
    roles = {p["uuid"]: p["role"] for p in body(newcomer.get("/api/v3/projects"))["projects"]}
    assert roles[project] == "member"
    members = body(owner.get(f"/api/v3/projects/{project}/members"))["members"]
    assert [(m["email"], m["role"], m["pending"]) for m in members] == [
        ("owner@example.com", "owner", False),
        ("new@example.com", "member", False),
    ]
    # a member works in the project (API keys) but cannot manage its members
    assert newcomer.post(f"/api/v3/projects/{project}/keys", {"name": "n"}).status_code == 201
    assert (
        newcomer.post(
            f"/api/v3/projects/{project}/members/remove", {"email": "owner@example.com"}
        ).status_code
        == 403
    )


def test_api_keys_are_shown_once_stored_hashed_and_stop_working_when_revoked(env: Env) -> None:
    browser = register(env, "keys@example.com")
    project = body(browser.get("/api/v3/projects"))["projects"][0]["uuid"]
    rw = body(browser.post(f"/api/v3/projects/{project}/keys", {"name": "deploy"}))
    ro = body(
        browser.post(f"/api/v3/projects/{project}/keys", {"name": "grafana", "read_only": True})
    )
    listed = body(browser.get(f"/api/v3/projects/{project}/keys"))["keys"]
    assert [(k["name"], k["read_only"]) for k in listed] == [("deploy", False), ("grafana", True)]
    assert all("key" not in k for k in listed)
    assert listed[0]["prefix"] == rw["key"][:8]
    with env.runtime.engine.connect() as conn:
        stored = conn.execute(select(api_keys.c.key_hash)).scalars().all()
    assert rw["key"] not in stored and len(stored[0]) == 64
    assert listed[1]["last_used_at"] is None
    headers = {"X-Api-Key": ro["key"]}
    assert env.client.http.get("/api/v3/checks", headers=headers).status_code == 200
    listed = body(browser.get(f"/api/v3/projects/{project}/keys"))["keys"]
    assert [k["last_used_at"] is not None for k in listed] == [False, True]
    assert browser.delete(f"/api/v3/projects/{project}/keys/{ro['id']}").status_code == 204
    assert env.client.http.get("/api/v3/checks", headers=headers).status_code == 401
    assert browser.delete(f"/api/v3/projects/{project}/keys/{ro['id']}").status_code == 404
    caller = verify_api_key(env.runtime.account_stores.projects, rw["key"])
    assert caller.read_only is False


def test_the_ping_key_can_be_shown_and_rotated(env: Env) -> None:
    browser = register(env, "ping@example.com")
    project = body(browser.get("/api/v3/projects"))["projects"][0]["uuid"]
    shown = body(browser.get(f"/api/v3/projects/{project}/ping-key"))
    assert shown["ping_url"] == f"https://srvp.test/ping/{shown['ping_key']}/"
    rotated = body(browser.post(f"/api/v3/projects/{project}/ping-key/rotate"))
    assert rotated["ping_key"] != shown["ping_key"]
    assert body(browser.get(f"/api/v3/projects/{project}/ping-key")) == rotated


def test_the_first_account_adopts_the_local_modes_default_project(env: Env) -> None:
    default = ensure_default_project(env.runtime.account_stores.projects, env.clock.now)
    first = register(env, "first@example.com")
    second = register(env, "second@example.com")
    first_projects = {p["uuid"] for p in body(first.get("/api/v3/projects"))["projects"]}
    second_projects = {p["uuid"] for p in body(second.get("/api/v3/projects"))["projects"]}
    assert first_projects == {default.project_uuid}  # not a second, empty project
    assert default.project_uuid not in second_projects and len(second_projects) == 1
    checks = first.get("/api/v3/checks", headers={"X-Project": default.project_uuid})
    assert checks.status_code == 200


def test_timed_out_sessions_are_deleted_when_the_user_signs_in_again(env: Env) -> None:
    register(env, "tidy@example.com")
    env.clock.advance(days=15)
    assert _sign_in(env, "tidy@example.com")[1].status_code == 200
    with env.runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(sessions)).scalar_one() == 1


def test_idle_throttle_buckets_are_forgotten(env: Env) -> None:
    _sign_in(env, "who@example.com", "guess guess")
    store = env.runtime.account_stores.throttle
    with env.runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(throttle_buckets)).scalar_one() == 2
    store.prune_buckets(env.clock.now - timedelta(days=1))
    with env.runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(throttle_buckets)).scalar_one() == 2
    store.prune_buckets(env.clock.now + timedelta(seconds=1))
    with env.runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(throttle_buckets)).scalar_one() == 0


def test_guessing_the_password_inside_a_session_is_throttled_like_sign_in(env: Env) -> None:
    browser = register_verified(env, "stolen@example.com")  # no sign-in attempt used
    guesses = [
        browser.post(
            "/api/v3/account/password",
            {"current_password": f"guess {i:04}", "new_password": NEW_PASSWORD},
        ).status_code
        for i in range(11)
    ]
    assert guesses == [400] * 10 + [429]
    assert browser.post("/api/v3/account/delete", {"password": PASSWORD}).status_code == 429


def test_a_read_only_member_cannot_see_or_rotate_the_ping_key(env: Env) -> None:
    # The ping key lets anyone ping (and with ?create=1 create) the project's checks,
    # so it is a write credential, like the ping URLs the checks API hides from them.
    owner = register_verified(env, "keeper@example.com")
    project = body(owner.get("/api/v3/projects"))["projects"][0]["uuid"]
    reader = register_verified(env, "reader@example.com")
    invited = owner.post(
        f"/api/v3/projects/{project}/members", {"email": "reader@example.com", "role": "readonly"}
    )
    assert invited.status_code == 201
    shown = reader.get(f"/api/v3/projects/{project}/ping-key")
    assert shown.status_code == 403
    assert "ping_key" not in body(shown)
    assert reader.post(f"/api/v3/projects/{project}/ping-key/rotate").status_code == 403
    assert owner.get(f"/api/v3/projects/{project}/ping-key").status_code == 200


def test_odd_characters_in_the_csrf_header_key_id_or_code_are_refused_not_a_crash(
    env: Env,
) -> None:
    browser = register(env, "odd@example.com")
    project = body(browser.get("/api/v3/projects"))["projects"][0]["uuid"]
    forged = browser.post("/api/v3/projects", {"name": "X"}, headers={"X-CSRF-Token": "é" * 64})
    assert forged.status_code == 403
    assert "CSRF" in body(forged)["error"]
    for key_id in ("²", "9" * 30):
        r = browser.delete(f"/api/v3/projects/{project}/keys/{key_id}")
        assert r.status_code == 400, (key_id, r.body)
        assert body(r)["field"] == "key_id"
    body(browser.post("/api/v3/account/totp/setup"))
    r = browser.post("/api/v3/account/totp/confirm", {"password": PASSWORD, "code": "²²²²²²"})
    assert r.status_code == 400
    assert body(r)["field"] == "code"


def test_a_totp_code_typed_with_full_width_or_arabic_indic_digits_is_accepted(env: Env) -> None:
    # Phone keyboards and input methods may send these; the code is still the right one.
    browser = register(env, "digits@example.com")
    totp = pyotp.TOTP(body(browser.post("/api/v3/account/totp/setup"))["secret"])
    code = totp.at(env.clock.now)
    full_width = "".join(chr(0xFF10 + int(d)) for d in code)
    r = browser.post("/api/v3/account/totp/confirm", {"password": PASSWORD, "code": full_width})
    assert r.status_code == 200, r.body
    env.clock.advance(seconds=30)
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in totp.at(env.clock.now))
    pending, first = _sign_in(env, "digits@example.com")
    assert body(first)["totp_required"] is True
    second = pending.post("/api/v3/auth/signin/totp", {"code": arabic_indic})
    assert second.status_code == 200, second.body


def test_changing_the_password_voids_reset_links_sent_before(env: Env) -> None:
    # Someone who can read the mailbox asked for a link; the owner, still signed in,
    # changes the password: the old link must not undo that.
    browser = register(env, "voided@example.com")
    Browser(env.client).post("/api/v3/auth/password-reset", {"email": "voided@example.com"})
    token = _reset_token(env, "voided@example.com")
    changed = browser.post(
        "/api/v3/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert changed.status_code == 204
    late = Browser(env.client).post(
        "/api/v3/auth/password-reset/confirm", {"token": token, "password": "intruder 1 pass"}
    )
    assert late.status_code == 404
    assert browser.get("/api/v3/account").status_code == 200
    assert _sign_in(env, "voided@example.com", NEW_PASSWORD)[1].status_code == 200


def test_a_session_survives_other_cookies_with_json_spaces_or_accents_on_the_domain(
    env: Env,
) -> None:
    # Other apps on the same domain (consent banners, preferences) set such cookies; the
    # browser sends them along, and they must not sign the user out.
    browser = register(env, "crumbs@example.com")
    session = browser.cookies[SESSION]
    for other in ('prefs={"theme":"dark"}', "greeting=hello world", "city=Zürich", 'q="open'):
        cookie = f"{other}; {SESSION}={session}"
        r = env.client.http.get("/api/v3/account", headers={"Cookie": cookie})
        assert r.status_code == 200, (other, r.body)
    csrf = {"X-CSRF-Token": browser.cookies[CSRF]}
    r = env.client.http.post(
        "/api/v3/projects",
        headers={"Cookie": f'prefs={{"a":1}}; {SESSION}={session}', **csrf},
        body=b'{"name": "with crumbs"}',
    )
    assert r.status_code == 201, r.body


def test_a_project_name_must_be_one_line_so_invitation_mail_can_name_it(env: Env) -> None:
    owner = register_verified(env, "lines@example.com")
    project = body(owner.get("/api/v3/projects"))["projects"][0]["uuid"]
    for name in ("evil\nBcc: victim@example.com", "a\rb", "nul\x00byte"):
        created = owner.post("/api/v3/projects", {"name": name})
        assert created.status_code == 400, (name, created.body)
        assert body(created)["field"] == "name"
        renamed = owner.post(f"/api/v3/projects/{project}", {"name": name})
        assert body(renamed)["field"] == "name"
    assert owner.post(f"/api/v3/projects/{project}", {"name": "Ops\tteam"}).status_code == 400
    assert owner.post(f"/api/v3/projects/{project}", {"name": "Ops / Zürich"}).status_code == 200
    invited = owner.post(f"/api/v3/projects/{project}/members", {"email": "mate@example.com"})
    assert invited.status_code == 201
    subject = env.mail.to("mate@example.com")[-1]["Subject"]
    assert "Ops / Zürich" in str(make_header(decode_header(subject)))


def test_sign_in_attempts_from_one_ipv6_network_share_one_per_ip_budget(env: Env) -> None:
    # Anyone with an IPv6 connection has a /64 (2^64 addresses) to themselves: a budget
    # per address would be no limit at all.
    accounts = env.runtime.accounts
    statuses = []
    for i in range(51):
        try:
            accounts.sign_in(f"user{i}@example.com", "guess guess", f"2001:db8:1:2::{i + 1:x}")
        except Unauthorized:
            statuses.append(401)
        except RateLimited:
            statuses.append(429)
    assert statuses == [401] * 50 + [429]
    with pytest.raises(Unauthorized):  # another network still has its own budget
        accounts.sign_in("user0@example.com", "guess guess", "2001:db8:1:3::1")


def test_an_accented_or_differently_cased_address_is_another_address(env: Env) -> None:
    # On MySQL too (the migrations make text compare binary): "alicé@…" must not reach
    # alice's account, neither to sign in nor to receive her reset mail.
    register(env, "alice@example.com")
    anon = Browser(env.client)
    r = anon.post("/api/v3/auth/signin", {"email": "alicé@example.com", "password": PASSWORD})
    assert r.status_code == 401
    for spelling in ("alicé@example.com", "àlice@exämple.com"):
        assert anon.post("/api/v3/auth/password-reset", {"email": spelling}).status_code == 202
    assert env.mail.to("alice@example.com", RESET_SUBJECT) == []
    # Case is not a different address: it is normalised before any lookup.
    r = anon.post("/api/v3/auth/signin", {"email": "ALICE@Example.com", "password": PASSWORD})
    assert r.status_code == 200
