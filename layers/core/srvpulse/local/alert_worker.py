"""The local mode's alert delivery: drains the LocalAlertBus queue, wraps each event in
an SNS-shaped event and calls the same handler as AWS (functions/alerters). A deferred
delivery is put back after a pause, as SNS/Lambda would retry it."""

from __future__ import annotations

import logging
import queue
import threading
import time
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
# At a stop, how long the alerts still queued get to be delivered. Bounded, so that a
# slow receiver (each attempt may wait its timeout) cannot hold the stop up past the
# workers process's own deadline, which would cut the queue drain (stopped after this
# worker) short as well.
DRAIN_TIMEOUT_S = 20.0
# Then how long a delivery under way gets to end (the worker's thread is a daemon).
DELIVERY_STOP_WAIT_S = 5.0


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
        drain_timeout: float = DRAIN_TIMEOUT_S,
    ) -> None:
        # With ALERT_TOPIC_ARN set the bus is SNS and AWS delivers: nothing to drain.
        self.active = isinstance(bus, LocalAlertBus)
        self.events: queue.Queue[AlertEvent] = (
            bus.queue if isinstance(bus, LocalAlertBus) else queue.Queue()
        )
        self.handler = handler
        self.retry_pause = retry_pause
        self.drain_timeout = drain_timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-worker", daemon=True)
        self._timers: list[threading.Timer] = []

    def start(self) -> None:
        if self.active:
            self._thread.start()

    def stop(self, drain: bool) -> None:
        """Stop; with ``drain`` first deliver what is queued, for at most
        ``drain_timeout`` seconds. What is still queued then, and what waits for a
        retry, is not delivered (logged as a warning with the count)."""
        if drain and self.active:
            self._wait_delivered(self.drain_timeout)
        self._stop.set()
        retrying = [timer for timer in self._timers if timer.is_alive()]
        for timer in retrying:
            timer.cancel()
        if self.active:
            self._thread.join(timeout=DELIVERY_STOP_WAIT_S)
        left = self.events.qsize() + len(retrying)
        if left:
            log.warning("stopped with %d alert(s) not delivered", left)

    def _wait_delivered(self, timeout: float) -> None:
        """Until every queued event was handled (``Queue.join``), or ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.events.all_tasks_done:
            while self.events.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self.events.all_tasks_done.wait(remaining)

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
                self._timers = [t for t in self._timers if t.is_alive()]
                self._timers.append(timer)
                timer.start()
            finally:
                self.events.task_done()
