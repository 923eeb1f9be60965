"""job claim: partial indexes for queue heads and unqueued due jobs

The claim used to test every due job for an earlier unfinished one in its queue: with a
backlog of thousands of cards in a few chats, each claim walked the whole backlog. Now it
skips from queue to queue through the unfinished jobs only, and finds due jobs without a
queue on their own index. The plain queue index and the (queue, status, id) one go.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNFINISHED = sa.text("status IN ('pending', 'running')")
_UNQUEUED_PENDING = sa.text("status = 'pending' AND queue IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_job_queue_unfinished",
        "job",
        ["queue", "id"],
        postgresql_where=_UNFINISHED,
        sqlite_where=_UNFINISHED,
    )
    op.create_index(
        "ix_job_unqueued_due",
        "job",
        ["run_at"],
        postgresql_where=_UNQUEUED_PENDING,
        sqlite_where=_UNQUEUED_PENDING,
    )
    op.drop_index("ix_job_queue_order", table_name="job")
    op.drop_index("ix_job_queue", table_name="job")


def downgrade() -> None:
    op.create_index("ix_job_queue", "job", ["queue"])
    op.create_index("ix_job_queue_order", "job", ["queue", "status", "id"])
    op.drop_index("ix_job_unqueued_due", table_name="job")
    op.drop_index("ix_job_queue_unfinished", table_name="job")
