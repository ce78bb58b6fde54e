"""The local mode's alert delivery: drains the LocalAlertBus queue, wraps each event in
an SNS-shaped event and calls the same handler as AWS (functions/alerters). A deferred
delivery is put back after a pause, as SNS/Lambda would retry it."""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..adapters.memory import LocalAlertBus
from ..domain.model import AlertEvent
from ..ports import AlertBus

log = logging.getLogger(__name__)

TOPIC_ARN = "arn:aws:sns:local:000000000000:srvpulse-alerts"
# Pause before a deferred event is tried again (Lambda's async retries wait about 1 min).
RETRY_PAUSE_S = 30.0


def sns_event(alert: AlertEvent) -> dict[str, Any]:
    """One SNS notification record, as Lambda receives it."""
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{TOPIC_ARN}:{uuid.uuid4()}",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": TOPIC_ARN,
                    "Subject": None,
                    "Message": alert.to_json(),
                    "Timestamp": datetime.now(UTC).isoformat(),
                    "MessageAttributes": {
                        "channel_kind": {"Type": "String", "Value": alert.channel_kind}
                    },
                },
            }
        ]
    }


class AlertWorker:
    """A Worker (srvpulse.local.runner) delivering alerts from the in-process bus."""

    def __init__(
        self,
        bus: AlertBus,
        handler: Callable[[dict[str, Any], Any], dict[str, Any]],
        retry_pause: float = RETRY_PAUSE_S,
    ) -> None:
        # With ALERT_TOPIC_ARN set the bus is SNS and AWS delivers: nothing to drain.
        self.active = isinstance(bus, LocalAlertBus)
        self.events: queue.Queue[AlertEvent] = (
            bus.queue if isinstance(bus, LocalAlertBus) else queue.Queue()
        )
        self.handler = handler
        self.retry_pause = retry_pause
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-worker", daemon=True)
        self._timers: list[threading.Timer] = []

    def start(self) -> None:
        if self.active:
            self._thread.start()

    def stop(self, drain: bool) -> None:
        if drain:
            self.events.join()
        self._stop.set()
        for timer in self._timers:
            timer.cancel()
        if self.active:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                alert = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self.handler(sns_event(alert), None)
            except Exception:
                log.warning("alert delivery deferred; retrying later", exc_info=True)
                timer = threading.Timer(self.retry_pause, self.events.put, (alert,))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
            finally:
                self.events.task_done()
