"""The local mode's in-process fakes keep what tests read, but not without bound: the
local mode runs for months, publishing every alert and (without SMTP) every email."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from srvpulse.adapters import memory
from srvpulse.adapters.memory import LocalAlertBus, RecordingMailer
from srvpulse.domain.model import AlertEvent, FlipReason, Status


def event(n: int) -> AlertEvent:
    return AlertEvent(
        flip_id=n,
        channel_id=1,
        check_uuid="c",
        check_name=f"job-{n}",
        project_id=1,
        status=Status.DOWN,
        reason=FlipReason.LATE,
        created=datetime(2026, 12, 6, tzinfo=UTC),
    )


KEPT = 200


@pytest.fixture(autouse=True)
def keep_few(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "RECENT_KEPT", KEPT)


def test_the_alert_bus_keeps_the_recent_events_and_still_delivers_every_one() -> None:
    bus = LocalAlertBus()
    total = KEPT * 3 + 7
    for start in range(0, total, 30):
        bus.publish([event(n) for n in range(start, min(total, start + 30))])

    assert len(bus.published) <= KEPT
    assert bus.published[-1].flip_id == total - 1  # the newest are the ones kept
    kept = [e.flip_id for e in bus.published]
    assert kept == list(range(total - len(kept), total))
    assert bus.queue.qsize() == total  # the delivery worker still gets all of them


def test_the_recording_mailer_keeps_the_recent_messages() -> None:
    mailer = RecordingMailer()
    for n in range(KEPT + KEPT // 2 + 1):
        message = EmailMessage()
        message["To"] = "owner@example.com"
        message["Subject"] = f"message {n}"
        message.set_content("text")
        mailer.send(message)

    assert len(mailer.sent) <= KEPT
    assert mailer.sent[-1]["Subject"] == f"message {KEPT + KEPT // 2}"
