"""ingest: an index on pings.rid, and the ingest watermark

Revision ID: 0010
Revises: 0008

``ix_pings_rid``: a batch reads what the kept pings of its checks say about its run ids
(``CheckTx.run_logs``) by rid instead of scanning each check's 100 kept pings.
``ingest_watermark``: one row per watermark (``name``); on AWS the ``heartbeat`` row holds
the send time of the newest analyzer heartbeat that ingest has taken off the ping queue
(everything sent before it has been ingested), the analyzer's measure of ingestion lag.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import srvpulse.adapters.sql.types as srvtypes
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pings_rid"), ["rid"], unique=False)
    op.create_table(
        "ingest_watermark",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("at", srvtypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_ingest_watermark")),
    )


def downgrade() -> None:
    op.drop_table("ingest_watermark")
    with op.batch_alter_table("pings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pings_rid"))
