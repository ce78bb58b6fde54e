"""Alert delivery: one row per notification (one (flip, channel) pair, or one test
send) with its attempts, and each channel's delivery health (migration 0003)."""

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, String, Table

from ..types import UTCDateTime
from .base import metadata

_BigId = BigInteger().with_variant(Integer, "sqlite")

notifications = Table(
    "notifications",
    metadata,
    Column("id", _BigId, primary_key=True, autoincrement=True),
    # Idempotency: "flip-<id>-channel-<id>" (plus the time for reminders, "test-<uuid>"
    # for test sends). The unique key is what stops a redelivered SNS message from
    # sending twice: the first delivery claims the row.
    Column("idem_key", String(120), nullable=False, unique=True),
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), nullable=True),
    Column("flip_id", _BigId, nullable=True),
    Column("kind", String(20), nullable=False),
    Column("check_status", String(10), nullable=False),  # down | up (what was announced)
    Column("is_reminder", Boolean, nullable=False, default=False),
    Column("is_test", Boolean, nullable=False, default=False),
    Column("status", String(10), nullable=False),  # sending | sent | retrying | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", String(500), nullable=False, default=""),
    Column("created", UTCDateTime, nullable=False),
    Column("updated", UTCDateTime, nullable=False),
    # While "sending", another worker must not take the row before this time.
    Column("lease_until", UTCDateTime, nullable=True),
    Index(None, "check_id", "created"),
    Index(None, "channel_id", "created"),
)

# Delivery health per channel: failing_since is set on a permanent error (dead
# webhook, invalid routing key) and cleared by the next successful send.
channel_health = Table(
    "channel_health",
    metadata,
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    Column("failing_since", UTCDateTime, nullable=True),
    Column("last_error", String(500), nullable=False, default=""),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("owner_told_at", UTCDateTime, nullable=True),
)
