"""Analyzer tables (migration 0002): maintenance windows and the alert-event outbox.

Columns the analyzer adds to ``checks``, ``flips`` and ``check_channels`` are declared
with those tables (tables/checks.py, tables/channels.py).
"""

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from ..types import UTCDateTime
from .base import metadata

# A window during which checks do not alert: one-off (starts_at..ends_at) or recurring
# (cron ``schedule`` in ``tz`` opens it for ``duration`` seconds). check_id NULL = every
# check of the project.
maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(100), nullable=False, default=""),
    Column("starts_at", UTCDateTime, nullable=True),
    Column("ends_at", UTCDateTime, nullable=True),
    Column("schedule", String(100), nullable=False, default=""),
    Column("duration", Integer, nullable=False, default=0),
    Column("tz", String(64), nullable=False, default="UTC"),
    Column("created", UTCDateTime, nullable=False),
    Index(None, "check_id"),
    Index(None, "project_id", "check_id"),
)

# The outbox: one row per (flip, channel) the analyzer decided to alert, written in the
# same transaction as the flip. The unique key makes "exactly once" a database fact;
# ``published_at`` NULL rows are re-published by the next pass after a crash.
alert_events = Table(
    "alert_events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    # A flip's alert, or (0008) an anomaly's: exactly one of flip_id, anomaly_id.
    Column("flip_id", BigInteger, ForeignKey("flips.id", ondelete="CASCADE"), nullable=True),
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(10), nullable=False),  # down | up | reminder
    Column("payload", Text, nullable=False),  # AlertEvent.to_json()
    Column("created", UTCDateTime, nullable=False),
    Column("claimed_at", UTCDateTime, nullable=True),  # a publisher is on it (lease)
    Column("published_at", UTCDateTime, nullable=True),
    Column(
        "anomaly_id",
        BigInteger,
        ForeignKey("anomalies.id", ondelete="CASCADE"),
        nullable=True,
    ),
    UniqueConstraint("flip_id", "channel_id"),
    UniqueConstraint("anomaly_id", "channel_id"),
    Index(None, "published_at", "claimed_at"),
    Index(None, "check_id", "created"),
)
