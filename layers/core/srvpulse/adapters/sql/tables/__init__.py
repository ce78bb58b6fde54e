"""All tables, one module per area, sharing one MetaData.

Importing this package registers every table on ``metadata``.
"""

from .accounts import (
    email_verification_tokens,
    invitations,
    password_reset_tokens,
    project_members,
    recovery_codes,
    sessions,
    throttle_buckets,
    totp_devices,
    users,
)
from .analyzer import alert_events, maintenance_windows
from .base import metadata
from .channels import channels, check_channels
from .checks import (
    api_keys,
    checks,
    flips,
    ingest_watermark,
    orphan_pings,
    ping_receipts,
    pings,
    projects,
)
from .detection import anomalies
from .notifications import channel_health, notifications
from .series import series_outbox, series_points

__all__ = [
    "alert_events",
    "anomalies",
    "api_keys",
    "channel_health",
    "channels",
    "check_channels",
    "checks",
    "email_verification_tokens",
    "flips",
    "ingest_watermark",
    "invitations",
    "maintenance_windows",
    "metadata",
    "notifications",
    "orphan_pings",
    "password_reset_tokens",
    "ping_receipts",
    "pings",
    "project_members",
    "projects",
    "recovery_codes",
    "series_outbox",
    "series_points",
    "sessions",
    "throttle_buckets",
    "totp_devices",
    "users",
]
