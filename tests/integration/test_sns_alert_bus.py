"""SnsAlertBus against SNS as moto emulates it: one message per event, with the
``channel_kind`` attribute that each alerter's subscription filters on."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
from srvpulse.adapters.sns import SnsAlertBus
from srvpulse.domain.model import AlertEvent, FlipReason, Status

REGION = "eu-west-1"


def event(flip_id: int, kind: str) -> AlertEvent:
    return AlertEvent(
        flip_id=flip_id,
        channel_id=flip_id * 10,
        check_uuid="5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278",
        check_name="nightly-backup",
        project_id=1,
        status=Status.DOWN,
        reason=FlipReason.LATE,
        created=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        channel_kind=kind,
    )


def subscribe(topic_arn: str, kind: str) -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    sns = boto3.client("sns", region_name=REGION)
    url = sqs.create_queue(QueueName=f"alerts-{kind}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={
            "FilterPolicy": json.dumps({"channel_kind": [kind]}),
            "RawMessageDelivery": "true",
        },
    )
    return url


def received(url: str) -> list[AlertEvent]:
    sqs = boto3.client("sqs", region_name=REGION)
    out: list[AlertEvent] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            out.append(AlertEvent.from_json(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_each_event_reaches_only_the_alerter_of_its_channel_kind(aws: None) -> None:
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="srvpulse-alerts")
    arn = topic["TopicArn"]
    slack_q, email_q = subscribe(arn, "slack"), subscribe(arn, "email")
    events = [event(i, "slack" if i % 3 == 0 else "email") for i in range(1, 24)]
    SnsAlertBus(arn).publish(events)  # 23 events: three PublishBatch calls
    slack, email = received(slack_q), received(email_q)
    assert sorted(e.flip_id for e in slack) == [i for i in range(1, 24) if i % 3 == 0]
    assert len(email) == 23 - len(slack)
    assert slack[0] == next(e for e in events if e.flip_id == slack[0].flip_id)


def test_the_topic_region_comes_from_its_arn() -> None:
    bus = SnsAlertBus("arn:aws:sns:ap-southeast-2:123456789012:srvpulse-alerts")
    assert bus.region == "ap-southeast-2"
