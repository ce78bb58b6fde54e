"""Ingest function: an SQS batch of pings -> services.ingesting, with partial failures.

Each record is processed on its own: a malformed message (or a check that kept changing)
fails only that record, reported in ``batchItemFailures`` so SQS retries just it and,
after maxReceiveCount, moves it to the DLQ. Never logs bodies or ping keys.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from srvpulse import bootstrap
from srvpulse.domain.model import PingMessage
from srvpulse.services import ping_targets
from srvpulse.services.ingesting import Outcome, ReceiptPruner, ingest_ping

logger = Logger(service="srvpulse-ingest")
_pruner: ReceiptPruner | None = None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    global _pruner
    rt = bootstrap.runtime()
    counts: Counter[str] = Counter()

    def record_handler(record: SQSRecord) -> None:
        message = PingMessage.from_json(record.body)  # raises: this record fails
        result = ingest_ping(rt.check_store, message)
        counts[result.outcome.value] += 1
        if result.outcome is Outcome.ORPHAN:
            logger.info("ping for an unknown check", target=result.target)
        elif result.created_check:
            logger.info("check created by ?create=1", check_id=result.check_id)
            counts["checks_created"] += 1
        if result.flipped_to:
            logger.info("check flipped", check_id=result.check_id, status=result.flipped_to)

    # Not raising on an all-failed batch: the reply lists every record, which SQS and
    # the local runner both handle; an exception would hide which ones failed.
    processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
    reply = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    if counts["checks_created"]:
        ping_targets.publish(rt.check_store, rt.ping_targets)  # the edge learns the slugs
    failed = len(reply["batchItemFailures"])
    logger.info("ingest batch", extra={"failed": failed, **counts})
    if _pruner is None:
        _pruner = ReceiptPruner(rt.settings.ping_receipt_days)
    _pruner.maybe_prune(rt.check_store, datetime.now(UTC))
    return dict(reply)
