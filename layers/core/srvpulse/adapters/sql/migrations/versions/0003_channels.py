"""alert channels, assignments and notifications

Revision ID: 0003
Revises: 0002

Notifications (one row per (flip, channel), unique idempotency key, attempts) and each
channel's delivery health (failing since, last error).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import srvpulse.adapters.sql.types as srvtypes
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", _BigId, autoincrement=True, nullable=False),
        sa.Column("idem_key", sa.String(length=120), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("flip_id", _BigId, nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("check_status", sa.String(length=10), nullable=False),
        sa.Column("is_reminder", sa.Boolean(), nullable=False),
        sa.Column("is_test", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("created", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("updated", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("lease_until", srvtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_notifications_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["checks.id"],
            name=op.f("fk_notifications_check_id_checks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idem_key", name=op.f("uq_notifications_idem_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_check_id_created"), ["check_id", "created"]
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_channel_id_created"), ["channel_id", "created"]
        )

    op.create_table(
        "channel_health",
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("failing_since", srvtypes.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("last_attempt_at", srvtypes.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", srvtypes.UTCDateTime(), nullable=True),
        sa.Column("owner_told_at", srvtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_channel_health_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_channel_health")),
    )


def downgrade() -> None:
    op.drop_table("channel_health")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_channel_id_created"))
        batch_op.drop_index(batch_op.f("ix_notifications_check_id_created"))
    op.drop_table("notifications")
