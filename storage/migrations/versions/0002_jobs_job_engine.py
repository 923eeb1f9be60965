"""job engine: rate buckets, postponements, queue-order index, wake-up trigger

Revision ID: 0002_jobs
Revises: 0001
Create Date: 2026-11-23 07:09:26.441077
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_jobs"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Workers LISTEN on this channel (jobs/listener.py): an insert in any process wakes them.
_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION leadrelay_job_inserted() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('leadrelay_jobs', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER job_inserted AFTER INSERT ON job
FOR EACH STATEMENT EXECUTE FUNCTION leadrelay_job_inserted()
"""


def upgrade() -> None:
    op.create_table(
        "rate_bucket",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("postponements", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index("ix_job_queue_order", ["queue", "status", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY_FUNCTION)
        op.execute(_NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS job_inserted ON job")
        op.execute("DROP FUNCTION IF EXISTS leadrelay_job_inserted()")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index("ix_job_queue_order")
        batch_op.drop_column("postponements")
    op.drop_table("rate_bucket")
