"""retention: indexes that keep `/metrics` and pruning off the history

`/metrics` counted jobs by kind and state over the whole table, done ones included: its
cost grew with every job ever run. It now counts live and dead jobs on a partial index.
The retention removes old done jobs kind by kind, oldest first, and old inbox events
outcome by outcome: each has an index that starts where it looks. The plain outcome index
is replaced by (outcome, received_at), which serves `/api/inbox?outcome=` as well.

Revision ID: 0006_retention
Revises: 0005_language_choice
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_retention"
down_revision: str | None = "0005_language_choice"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTED = sa.text("status IN ('pending', 'running', 'dead')")
_DONE = sa.text("status = 'done'")


def upgrade() -> None:
    op.create_index(
        "ix_job_counted_kind",
        "job",
        ["kind", "status"],
        postgresql_where=_COUNTED,
        sqlite_where=_COUNTED,
    )
    op.create_index(
        "ix_job_done_kind_finished",
        "job",
        ["kind", "finished_at"],
        postgresql_where=_DONE,
        sqlite_where=_DONE,
    )
    op.create_index("ix_inbox_event_outcome_received", "inbox_event", ["outcome", "received_at"])
    op.drop_index("ix_inbox_event_outcome", table_name="inbox_event")
    op.create_index("ix_telegram_update_handled_at", "telegram_update", ["handled_at"])


def downgrade() -> None:
    op.drop_index("ix_telegram_update_handled_at", table_name="telegram_update")
    op.create_index("ix_inbox_event_outcome", "inbox_event", ["outcome"])
    op.drop_index("ix_inbox_event_outcome_received", table_name="inbox_event")
    op.drop_index("ix_job_done_kind_finished", table_name="job")
    op.drop_index("ix_job_counted_kind", table_name="job")
