"""analyzer (schedules, runs, maintenance windows, alert events)

Revision ID: 0002
Revises: 0001

Open runs and the last missed run on checks, processed flips, per-assignment down-period
state, maintenance windows and the alert-event outbox.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import srvpulse.adapters.sql.types as srvtypes
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("open_runs", sa.String(length=4000), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("missed_deadline", srvtypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table("flips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("processed_at", srvtypes.UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_flips_check_id_processed_at"), ["check_id", "processed_at"]
        )
    # Flips from before the analyzer are history: alerting on them now would be stale.
    op.execute(sa.text("UPDATE flips SET processed_at = created WHERE processed_at IS NULL"))

    with op.batch_alter_table("check_channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("down_flip_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("down_since", srvtypes.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("down_reason", sa.String(length=20), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("recovery_flip_id", sa.BigInteger(), nullable=True))

    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("starts_at", srvtypes.UTCDateTime(), nullable=True),
        sa.Column("ends_at", srvtypes.UTCDateTime(), nullable=True),
        sa.Column("schedule", sa.String(length=100), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("tz", sa.String(length=64), nullable=False),
        sa.Column("created", srvtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["checks.id"],
            name=op.f("fk_maintenance_windows_check_id_checks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_maintenance_windows_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_windows")),
        sa.UniqueConstraint("uuid", name=op.f("uq_maintenance_windows_uuid")),
    )
    with op.batch_alter_table("maintenance_windows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_windows_check_id"), ["check_id"])
        batch_op.create_index(
            batch_op.f("ix_maintenance_windows_project_id_check_id"), ["project_id", "check_id"]
        )

    op.create_table(
        "alert_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("flip_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", srvtypes.UTCDateTime(), nullable=True),
        sa.Column("published_at", srvtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_alert_events_channel_id_channels"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["checks.id"],
            name=op.f("fk_alert_events_check_id_checks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["flip_id"],
            ["flips.id"],
            name=op.f("fk_alert_events_flip_id_flips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_events")),
        sa.UniqueConstraint(
            "flip_id", "channel_id", name=op.f("uq_alert_events_flip_id_channel_id")
        ),
    )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_alert_events_published_at_claimed_at"), ["published_at", "claimed_at"]
        )
        batch_op.create_index(
            batch_op.f("ix_alert_events_check_id_created"), ["check_id", "created"]
        )


def downgrade() -> None:
    op.drop_table("alert_events")
    op.drop_table("maintenance_windows")
    with op.batch_alter_table("check_channels", schema=None) as batch_op:
        batch_op.drop_column("recovery_flip_id")
        batch_op.drop_column("down_reason")
        batch_op.drop_column("down_since")
        batch_op.drop_column("down_flip_id")
    with op.batch_alter_table("flips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flips_check_id_processed_at"))
        batch_op.drop_column("processed_at")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_column("missed_deadline")
        batch_op.drop_column("open_runs")
