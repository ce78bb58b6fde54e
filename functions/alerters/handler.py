"""Alerters function: SNS-triggered (one subscription per channel kind, filtered on the
``channel_kind`` message attribute), delivers each alert event through the one dispatch
function. A deferred (retryable, out of time) delivery fails the invocation so Lambda's
asynchronous retries redeliver it; after those it goes to the on-failure destination
(DLQ). Redeliveries are harmless: dispatch is idempotent per (flip, channel).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from srvpulse import bootstrap
from srvpulse.domain.model import AlertEvent
from srvpulse.services.alerting import DeliveryDeferred, dispatch

logger = Logger(service="srvpulse-alerters")


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    dispatcher = bootstrap.runtime().dispatcher
    results: dict[str, int] = {}
    deferred: list[str] = []
    for record in event.get("Records", []):
        alert = AlertEvent.from_json(record["Sns"]["Message"])
        try:
            status = dispatch(dispatcher, alert)
        except DeliveryDeferred as exc:
            deferred.append(str(exc))
            continue
        results[status] = results.get(status, 0) + 1
    logger.info("alerts delivered", extra={"results": results, "deferred": len(deferred)})
    if deferred:
        raise DeliveryDeferred(f"{len(deferred)} alert(s) deferred: " + "; ".join(deferred))
    return {"results": results}
