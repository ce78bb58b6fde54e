"""In-process implementations of the ports: used by the local mode and by the tests.

Each one records what happened (a fake, not a mock) and is safe to use from several
threads.
"""

from __future__ import annotations

import logging
import threading
from email.message import EmailMessage

log = logging.getLogger(__name__)


class RecordingMailer:
    """The local mode's mailer when no SMTP server is configured: keeps every message
    (``sent``) and logs its recipients and subject, so password-reset links and alerts
    can be read from the log during development."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self.sent.append(message)
        body = message.get_body(preferencelist=("plain",))
        log.info(
            "email (not sent: no SMTP_HOST) to=%s subject=%s\n%s",
            message["To"],
            message["Subject"],
            body.get_content() if body is not None else "",
        )
