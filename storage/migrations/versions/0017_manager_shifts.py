"""manager shifts: away from and until (`/away`, `/back`), and the manager's own week

A manager away, or outside their own working hours (else their site's), gets no new
cards in private and no assignment.

Revision ID: 0017_manager_shifts
Revises: 0016_stored_setup
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017_manager_shifts"
down_revision: str | None = "0016_stored_setup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("manager") as batch:
        batch.add_column(sa.Column("away_from", storage.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("away_until", storage.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("working_hours", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("manager") as batch:
        batch.drop_column("working_hours")
        batch.drop_column("away_until")
        batch.drop_column("away_from")
