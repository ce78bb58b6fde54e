"""pings by check: primary key (check_id, n), no surrogate id, no more secondary indexes

Revision ID: 0012
Revises: 0011

Ingest's cost on SQLite was the pages each batch rewrites (write-ahead log and
checkpoint): a ping touched one random page in each of the table (the old ping it
pruned), ``uq_pings_ping_id``, ``ix_pings_check_id_n`` and ``ix_pings_rid``. Now the
table is kept in ``(check_id, n)`` order (SQLite ``WITHOUT ROWID``; InnoDB clusters by
its primary key), so a check's kept pings are contiguous: a new ping and the pruning of
old ones touch the same few pages. ``uq_pings_ping_id`` repeated what ``ping_receipts``
already guarantees (a ping id is stored once: its receipt is taken first, in the same
transaction); the run ids of a batch are read from each check's contiguous kept pings
(``CheckTx.run_logs``), which the rid index made cheap only while they were scattered.
Rows with the same (check_id, n), which ingest never writes, would keep the newest.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import srvpulse.adapters.sql.types as srvtypes
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    "ping_id, check_id, n, created, kind, exit_status, rid, method, scheme, remote_addr,"
    " ua, body, body_truncated, summary, duration_ms"
)


def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("ping_id", sa.String(length=36), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("created", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("exit_status", sa.Integer(), nullable=True),
        sa.Column("rid", sa.String(length=36), nullable=True),
        sa.Column("method", sa.String(length=10), nullable=False),
        sa.Column("scheme", sa.String(length=10), nullable=False),
        sa.Column("remote_addr", sa.String(length=64), nullable=False),
        sa.Column("ua", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql"), nullable=True),
        sa.Column("body_truncated", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
    ]


def _fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["check_id"], ["checks.id"], name="fk_pings_check_id_checks", ondelete="CASCADE"
    )


def _sqlite_copy(new: str) -> None:
    """Move the rows of ``pings`` into ``new`` (created already) and take its name.
    Oldest first with OR REPLACE: a repeated (check_id, n) keeps the newest row."""
    # The table and column names are this module's own constants.
    op.execute(
        f"INSERT OR REPLACE INTO {new} ({_COLUMNS}) SELECT {_COLUMNS} FROM pings ORDER BY rowid"  # noqa: S608
    )
    op.execute("DROP TABLE pings")
    op.execute(f"ALTER TABLE {new} RENAME TO pings")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # foreign_keys is off while migrations run (db.foreign_keys_off): nothing
        # cascades when the old table is dropped.
        op.create_table(
            "_pings_by_check",
            *_columns(),
            _fk(),
            sa.PrimaryKeyConstraint("check_id", "n", name="pk_pings"),
            sqlite_with_rowid=False,
        )
        _sqlite_copy("_pings_by_check")
        return
    op.execute(
        "DELETE p FROM pings p JOIN pings q ON q.check_id = p.check_id AND q.n = p.n"
        " AND q.id > p.id"
    )
    # The new primary key first: the foreign key on check_id then has an index to use.
    op.execute("ALTER TABLE pings DROP COLUMN id, ADD PRIMARY KEY (check_id, n)")
    op.execute(
        "ALTER TABLE pings DROP INDEX uq_pings_ping_id, DROP INDEX ix_pings_check_id_n,"
        " DROP INDEX ix_pings_rid"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.create_table(
            "_pings_by_id",
            sa.Column("id", sa.Integer(), nullable=False),
            *_columns(),
            _fk(),
            sa.PrimaryKeyConstraint("id", name="pk_pings"),
            sa.UniqueConstraint("ping_id", name="uq_pings_ping_id"),
        )
        op.execute(
            f"INSERT INTO _pings_by_id ({_COLUMNS}) SELECT {_COLUMNS} FROM pings"  # noqa: S608
            " ORDER BY created, check_id, n"
        )
        op.execute("DROP TABLE pings")
        op.execute("ALTER TABLE _pings_by_id RENAME TO pings")
    else:
        op.execute("ALTER TABLE pings ADD INDEX ix_pings_check_id_n (check_id, n)")
        op.execute(
            "ALTER TABLE pings DROP PRIMARY KEY,"
            " ADD COLUMN id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST,"
            " ADD UNIQUE INDEX uq_pings_ping_id (ping_id)"
        )
    op.create_index("ix_pings_rid", "pings", ["rid"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.create_index("ix_pings_check_id_n", "pings", ["check_id", "n"], unique=False)
