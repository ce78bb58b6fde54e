"""SqlLinkStore: the single-use links srvpulse mails (password reset, address
verification). Using one is a conditional UPDATE (unused and unexpired) whose row count
says who won, so two concurrent uses never both succeed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from ...domain.accounts import VerificationLink
from .tables import email_verification_tokens, password_reset_tokens


class SqlLinkStore:
    """The LinkStore port over SQLAlchemy Core (SQLite and MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_reset_token(
        self, token_hash: str, user_id: int, now: datetime, expires_at: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(password_reset_tokens).values(
                    token_hash=token_hash, user_id=user_id, created=now, expires_at=expires_at
                )
            )

    def use_reset_token(self, token_hash: str, now: datetime) -> int | None:
        t = password_reset_tokens
        with self.engine.begin() as conn:
            used = conn.execute(
                update(t)
                .where(t.c.token_hash == token_hash, t.c.used_at.is_(None), t.c.expires_at > now)
                .values(used_at=now)
            )
            if used.rowcount != 1:
                return None
            user_id: int = conn.execute(
                select(t.c.user_id).where(t.c.token_hash == token_hash)
            ).scalar_one()
        return user_id

    def void_reset_tokens(self, user_id: int, now: datetime) -> None:
        t = password_reset_tokens
        with self.engine.begin() as conn:
            conn.execute(
                update(t).where(t.c.user_id == user_id, t.c.used_at.is_(None)).values(used_at=now)
            )

    def create_verification_token(
        self, token_hash: str, user_id: int, email: str, now: datetime, expires_at: datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(email_verification_tokens).values(
                    token_hash=token_hash,
                    user_id=user_id,
                    email=email,
                    created=now,
                    expires_at=expires_at,
                )
            )

    def use_verification_token(self, token_hash: str, now: datetime) -> VerificationLink | None:
        t = email_verification_tokens
        with self.engine.begin() as conn:
            used = conn.execute(
                update(t)
                .where(t.c.token_hash == token_hash, t.c.used_at.is_(None), t.c.expires_at > now)
                .values(used_at=now)
            )
            row = conn.execute(
                select(t.c.user_id, t.c.email).where(t.c.token_hash == token_hash)
            ).first()
        if row is None:
            return None
        return VerificationLink(row.user_id, row.email, used_now=used.rowcount == 1)

    def void_verification_tokens(self, user_id: int, now: datetime) -> None:
        t = email_verification_tokens
        with self.engine.begin() as conn:
            conn.execute(
                update(t).where(t.c.user_id == user_id, t.c.used_at.is_(None)).values(used_at=now)
            )
