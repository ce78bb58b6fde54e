"""series store: embedded series table and the series outbox

Revision ID: 0007
Revises: 0006

``series_points``: every ping as a point (check uuid + receive time, the fields the
InfluxDB adapter writes), the series store of the local mode and SQL-only deployments.
``series_outbox``: points written in the ping's own ingest transaction, shipped to the
series store after commit and deleted once it has them.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import srvpulse.adapters.sql.types as srvtypes
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _point_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("check_uuid", sa.String(length=36), nullable=False),
        sa.Column("at", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("rid", sa.String(length=36), nullable=True),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.Column("report_bytes", sa.Integer(), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "series_points",
        *_point_columns(),
        sa.PrimaryKeyConstraint("check_uuid", "at", name=op.f("pk_series_points")),
    )
    op.create_index(op.f("ix_series_points_at"), "series_points", ["at"], unique=False)
    op.create_table(
        "series_outbox",
        sa.Column("key", sa.String(length=36), nullable=False),
        *_point_columns(),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_series_outbox")),
    )
    op.create_index(op.f("ix_series_outbox_at"), "series_outbox", ["at"], unique=False)


def downgrade() -> None:
    op.drop_table("series_outbox")
    op.drop_table("series_points")
