"""5CRM: what the deal button made per lead, and Telegram managers' 5CRM accounts

The deal button now makes a deal (or form), a company, a contact and a task; each step
done is a row of `crm5_progress`, so a retried job resumes after it. `crm5_manager_link`
credits a manager's deals to their 5CRM account.

Revision ID: 0009_crm5
Revises: 0008_worker_heartbeats
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0009_crm5"
down_revision: str | None = "0008_worker_heartbeats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crm5_progress",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=True),
        sa.Column("remote_id", sa.BigInteger(), nullable=True),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("lead_id", "step"),
    )
    op.create_table(
        "crm5_manager_link",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("crm5_manager_id", sa.BigInteger(), nullable=False),
        sa.Column("crm5_manager_name", sa.String(length=255), nullable=False),
        sa.Column("linked_by", sa.BigInteger(), nullable=True),
        sa.Column("linked_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["telegram_id"], ["manager.telegram_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("telegram_id"),
    )


def downgrade() -> None:
    op.drop_table("crm5_manager_link")
    op.drop_table("crm5_progress")
