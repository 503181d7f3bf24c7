"""E-mail change links: the address each one moves its account to.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add `one_time_tokens.new_email` and `one_time_tokens.session_id`."""
    with op.batch_alter_table("one_time_tokens") as batch:
        batch.add_column(sa.Column("new_email", sa.String(320), nullable=True))
        batch.add_column(sa.Column("session_id", sa.String(32), nullable=True))


def downgrade() -> None:
    """Drop them again (links of pending e-mail changes go with them)."""
    op.execute("DELETE FROM one_time_tokens WHERE purpose = 'email_change'")
    with op.batch_alter_table("one_time_tokens") as batch:
        batch.drop_column("session_id")
        batch.drop_column("new_email")
