"""console: one-time login links, and which event a re-processed rejected event became

The admin console lets an admin in with a link the bot sends (valid minutes, used once);
the link's token is stored only as its SHA-256. An inbox event that an admin re-processed
points at the event it became, so the inbox shows it as done. A lead is found by its
number through an index (the console's search, the bot's `/lead`).

Revision ID: 0012_console
Revises: 0011_repeat_lookups
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0012_console"
down_revision: str | None = "0011_repeat_lookups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "console_login",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("inbox_event") as batch:
        batch.add_column(sa.Column("reprocessed_as", sa.Integer(), nullable=True))
    op.create_index("ix_lead_num", "lead", ["num"])


def downgrade() -> None:
    op.drop_index("ix_lead_num", table_name="lead")
    with op.batch_alter_table("inbox_event") as batch:
        batch.drop_column("reprocessed_as")
    op.drop_table("console_login")
