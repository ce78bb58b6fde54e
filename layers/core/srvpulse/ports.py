"""Ports: the Protocols the services depend on. Adapters implement them.

Every port has an in-memory or local implementation (adapters/memory.py, local/) used
by the local mode and the tests, and an AWS one (adapters/sqs.py, sns.py, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from typing import Protocol

from .domain.model import AlertEvent, PingMessage


class QueueFull(Exception):
    """The queue cannot take a message now (throttled, unreachable): answer 503."""


class PingQueue(Protocol):
    """Where the ping edge puts accepted pings (SQS on AWS, a durable local queue)."""

    def enqueue(self, message: PingMessage) -> None:
        """Store the message durably or raise QueueFull. Must not block for long."""
        ...


class AlertBus(Protocol):
    """Where the analyzer publishes alert events (SNS on AWS, in-process bus locally)."""

    def publish(self, events: Sequence[AlertEvent]) -> None: ...


class Mailer(Protocol):
    """Sends one email (SMTP locally and self-hosted, SES on AWS). Used for alerts and
    for account mail (password reset, invitations)."""

    def send(self, message: EmailMessage) -> None: ...
