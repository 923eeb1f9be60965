"""manager weight: a manager's share of the leads handed out in turn

`assign:next` and `offer:` give a manager of weight 2 two leads for every one of a
manager of weight 1.

Revision ID: 0018_manager_weight
Revises: 0017_manager_shifts
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_manager_weight"
down_revision: str | None = "0017_manager_shifts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("manager") as batch:
        batch.add_column(sa.Column("weight", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("manager") as batch:
        batch.drop_column("weight")
