"""analyzer (schedules, runs, maintenance windows, alert events)

Revision ID: 0002
Revises: 0001

Placeholder kept in the chain so that each area's migration has a fixed place; the
issue that builds the area fills it in.
"""

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
