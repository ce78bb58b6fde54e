"""Accounts on a MariaDB/MySQL database made with the server's default collation, as
the stack's RDS instance is (utf8mb4_0900_ai_ci on MySQL 8, utf8mb4_general_ci on
MariaDB): case- and accent-insensitive, so "alicé@exämple.com" finds alice's row. The
other tests run on utf8mb4_bin, where it does not."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from srvpulse.adapters.sql.db import make_engine, migrate

from tests.conftest import MYSQL_SERVER_URL, require_server

from .account_helpers import Browser, Env, env, register, smtp

__all__ = ["env", "smtp"]  # fixtures

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """Overrides conftest's engine: a migrated database in the server's default
    collation, for this module only."""
    name = f"srvpulse_test_coll_{uuid.uuid4().hex[:10]}"
    try:
        server = make_engine(MYSQL_SERVER_URL + "/")
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE `{name}`"))
    except Exception as exc:
        require_server(f"MariaDB/MySQL not reachable at {MYSQL_SERVER_URL}: {exc}")
    eng = make_engine(f"{MYSQL_SERVER_URL}/{name}")
    try:
        migrate(eng)
        yield eng
    finally:
        eng.dispose()
        with server.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        server.dispose()


def _sign_in(env: Env, email: str, password: str) -> int:
    r = Browser(env.client).post("/api/v3/auth/signin", {"email": email, "password": password})
    return int(r.status_code)


def test_spelling_the_address_with_accents_does_not_refill_the_accounts_sign_in_budget(
    env: Env,
) -> None:
    register(env, "alice@example.com")
    assert [_sign_in(env, "alice@example.com", f"guess {i:04}") for i in range(10)] == [401] * 10
    # The per-account budget is spent: no spelling of the address may try another password.
    for variant in ("alicé@example.com", "àlice@exämple.com"):
        assert _sign_in(env, variant, PASSWORD) == 429, variant


def test_spelling_the_address_with_accents_does_not_send_more_reset_mails(env: Env) -> None:
    register(env, "bob@example.com")
    anon = Browser(env.client)
    spellings = ["bob@example.com", "böb@example.com", "bob@éxample.com", "bôb@example.com"]
    statuses = [
        anon.post("/api/v3/auth/password-reset", {"email": s}).status_code for s in spellings
    ]
    assert statuses == [202, 202, 202, 429]
    assert len(env.mail.to("bob@example.com")) == 3
