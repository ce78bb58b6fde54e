"""MySQL compares text like SQLite does: binary (case- and accent-sensitive)

Revision ID: 0005
Revises: 0004

A MySQL database created without a collation (as RDS creates the stack's) uses the
server default, utf8mb4_0900_ai_ci on MySQL 8 or utf8mb4_general_ci on MariaDB: case-
and accent-insensitive. Then a ping key or slug typed in the wrong case finds a check on
MySQL but not on SQLite, "Backup" and "backup" collide in the unique (project, slug),
and "alicé@exämple.com" finds alice's account. Identifiers here are exact strings, so
every table (and the database default, for tables created later) becomes utf8mb4_bin:
both backends then compare alike. SQLite compares binary already: nothing to do there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "mysql":
        return
    op.execute("ALTER DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    for table in sa.inspect(bind).get_table_names():
        op.execute(f"ALTER TABLE `{table}` CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")


def downgrade() -> None:
    # The collation the database had before is not recorded; binary comparison is
    # what every later revision assumes, so there is nothing to undo.
    pass
