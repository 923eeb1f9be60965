"""lead work: the questions the bot awaits an answer to (a note, a client's detail, an amount)

A manager taps "Note", "Client" or "Invoice"; the bot asks with a ForceReply and the answer
may come minutes later, after a restart. What it awaits, from whom, in which chat, for which
lead and until when is a row here. A reply to a card finds the card by its message: an
index on (chat_id, message_id).

Revision ID: 0010_lead_work
Revises: 0009_crm5
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0010_lead_work"
down_revision: str | None = "0009_crm5"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_reply",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("awaits", sa.String(length=16), nullable=False),
        sa.Column("prompt_message_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("chat_id", "user_id"),
    )
    with op.batch_alter_table("pending_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_reply_lead_id"), ["lead_id"], unique=False)
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.create_index("ix_card_chat_message", ["chat_id", "message_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_index("ix_card_chat_message")
    with op.batch_alter_table("pending_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_reply_lead_id"))
    op.drop_table("pending_reply")
