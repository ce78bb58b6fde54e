"""On AWS the InfluxDB endpoint and credentials come from Secrets Manager (moto here),
read when the series store is first used, and the store then talks to a real influxd."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import boto3
from sqlalchemy import Engine
from srvpulse.adapters.influx import InfluxSeriesStore
from srvpulse.domain.runs import SeriesPoint

from tests.conftest import InfluxServer, make_runtime


def test_the_series_store_takes_its_url_and_credentials_from_the_secret(
    aws: None, sqlite_engine: Engine, influxd: InfluxServer
) -> None:
    secrets = boto3.client("secretsmanager", region_name="eu-west-1")
    arn = secrets.create_secret(
        Name="srvpulse/influx",
        SecretString=json.dumps({"url": influxd.url, "username": "srvpulse", "password": "pw"}),
    )["ARN"]
    rt = make_runtime(
        sqlite_engine, mode="aws", influx_secret_arn=arn, influx_database=f"s{uuid.uuid4().hex}"
    )
    store = rt.series_store
    assert isinstance(store, InfluxSeriesStore)
    assert store.url == influxd.url
    point = SeriesPoint(str(uuid.uuid4()), datetime(2026, 5, 1, tzinfo=UTC), "success")
    store.write([point])
    assert store.read(point.check_uuid) == [point]
