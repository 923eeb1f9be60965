"""listed leads: where a lead shown only in a summary was listed, for its reminder

A lead of a burst, or of a reconcile that recovered many, is shown in a chat as a line of
a summary message, not as a card. Its SLA reminder in that chat replies to that message,
which this table names per lead and chat.

Revision ID: 0015_listed_leads
Revises: 0014_lead_taken_by
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0015_listed_leads"
down_revision: str | None = "0014_lead_taken_by"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listed_lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "chat_id", name="uq_listed_lead_chat"),
    )


def downgrade() -> None:
    op.drop_table("listed_lead")
