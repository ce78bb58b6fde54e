"""SQS events as Lambda delivers them, for handler tests."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any


def sqs_event(*bodies: str) -> dict[str, Any]:
    """An SQS event as Lambda delivers it, each record with its own messageId."""
    records = []
    for body in bodies:
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "AQEB" + uuid.uuid4().hex,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1772366400000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1772366400001",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-west-1:123456789012:srvpulse-pings",
                "awsRegion": "eu-west-1",
            }
        )
    return {"Records": records}
