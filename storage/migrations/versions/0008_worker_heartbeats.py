"""worker heartbeats: a table of worker processes, each beating every few seconds

A killed worker's jobs waited for their lease (a minute) before another worker took them.
Each worker now registers a row and heartbeats it; a job whose holder's heartbeat lapsed
is taken over within the liveness timeout. The lease stays, as a backstop.

Revision ID: 0008_worker_heartbeats
Revises: 0007_lead_site
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008_worker_heartbeats"
down_revision: str | None = "0007_lead_site"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("worker")
