"""The embedded series store and the series outbox (migration 0007).

``series_points`` is the SeriesStore of the local mode and SQL-only deployments: one
row per point, keyed like an InfluxDB point (check uuid + time), so a redelivered ping
replaces its row. ``series_outbox`` holds points written in the ping's own ingest
transaction and not yet shipped to the series store (whichever adapter it is).
"""

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table

from ..types import UTCDateTime
from .base import metadata

series_points = Table(
    "series_points",
    metadata,
    Column("check_uuid", String(36), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("exit_status", Integer, nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    Column("rid", String(36), nullable=True),
    Column("summary", String(500), nullable=True),
    Column("report_bytes", Integer, nullable=False, default=0),
    Column("remote_addr", String(64), nullable=False, default=""),
    PrimaryKeyConstraint("check_uuid", "at"),
    Index(None, "at"),  # retention pruning
)

series_outbox = Table(
    "series_outbox",
    metadata,
    Column("key", String(36), primary_key=True),  # the ping id
    Column("check_uuid", String(36), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("exit_status", Integer, nullable=True),
    Column("duration_ms", BigInteger, nullable=True),
    Column("rid", String(36), nullable=True),
    Column("summary", String(500), nullable=True),
    Column("report_bytes", Integer, nullable=False, default=0),
    Column("remote_addr", String(64), nullable=False, default=""),
    Index(None, "at"),  # oldest first: shipping order and the lag
)
