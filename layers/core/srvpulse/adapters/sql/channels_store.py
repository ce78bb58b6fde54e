"""SQL side of alert delivery: channel targets, notifications (claimed by a unique
idempotency key) and channel health. SQLAlchemy Core; the same on SQLite and MySQL."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ...domain.delivery import ChannelRow, ChannelTarget, Claim, NotificationRecord
from ...domain.model import AlertEvent
from .tables import (
    channel_health,
    channels,
    check_channels,
    checks,
    notifications,
    project_members,
    users,
)

# Notifications in these states are finished: a redelivered event must not send again.
_DONE = ("sent", "failed")


class SqlNotificationStore:
    """Implements ports.NotificationStore."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def channel_target(self, channel_id: int) -> ChannelTarget | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    channels.c.id,
                    channels.c.project_id,
                    channels.c.kind,
                    channels.c.name,
                    channels.c.config,
                ).where(channels.c.id == channel_id)
            ).first()
        if row is None:
            return None
        return ChannelTarget(row.id, row.project_id, row.kind, row.name, json.loads(row.config))

    def check_exists(self, check_uuid: str) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(select(checks.c.id).where(checks.c.uuid == check_uuid)).first()
        return found is not None

    def claim(
        self,
        key: str,
        event: AlertEvent,
        kind: str,
        is_test: bool,
        now: datetime,
        lease_until: datetime,
    ) -> Claim | None:
        with self.engine.begin() as conn:
            check_id = conn.execute(
                select(checks.c.id).where(checks.c.uuid == event.check_uuid)
            ).scalar()
            try:
                with conn.begin_nested():
                    result = conn.execute(
                        insert(notifications).values(
                            idem_key=key,
                            channel_id=event.channel_id,
                            check_id=check_id,
                            flip_id=None if is_test else event.flip_id,
                            kind=kind,
                            check_status=event.status.value,
                            is_reminder=event.is_reminder,
                            is_test=is_test,
                            status="sending",
                            attempts=0,
                            error="",
                            created=now,
                            updated=now,
                            lease_until=lease_until,
                        )
                    )
                    pk = result.inserted_primary_key
                    assert pk is not None
                    return Claim(int(pk[0]), 0)
            except IntegrityError:
                pass  # the key exists: a redelivery, or a retry of a deferred delivery
            row = conn.execute(
                select(notifications.c.id, notifications.c.attempts).where(
                    notifications.c.idem_key == key
                )
            ).first()
            if row is None:
                return None
            # Take it over only if unfinished and nobody holds a live lease on it; the
            # conditional UPDATE makes two concurrent redeliveries agree on one winner.
            taken = conn.execute(
                update(notifications)
                .where(
                    and_(
                        notifications.c.id == row.id,
                        notifications.c.status.not_in(_DONE),
                        or_(
                            notifications.c.lease_until.is_(None),
                            notifications.c.lease_until <= now,
                        ),
                    )
                )
                .values(status="sending", lease_until=lease_until, updated=now)
            ).rowcount
            return Claim(row.id, row.attempts) if taken == 1 else None

    def record(
        self, notification_id: int, status: str, attempts: int, error: str, now: datetime
    ) -> None:
        # A row left "retrying" releases its lease, so a redelivery may take it at once.
        values: dict[str, object] = {
            "status": str(status),
            "attempts": attempts,
            "error": error[:500],
            "updated": now,
        }
        if str(status) != "sending":
            values["lease_until"] = None
        with self.engine.begin() as conn:
            conn.execute(
                update(notifications).where(notifications.c.id == notification_id).values(values)
            )

    def channel_result(
        self, channel_id: int, ok: bool, error: str, broken: bool, now: datetime
    ) -> bool:
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(channel_health.c.channel_id).where(channel_health.c.channel_id == channel_id)
            ).first()
            if exists is None:
                try:
                    with conn.begin_nested():
                        conn.execute(
                            insert(channel_health).values(
                                channel_id=channel_id, last_error="", last_attempt_at=now
                            )
                        )
                except IntegrityError:
                    pass
            h = channel_health.c
            if ok:
                conn.execute(
                    update(channel_health)
                    .where(h.channel_id == channel_id)
                    .values(
                        failing_since=None,
                        last_error="",
                        last_attempt_at=now,
                        last_success_at=now,
                        owner_told_at=None,
                    )
                )
                return False
            conn.execute(
                update(channel_health)
                .where(h.channel_id == channel_id)
                .values(last_error=error[:500], last_attempt_at=now)
            )
            if not broken:
                return False
            conn.execute(
                update(channel_health)
                .where(and_(h.channel_id == channel_id, h.failing_since.is_(None)))
                .values(failing_since=now)
            )
            # Exactly one caller wins the right to tell the owner, once per failing period.
            told = conn.execute(
                update(channel_health)
                .where(and_(h.channel_id == channel_id, h.owner_told_at.is_(None)))
                .values(owner_told_at=now)
            ).rowcount
            return told == 1

    def owner_emails(self, project_id: int) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(users.c.email)
                .join(project_members, project_members.c.user_id == users.c.id)
                .where(
                    and_(
                        project_members.c.project_id == project_id,
                        project_members.c.role == "owner",
                    )
                )
            ).all()
        return [r.email for r in rows]

    def notifications_for_check(self, check_id: int, limit: int = 100) -> list[NotificationRecord]:
        n = notifications.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(notifications, channels.c.uuid.label("channel_uuid"))
                .join(channels, channels.c.id == n.channel_id)
                .where(n.check_id == check_id)
                .order_by(n.created.desc(), n.id.desc())
                .limit(limit)
            ).all()
        return [
            NotificationRecord(
                id=r.id,
                channel_id=r.channel_id,
                channel_uuid=r.channel_uuid,
                channel_kind=r.kind,
                check_status=r.check_status,
                is_reminder=r.is_reminder,
                is_test=r.is_test,
                status=r.status,
                attempts=r.attempts,
                error=r.error,
                created=r.created,
                updated=r.updated,
            )
            for r in rows
        ]


