"""Alert channels and their assignment to checks (migration 0001).

The analyzer (0002) and delivery (0003) migrations add their own state next to these.
"""

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Table, Text

from ..types import UTCDateTime
from .base import metadata

channels = Table(
    "channels",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),  # email | slack | pagerduty | webhook
    Column("name", String(100), nullable=False, default=""),
    Column("config", Text, nullable=False, default="{}"),  # JSON, validated per kind
    Column("created", UTCDateTime, nullable=False),
)

# A channel assigned to a check, with its own first-alert and reminder settings.
check_channels = Table(
    "check_channels",
    metadata,
    Column("check_id", Integer, ForeignKey("checks.id", ondelete="CASCADE"), primary_key=True),
    Column("channel_id", Integer, ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True),
    # First alert only after N consecutive failures and/or after M minutes down.
    Column("after_failures", Integer, nullable=False, default=1),
    Column("after_down_minutes", Integer, nullable=False, default=0),
    # Reminders every X minutes while down, at most Y times (0 = none).
    Column("reminder_every_minutes", Integer, nullable=False, default=0),
    Column("reminder_max", Integer, nullable=False, default=0),
    Column("notify_on_recovery", Boolean, nullable=False, default=True),
    # Alerting state for the current down period (the analyzer maintains it).
    Column("down_alert_sent_at", UTCDateTime, nullable=True),
    Column("reminders_sent", Integer, nullable=False, default=0),
    Column("next_reminder_at", UTCDateTime, nullable=True, index=True),
    Column("created", UTCDateTime, nullable=False),
    # Analyzer (0002): the current down period (domain.rules.Assignment).
    Column("down_flip_id", BigInteger, nullable=True),
    Column("down_since", UTCDateTime, nullable=True),
    Column("down_reason", String(20), nullable=False, default="", server_default=""),
    Column("recovery_flip_id", BigInteger, nullable=True),
    # Pattern detection (0008): whether this channel hears about anomalies.
    Column("anomaly_alerts", Boolean, nullable=False, default=True, server_default="1"),
)
