"""turns: the weighted round-robin of `assign:next` and `offer:`, and each lead's turns

Per site a row locked while a turn is picked, per site and manager a credit, and per
lead and hand-out the manager whose turn it was, once.

Revision ID: 0019_turns
Revises: 0018_lead_ownership
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0019_turns"
down_revision: str | None = "0018_lead_ownership"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "turn_site",
        sa.Column("site_key", sa.String(length=32), nullable=False),
        sa.Column("picks", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_key"),
    )
    op.create_table(
        "turn_credit",
        sa.Column("site_key", sa.String(length=32), nullable=False),
        sa.Column("manager_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("credit", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("site_key", "manager_id"),
    )
    op.create_table(
        "lead_turn",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("site_key", sa.String(length=32), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("manager_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "step", name="uq_lead_turn_step"),
    )


def downgrade() -> None:
    op.drop_table("lead_turn")
    op.drop_table("turn_credit")
    op.drop_table("turn_site")
