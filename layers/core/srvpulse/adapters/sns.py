"""SnsAlertBus: the AlertBus port on Amazon SNS (the analyzer on AWS).

One SNS message per alert event (``AlertEvent.to_json()``), with the message attribute
``channel_kind`` so each alerter function subscribes with a filter policy on its kind.
The boto3 client is created on first use, never at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ..domain.model import AlertEvent

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import PublishBatchRequestEntryTypeDef

# PublishBatch takes at most 10 messages per call:
# https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html
SNS_BATCH_MAX = 10


class AlertPublishFailed(Exception):
    """SNS refused some messages; the analyzer's outbox publishes them again later
    (alerters are idempotent per flip and channel, so a repeat is harmless)."""


class SnsAlertBus:
    def __init__(self, topic_arn: str, region: str | None = None, **client_kwargs: Any) -> None:
        self.topic_arn = topic_arn
        parts = topic_arn.split(":")  # arn:aws:sns:<region>:<account>:<name>
        self.region = region or (parts[3] if len(parts) > 3 else None)
        self._client_kwargs = client_kwargs

    @cached_property
    def client(self) -> SNSClient:
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard"})
        return boto3.client("sns", region_name=self.region, config=config, **self._client_kwargs)

    def publish(self, events: Sequence[AlertEvent]) -> None:
        failed: list[str] = []
        for start in range(0, len(events), SNS_BATCH_MAX):
            chunk = events[start : start + SNS_BATCH_MAX]
            entries: list[PublishBatchRequestEntryTypeDef] = [
                {
                    "Id": str(i),
                    "Message": e.to_json(),
                    "MessageAttributes": {
                        "channel_kind": {
                            "DataType": "String",
                            "StringValue": e.channel_kind or "unknown",
                        }
                    },
                }
                for i, e in enumerate(chunk)
            ]
            reply = self.client.publish_batch(
                TopicArn=self.topic_arn, PublishBatchRequestEntries=entries
            )
            failed.extend(f"{f['Id']}: {f.get('Code', '')}" for f in reply.get("Failed", []))
        if failed:
            raise AlertPublishFailed(f"SNS refused {len(failed)} alert events: {failed[:5]}")
