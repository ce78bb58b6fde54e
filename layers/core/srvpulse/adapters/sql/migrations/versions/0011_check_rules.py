"""check rules: one JSON column for every check rule's settings

Revision ID: 0011
Revises: 0009

``rule_settings`` holds the settings of the check rules (domain/check_rules/) that
differ from their defaults, as JSON (``{"max_duration": 1800}``), so a new rule needs
no migration. The values of ``min_duration`` and ``max_duration`` are copied into it.
Those two columns stay (the previous release reads them, and the check store keeps
writing them) until a later migration drops them.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch copy of the table on SQLite).
    op.add_column(
        "checks",
        sa.Column("rule_settings", sa.String(length=1000), nullable=False, server_default=""),
    )
    conn = op.get_bind()
    checks = sa.table(
        "checks",
        sa.column("id"),
        sa.column("min_duration"),
        sa.column("max_duration"),
        sa.column("rule_settings"),
    )
    rows = conn.execute(
        sa.select(checks.c.id, checks.c.min_duration, checks.c.max_duration).where(
            sa.or_(checks.c.min_duration.is_not(None), checks.c.max_duration.is_not(None))
        )
    ).fetchall()
    for row in rows:
        settings = {"max_duration": row.max_duration, "min_duration": row.min_duration}
        stored = {k: v for k, v in settings.items() if v is not None}
        conn.execute(
            checks.update()
            .where(checks.c.id == row.id)
            .values(rule_settings=json.dumps(stored, sort_keys=True, separators=(",", ":")))
        )


def downgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("rule_settings")
