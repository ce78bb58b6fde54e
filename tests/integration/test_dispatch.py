"""The dispatch function on both databases, delivering to real local receivers:
retries with backoff, Retry-After, idempotency per (flip, channel), recording, failing
channels and telling the owner. Waits go through a recorded ``sleep`` so no test
actually waits."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select
from srvpulse.adapters.memory import RecordingMailer
from srvpulse.adapters.sql.channels_store import SqlNotificationStore
from srvpulse.adapters.sql.tables import (
    channel_health,
    channels,
    checks,
    notifications,
    project_members,
    projects,
    users,
)
from srvpulse.domain.delivery import RetryPolicy
from srvpulse.notifiers import NotifierContext, build_notifiers
from srvpulse.services.alerting import DeliveryDeferred, Dispatcher, dispatch

from tests.alerting_events import CHECK_UUID, down_event
from tests.alerting_peers import Reply, http_peer

NOW = datetime(2026, 11, 25, 3, 12, tzinfo=UTC)


def _seed(engine: Engine, kind: str, config: dict[str, Any], owner: str | None = None) -> int:
    with engine.begin() as conn:
        pid = conn.execute(
            insert(projects).values(uuid=str(uuid.uuid4()), name="p", ping_key="k", created=NOW)
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(checks).values(
                uuid=CHECK_UUID, project_id=pid, name="nightly-backup", created=NOW
            )
        )
        cid = conn.execute(
            insert(channels).values(
                uuid=str(uuid.uuid4()),
                project_id=pid,
                kind=kind,
                name="ops",
                config=json.dumps(config),
                created=NOW,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        if owner:
            uid = conn.execute(
                insert(users).values(
                    uuid=str(uuid.uuid4()),
                    email=owner,
                    password_hash="x",
                    created=NOW,
                    password_changed_at=NOW,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(project_members).values(
                    project_id=pid, user_id=uid, role="owner", created=NOW
                )
            )
    return int(cid)


class Rig:
    def __init__(self, engine: Engine, **policy: Any) -> None:
        self.sleeps: list[float] = []
        self.mailer = RecordingMailer()
        self.engine = engine
        self.dispatcher = Dispatcher(
            store=SqlNotificationStore(engine),
            notifiers=build_notifiers(NotifierContext(mailer=self.mailer, private_targets=True)),
            mailer=self.mailer,
            policy=RetryPolicy(**policy),
            clock=lambda: NOW,
            sleep=self.sleeps.append,
            rand=lambda: 0.5,
        )

    def rows(self) -> list[Any]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(notifications).order_by(notifications.c.id)).all())


def _webhook(url: str) -> dict[str, Any]:
    return {"down": {"url": url, "method": "POST", "headers": {}, "body": "$NAME"}, "up": None}


def test_a_redelivered_event_is_sent_only_once(engine: Engine) -> None:
    with http_peer([Reply(200)]) as hook:
        channel = _seed(engine, "webhook", _webhook(hook.url))
        rig = Rig(engine)
        event = down_event(channel_id=channel)
        assert dispatch(rig.dispatcher, event) == "sent"
        assert dispatch(rig.dispatcher, event) == "sent"
    assert len(hook.requests) == 1
    (row,) = rig.rows()
    assert (row.status, row.attempts, row.flip_id, row.check_status) == ("sent", 1, 41, "down")


def test_server_errors_are_retried_with_growing_jittered_backoff_then_sent(engine: Engine) -> None:
    with http_peer([Reply(500), Reply(502), Reply(200)]) as hook:
        rig = Rig(engine, base_delay=1.0)
        channel = _seed(engine, "webhook", _webhook(hook.url))
        assert dispatch(rig.dispatcher, down_event(channel_id=channel)) == "sent"
    assert len(hook.requests) == 3
    assert rig.sleeps == [0.5, 1.0]  # full jitter (rand=0.5) of 1 s, then 2 s
    (row,) = rig.rows()
    assert (row.status, row.attempts, row.error) == ("sent", 3, "")


def test_a_429_waits_at_least_the_retry_after(engine: Engine) -> None:
    with http_peer([Reply(429, headers={"Retry-After": "3"}), Reply(200)]) as hook:
        rig = Rig(engine)
        channel = _seed(engine, "webhook", _webhook(hook.url))
        assert dispatch(rig.dispatcher, down_event(channel_id=channel)) == "sent"
    assert rig.sleeps == [3.0]


def test_a_long_retry_after_hands_the_event_back_and_a_redelivery_finishes_it(
    engine: Engine,
) -> None:
    with http_peer([Reply(429, headers={"Retry-After": "600"}), Reply(200)]) as hook:
        rig = Rig(engine)
        channel = _seed(engine, "webhook", _webhook(hook.url))
        event = down_event(channel_id=channel)
        with pytest.raises(DeliveryDeferred):
            dispatch(rig.dispatcher, event)
        (row,) = rig.rows()
        assert (row.status, row.attempts) == ("retrying", 1)
        assert "429" in row.error
        assert dispatch(rig.dispatcher, event) == "sent"
    (row,) = rig.rows()
    assert (row.status, row.attempts) == ("sent", 2)


def test_retries_stop_at_max_attempts_and_the_failure_is_recorded(engine: Engine) -> None:
    with http_peer([Reply(503)]) as hook:
        rig = Rig(engine, max_attempts=3)
        channel = _seed(engine, "webhook", _webhook(hook.url))
        assert dispatch(rig.dispatcher, down_event(channel_id=channel)) == "failed"
    assert len(hook.requests) == 3
    (row,) = rig.rows()
    assert (row.status, row.attempts) == ("failed", 3)
    assert "503" in row.error


def test_a_permanent_error_is_not_retried(engine: Engine) -> None:
    with http_peer([Reply(400)]) as hook:
        rig = Rig(engine)
        channel = _seed(engine, "webhook", _webhook(hook.url))
        assert dispatch(rig.dispatcher, down_event(channel_id=channel)) == "failed"
    assert len(hook.requests) == 1 and rig.sleeps == []


def test_a_dead_slack_webhook_marks_the_channel_failing_and_tells_the_owner_once(
    engine: Engine,
) -> None:
    with http_peer([Reply(404, "no_service"), Reply(404, "no_service"), Reply(200, "ok")]) as slack:
        secret_url = slack.url + "/services/T0/B0/SECRET"
        channel = _seed(engine, "slack", {"url": secret_url}, owner="owner@example.com")
        rig = Rig(engine)
        dispatch(rig.dispatcher, down_event(channel_id=channel, flip_id=1))
        dispatch(rig.dispatcher, down_event(channel_id=channel, flip_id=2))
        with engine.connect() as conn:
            health = conn.execute(select(channel_health)).one()
        assert health.failing_since == NOW and "no_service" in health.last_error
        (told,) = rig.mailer.sent
        assert told["To"] == "owner@example.com"
        assert "stopped working" in told["Subject"]
        assert "SECRET" not in told.as_string()
        # the next successful delivery clears the failing state
        assert dispatch(rig.dispatcher, down_event(channel_id=channel, flip_id=3)) == "sent"
    with engine.connect() as conn:
        health = conn.execute(select(channel_health)).one()
    assert health.failing_since is None
    assert all("SECRET" not in r.error for r in rig.rows())


def test_a_reminder_is_its_own_notification(engine: Engine) -> None:
    with http_peer([Reply(200)]) as hook:
        rig = Rig(engine)
        channel = _seed(engine, "webhook", _webhook(hook.url))
        dispatch(rig.dispatcher, down_event(channel_id=channel))
        later = datetime(2026, 11, 25, 4, 12, tzinfo=UTC)
        dispatch(rig.dispatcher, down_event(channel_id=channel, is_reminder=True, created=later))
    assert len(hook.requests) == 2
    assert [r.is_reminder for r in rig.rows()] == [False, True]


def test_an_alert_for_a_check_deleted_since_it_was_published_is_not_sent(
    engine: Engine,
) -> None:
    with http_peer([Reply(200)]) as hook:
        channel = _seed(engine, "webhook", _webhook(hook.url))
        with engine.begin() as conn:
            conn.execute(delete(checks).where(checks.c.uuid == CHECK_UUID))
        rig = Rig(engine)
        assert dispatch(rig.dispatcher, down_event(channel_id=channel)) == "failed"
    assert hook.requests == []
