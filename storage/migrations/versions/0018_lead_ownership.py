"""lead ownership: a manager's weight, a lead's speed-to-lead moments and lost reason

`assign:next` and `offer:` give a manager of weight 2 two leads for every one of a
manager of weight 1. A lead keeps when it was first seen, owned, acted on and called, and
why it was lost.

Revision ID: 0018_lead_ownership
Revises: 0017_manager_shifts
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0018_lead_ownership"
down_revision: str | None = "0017_manager_shifts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MOMENTS = ("first_seen_at", "first_owned_at", "first_action_at", "first_call_at")


def upgrade() -> None:
    with op.batch_alter_table("manager") as batch:
        batch.add_column(sa.Column("weight", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("lead") as batch:
        for name in MOMENTS:
            batch.add_column(sa.Column(name, storage.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("lost_reason", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("lost_reason")
        for name in reversed(MOMENTS):
            batch.drop_column(name)
    with op.batch_alter_table("manager") as batch:
        batch.drop_column("weight")
