"""SqlTotpStore: TOTP devices and recovery codes. A code or TOTP step is used with a
conditional UPDATE, so a replayed or concurrent use never succeeds twice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, delete, insert, or_, select, update

from ...domain.accounts import TotpDevice
from .tables import recovery_codes, totp_devices


class SqlTotpStore:
    """The TotpStore port over SQLAlchemy Core (SQLite and MySQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def totp_device(self, user_id: int) -> TotpDevice | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(totp_devices).where(totp_devices.c.user_id == user_id)
            ).first()
        if row is None:
            return None
        return TotpDevice(row.user_id, row.secret, row.confirmed_at is not None, row.last_used_step)

    def start_totp_setup(self, user_id: int, secret: str, now: datetime) -> bool:
        """Store a pending (unconfirmed) secret, replacing a pending one. False when a
        confirmed device exists (it must be disabled first)."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(totp_devices.c.confirmed_at).where(totp_devices.c.user_id == user_id)
            ).first()
            if row is not None and row.confirmed_at is not None:
                return False
            conn.execute(delete(totp_devices).where(totp_devices.c.user_id == user_id))
            conn.execute(insert(totp_devices).values(user_id=user_id, secret=secret, created=now))
        return True

    def confirm_totp(
        self, user_id: int, step: int, now: datetime, recovery_code_hashes: Sequence[str]
    ) -> bool:
        """Confirm the pending device (recording ``step`` as used) and store fresh
        recovery codes. False if there was no pending device."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(totp_devices)
                .where(totp_devices.c.user_id == user_id, totp_devices.c.confirmed_at.is_(None))
                .values(confirmed_at=now, last_used_step=step)
            )
            if done.rowcount != 1:
                return False
            conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
            conn.execute(
                insert(recovery_codes),
                [{"user_id": user_id, "code_hash": h} for h in recovery_code_hashes],
            )
        return True

    def use_totp_step(self, user_id: int, step: int) -> bool:
        """Record ``step`` as used; False if it (or a later step) was used already: a
        replayed code. The condition makes two concurrent uses of one code impossible."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(totp_devices)
                .where(
                    totp_devices.c.user_id == user_id,
                    or_(
                        totp_devices.c.last_used_step.is_(None),
                        totp_devices.c.last_used_step < step,
                    ),
                )
                .values(last_used_step=step)
            )
        return done.rowcount == 1

    def use_recovery_code(self, user_id: int, code_hash: str, now: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(recovery_codes)
                .where(
                    recovery_codes.c.user_id == user_id,
                    recovery_codes.c.code_hash == code_hash,
                    recovery_codes.c.used_at.is_(None),
                )
                .values(used_at=now)
            )
        return done.rowcount == 1

    def recovery_codes_left(self, user_id: int) -> int:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(recovery_codes.c.id).where(
                    recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None)
                )
            ).all()
        return len(rows)

    def delete_totp(self, user_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(totp_devices).where(totp_devices.c.user_id == user_id))
            conn.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