class SqlChannelStore:
    """Channels CRUD, assignments to checks and the per-check notification list."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.notifications = SqlNotificationStore(engine)

    def list_channels(self, project_id: int) -> list[ChannelRow]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(channels, channel_health.c.failing_since, channel_health.c.last_error)
                .outerjoin(channel_health, channel_health.c.channel_id == channels.c.id)
                .where(channels.c.project_id == project_id)
                .order_by(channels.c.created, channels.c.id)
            ).all()
        return [_channel_row(r) for r in rows]

    def get_channel(self, project_id: int, channel_uuid: str) -> ChannelRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(
                select(channels, channel_health.c.failing_since, channel_health.c.last_error)
                .outerjoin(channel_health, channel_health.c.channel_id == channels.c.id)
                .where(and_(channels.c.project_id == project_id, channels.c.uuid == channel_uuid))
            ).first()
        return None if r is None else _channel_row(r)

    def add_channel(
        self,
        project_id: int,
        channel_uuid: str,
        kind: str,
        name: str,
        config: dict[str, object],
        now: datetime,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(channels).values(
                    uuid=channel_uuid,
                    project_id=project_id,
                    kind=kind,
                    name=name,
                    config=json.dumps(config),
                    created=now,
                )
            )

    def update_channel(self, channel_id: int, name: str, config: dict[str, object]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(channels)
                .where(channels.c.id == channel_id)
                .values(name=name, config=json.dumps(config))
            )
            # New configuration: give it a fresh chance (and a fresh owner email).
            conn.execute(
                update(channel_health)
                .where(channel_health.c.channel_id == channel_id)
                .values(failing_since=None, owner_told_at=None)
            )

    def delete_channel(self, channel_id: int) -> None:
        with self.engine.begin() as conn:
            for table, column in (
                (notifications, notifications.c.channel_id),
                (channel_health, channel_health.c.channel_id),
                (check_channels, check_channels.c.channel_id),
            ):
                conn.execute(delete(table).where(column == channel_id))
            conn.execute(delete(channels).where(channels.c.id == channel_id))

    def check_id(self, project_id: int, check_uuid: str) -> int | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(checks.c.id).where(
                    and_(checks.c.project_id == project_id, checks.c.uuid == check_uuid)
                )
            ).scalar()
        return None if value is None else int(value)

    def assign(
        self, check_id: int, channel_id: int, settings: dict[str, object], now: datetime
    ) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(check_channels)
                .where(
                    and_(
                        check_channels.c.check_id == check_id,
                        check_channels.c.channel_id == channel_id,
                    )
                )
                .values(**settings)
            ).rowcount
            if not done:
                conn.execute(
                    insert(check_channels).values(
                        check_id=check_id, channel_id=channel_id, created=now, **settings
                    )
                )
            # New settings can make an alert or a reminder due for a check that is
            # already down (reminders switched on, a shorter delay): the analyzer looks
            # at the check on its next pass. The version bump makes a pass that read
            # the check before this change lose its race instead of clearing the wake-up.
            c = checks.c
            conn.execute(
                update(checks)
                .where(
                    c.id == check_id,
                    or_(c.next_reminder_at.is_(None), c.next_reminder_at > now),
                )
                .values(next_reminder_at=now, version=c.version + 1)
            )

    def unassign(self, check_id: int, channel_id: int) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    delete(check_channels).where(
                        and_(
                            check_channels.c.check_id == check_id,
                            check_channels.c.channel_id == channel_id,
                        )
                    )
                ).rowcount
            )

    def assignments(self, check_id: int) -> list[dict[str, object]]:
        cc = check_channels.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    channels.c.uuid,
                    cc.after_failures,
                    cc.after_down_minutes,
                    cc.reminder_every_minutes,
                    cc.reminder_max,
                    cc.notify_on_recovery,
                    cc.anomaly_alerts,
                )
                .join(channels, channels.c.id == cc.channel_id)
                .where(cc.check_id == check_id)
            ).all()
        return [dict(r._mapping) for r in rows]

    def notifications_for_check(self, check_id: int, limit: int = 100) -> list[NotificationRecord]:
        return self.notifications.notifications_for_check(check_id, limit)


def _channel_row(r: Any) -> ChannelRow:
    return ChannelRow(
        id=r.id,
        uuid=r.uuid,
        project_id=r.project_id,
        kind=r.kind,
        name=r.name,
        config=json.loads(r.config),
        created=r.created,
        failing_since=r.failing_since,
        last_error=r.last_error or "",
    )
