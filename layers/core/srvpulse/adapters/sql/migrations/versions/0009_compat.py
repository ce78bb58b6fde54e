"""compat: Healthchecks' keyword filtering fields on checks

Revision ID: 0009
Revises: 0010

``filter_http_body``, ``filter_default_fail``, ``start_kw``, ``success_kw``,
``failure_kw`` decide a ping's kind from its body (domain/keywords.py);
``filter_subject`` and ``filter_body`` (email pings) are stored and shown only.
``badge_key`` (unique): a check's badge URL key, derived one-way from its uuid.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from srvpulse.domain.badges import check_badge_key

revision: str = "0009"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FLAGS = ("filter_subject", "filter_body", "filter_http_body", "filter_default_fail")
_WORDS = ("start_kw", "success_kw", "failure_kw")


def upgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        for name in _FLAGS:
            batch.add_column(
                sa.Column(name, sa.Boolean(), nullable=False, server_default=sa.false())
            )
        for name in _WORDS:
            batch.add_column(
                sa.Column(name, sa.String(length=200), nullable=False, server_default="")
            )
        batch.add_column(sa.Column("badge_key", sa.String(length=36), nullable=True))
        batch.create_unique_constraint("uq_checks_badge_key", ["badge_key"])
    conn = op.get_bind()
    checks = sa.table("checks", sa.column("id"), sa.column("uuid"), sa.column("badge_key"))
    for row in conn.execute(sa.select(checks.c.id, checks.c.uuid)).fetchall():
        conn.execute(
            checks.update()
            .where(checks.c.id == row.id)
            .values(badge_key=check_badge_key(str(row.uuid)))
        )


def downgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.drop_constraint("uq_checks_badge_key", type_="unique")
        batch.drop_column("badge_key")
        for name in (*_WORDS, *_FLAGS):
            batch.drop_column(name)
