"""accounts, sessions, memberships and throttling

Revision ID: 0004
Revises: 0003

Placeholder kept in the chain so that each area's migration has a fixed place; the
issue that builds the area fills it in.
"""

from collections.abc import Sequence

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
