"""lead taken by: indexed for the console's filter by manager

The console lists a manager's leads newest first; without an index on the taker, a manager
with few leads was a walk through every lead (47 ms on SQLite, 80 ms on PostgreSQL at
100,000 leads, `bench/console_plans.py`).

Revision ID: 0014_lead_taken_by
Revises: 0013_fragment_search
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_lead_taken_by"
down_revision: str | None = "0013_fragment_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_taken_by"), ["taken_by"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_taken_by"))
