"""alert channels, assignments and notifications

Revision ID: 0003
Revises: 0002

Placeholder kept in the chain so that each area's migration has a fixed place; the
issue that builds the area fills it in.
"""

from collections.abc import Sequence

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
