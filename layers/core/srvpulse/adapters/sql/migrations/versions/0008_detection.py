"""pattern detection: baselines, anomalies, anomaly alerts

Revision ID: 0008
Revises: 0007

``checks``: ``detection`` (on/off), ``sensitivity`` and ``baseline`` (the learned
state, JSON). ``anomalies``: one row per verdict. ``check_channels.anomaly_alerts``:
the per-assignment switch (on by default). ``alert_events`` carries an anomaly's alerts
too: ``flip_id`` becomes nullable and ``anomaly_id`` is added.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import srvpulse.adapters.sql.types as srvtypes
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("detection", sa.Boolean(), nullable=False, server_default="1")
        )
        batch_op.add_column(
            sa.Column("sensitivity", sa.String(length=8), nullable=False, server_default="normal")
        )
        batch_op.add_column(sa.Column("baseline", sa.Text(), nullable=True))
    with op.batch_alter_table("check_channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anomaly_alerts", sa.Boolean(), nullable=False, server_default="1")
        )
    op.create_table(
        "anomalies",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("run_started", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("ping_n", sa.Integer(), nullable=True),
        sa.Column("explanation", sa.String(length=1000), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("expected_at", srvtypes.UTCDateTime(), nullable=True),
        sa.Column("processed_at", srvtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["checks.id"],
            name=op.f("fk_anomalies_check_id_checks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anomalies")),
        sa.UniqueConstraint("uuid", name=op.f("uq_anomalies_uuid")),
    )
    with op.batch_alter_table("anomalies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_anomalies_check_id_kind_run_started"),
            ["check_id", "kind", "run_started"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_anomalies_check_id_processed_at"), ["check_id", "processed_at"]
        )
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.alter_column("flip_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column("anomaly_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_alert_events_anomaly_id_anomalies"),
            "anomalies",
            ["anomaly_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_alert_events_anomaly_id_channel_id"), ["anomaly_id", "channel_id"]
        )


def downgrade() -> None:
    # Anomaly alerts have no flip: they go with the feature.
    op.execute(sa.text("DELETE FROM alert_events WHERE flip_id IS NULL"))
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_alert_events_anomaly_id_anomalies"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("uq_alert_events_anomaly_id_channel_id"), type_="unique"
        )
        batch_op.drop_column("anomaly_id")
        batch_op.alter_column("flip_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("anomalies")
    with op.batch_alter_table("check_channels", schema=None) as batch_op:
        batch_op.drop_column("anomaly_alerts")
    with op.batch_alter_table("checks", schema=None) as batch_op:
        batch_op.drop_column("baseline")
        batch_op.drop_column("sensitivity")
        batch_op.drop_column("detection")
