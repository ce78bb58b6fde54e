"""SqlSessionStore: server-side sessions (only the hash of a session id is stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, and_, delete, insert, or_, select, update

from ...domain.accounts import Session
from .tables import sessions


class SqlSessionStore:
    """The SessionStore port over SQLAlchemy Core (SQLite and MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create_session(
        self,
        id_hash: str,
        user_id: int,
        verified: bool,
        now: datetime,
        ip: str,
        user_agent: str,
        replaces: str | None = None,
    ) -> None:
        """Store a new session; ``replaces`` (a previous session's hash) is ended in the
        same transaction, so rotation never leaves both alive."""
        with self.engine.begin() as conn:
            if replaces:
                conn.execute(delete(sessions).where(sessions.c.id_hash == replaces))
            conn.execute(
                insert(sessions).values(
                    id_hash=id_hash,
                    user_id=user_id,
                    verified=verified,
                    created=now,
                    last_seen=now,
                    ip=ip[:64],
                    user_agent=user_agent[:200],
                )
            )

    def session(self, id_hash: str) -> Session | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.id_hash == id_hash)).first()
        if row is None:
            return None
        return Session(row.id_hash, row.user_id, bool(row.verified), row.created, row.last_seen)

    def touch_session(self, id_hash: str, now: datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.id_hash == id_hash).values(last_seen=now)
            )

    def prune_sessions(
        self, user_id: int, last_seen_before: datetime, created_before: datetime
    ) -> None:
        """Delete the user's sessions that timed out (idle or absolute)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(sessions).where(
                    sessions.c.user_id == user_id,
                    or_(
                        sessions.c.last_seen < last_seen_before,
                        sessions.c.created < created_before,
                    ),
                )
            )

    def end_session(self, id_hash: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))

    def end_sessions(self, user_id: int, keep_session: str | None = None) -> None:
        cond = sessions.c.user_id == user_id
        if keep_session:
            cond = and_(cond, sessions.c.id_hash != keep_session)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(cond))
