"""email address verification

Revision ID: 0006
Revises: 0005

``users.email_verified_at`` (NULL until the owner of the address proves it) and
``email_verification_tokens`` (mailed 24-hour single-use links, stored as sha256).

Accounts that exist at upgrade time count as verified (``email_verified_at = created``):
  - what verification now guards, invitations becoming memberships, those accounts
    already went through at registration (an invitation to an existing account became
    a membership at once), so withholding it now would protect nothing that is still
    pending;
  - a migration cannot mail them a link, so they would silently stop receiving project
    invitations until they found the resend button;
  - the hole it closes (registering someone else's address to inherit its invitations)
    is closed for every account created from this revision on, and the real owner of a
    squatted address takes the account over with a password reset at any time.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import srvpulse.adapters.sql.types as srvtypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", srvtypes.UTCDateTime(), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created")

    op.create_table(
        "email_verification_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", srvtypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", srvtypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_verification_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_email_verification_tokens")),
    )
    with op.batch_alter_table("email_verification_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_email_verification_tokens_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    # Dropping the table drops its index (MySQL refuses to drop that index alone: the
    # foreign key needs it).
    op.drop_table("email_verification_tokens")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
