"""The contract every registered notifier keeps, checked against a real peer for each
kind: it formats down, up and reminder alerts, gives up at its timeout, and classifies
a provider's temporary and permanent errors. A new kind must add its peer here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from srvpulse.adapters.email import SmtpMailer
from srvpulse.adapters.memory import RecordingMailer
from srvpulse.domain.model import AlertEvent
from srvpulse.notifiers import KINDS, NotifierContext, validate_config
from srvpulse.ports import Notifier

from tests.alerting_events import ROUTING_KEY, down_event, reminder_event, up_event
from tests.alerting_peers import Reply, http_peer, self_signed_cert, smtp_peer


@dataclass
class Rig:
    notifier: Callable[[float], Notifier]  # built for a given timeout
    config: dict[str, Any]
    received: Callable[[], int]


# behaviour -> peer settings, per kind: "ok", "slow", "temporary", "permanent"
@contextmanager
def email_rig(behaviour: str) -> Iterator[Rig]:
    settings: dict[str, dict[str, Any]] = {
        "ok": {},
        "slow": {"data_delay": 3},
        "temporary": {"data_reply": "451 4.3.0 try again later"},
        "permanent": {"data_reply": "554 5.7.1 rejected"},
    }
    with smtp_peer(**settings[behaviour]) as peer:

        def build(timeout: float) -> Notifier:
            mailer = SmtpMailer("127.0.0.1", peer.port, sender="a@srvpulse.test", timeout=timeout)
            return KINDS["email"].build(NotifierContext(mailer=mailer))

        yield Rig(
            build,
            validate_config("email", {"to": "x@example.com"}, local=True),
            lambda: len(peer.received),
        )


HTTP_REPLIES = {
    "ok": Reply(200, "ok"),
    "slow": Reply(200, "ok", delay=3),
    "temporary": Reply(503, ""),
    "permanent": Reply(400, "invalid"),
}


@contextmanager
def http_rig(kind: str, behaviour: str, reply: Reply | None = None) -> Iterator[Rig]:
    reply = reply or HTTP_REPLIES[behaviour]
    if kind == "pagerduty" and behaviour in ("ok", "slow"):
        reply = Reply(202, '{"status":"success","dedup_key":"k"}', delay=reply.delay)
    tls = kind == "pagerduty"  # the PagerDuty client only speaks https
    with http_peer([reply], tls=tls) as peer:
        ctx = NotifierContext(
            mailer=RecordingMailer(),
            pagerduty_events_url=peer.url,
            ca_file=str(self_signed_cert().cert_path),
            private_targets=True,  # the receiver is on 127.0.0.1
        )
        configs: dict[str, dict[str, Any]] = {
            "slack": {"url": peer.url + "/services/T/B/x"},
            "pagerduty": {"routing_key": ROUTING_KEY},
            "webhook": {"down": {"url": peer.url + "/d"}, "up": {"url": peer.url + "/u"}},
        }
        yield Rig(
            lambda timeout: KINDS[kind].build(ctx),
            validate_config(kind, configs[kind], local=True),
            lambda: len(peer.requests),
        )


@contextmanager
def rig(kind: str, behaviour: str) -> Iterator[Rig]:
    if kind == "email":
        with email_rig(behaviour) as r:
            yield r
    else:
        with http_rig(kind, behaviour) as r:
            yield r


KIND_NAMES = sorted(KINDS)


def test_every_registered_kind_is_covered_by_this_contract() -> None:
    assert set(KIND_NAMES) == {"email", "slack", "pagerduty", "webhook"}


@pytest.mark.parametrize("kind", KIND_NAMES)
@pytest.mark.parametrize("make_event", [down_event, up_event, reminder_event])
def test_every_notifier_sends_down_up_and_reminder_alerts(
    kind: str, make_event: Callable[[], AlertEvent]
) -> None:
    with rig(kind, "ok") as r:
        result = r.notifier(5).send(make_event(), r.config, 5)
        deadline = time.monotonic() + 5
        while r.received() < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert result.ok, result.error
        assert r.received() == 1


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_notifier_gives_up_at_its_timeout_with_a_retryable_failure(kind: str) -> None:
    # The peer answers "ok" after 3 s: a failure proves the notifier gave up first, at
    # its 1 s timeout, with no clock reading that a loaded machine could upset.
    with rig(kind, "slow") as r:
        result = r.notifier(1).send(down_event(), r.config, 1)
    assert not result.ok and result.retryable


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_every_notifier_tells_temporary_from_permanent_errors(kind: str) -> None:
    with rig(kind, "temporary") as r:
        temporary = r.notifier(5).send(down_event(), r.config, 5)
    with rig(kind, "permanent") as r:
        permanent = r.notifier(5).send(down_event(), r.config, 5)
    assert not temporary.ok and temporary.retryable
    assert not permanent.ok and not permanent.retryable
    assert temporary.error and permanent.error


@pytest.mark.parametrize("kind", [k for k in KIND_NAMES if k != "email"])
@pytest.mark.parametrize(
    ("status", "retryable"), [(408, True), (425, True), (429, True), (403, False)]
)
def test_every_http_notifier_reads_a_status_the_same_way(
    kind: str, status: int, retryable: bool
) -> None:
    """One rule (notifiers.base.classify_http) for which answers are worth retrying."""
    with http_rig(kind, "permanent", Reply(status, "")) as r:
        result = r.notifier(5).send(down_event(), r.config, 5)
    assert not result.ok and result.retryable is retryable
