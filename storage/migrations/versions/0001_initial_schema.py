"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 06:21:39.295279
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "inbox_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_key", sa.String(length=32), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=96), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("inbox_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_event_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inbox_event_outcome"), ["outcome"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_inbox_event_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_inbox_event_site_key"), ["site_key"], unique=False)

    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=255), nullable=False),
        sa.Column("queue", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index("ix_job_due", ["status", "run_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_queue"), ["queue"], unique=False)

    op.create_table(
        "site",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("flexbe_site_id", sa.String(length=64), nullable=True),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "job_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=False),
        sa.Column("started_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_attempt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_attempt_job_id"), ["job_id"], unique=False)

    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_key", sa.String(length=32), nullable=False),
        sa.Column("flexbe_id", sa.BigInteger(), nullable=False),
        sa.Column("num", sa.BigInteger(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("status_name", sa.String(), nullable=False),
        sa.Column("client_name", sa.String(), nullable=False),
        sa.Column("client_phone", sa.String(), nullable=False),
        sa.Column("client_phone_normalized", sa.String(), nullable=False),
        sa.Column("client_email", sa.String(), nullable=False),
        sa.Column("note", sa.String(), nullable=False),
        sa.Column("form_name", sa.String(), nullable=False),
        sa.Column(
            "form_data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("page_url", sa.String(), nullable=False),
        sa.Column("page_name", sa.String(), nullable=False),
        sa.Column(
            "utm",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("pay_id", sa.String(), nullable=True),
        sa.Column("pay_summ", sa.String(), nullable=True),
        sa.Column("pay_status_code", sa.Integer(), nullable=True),
        sa.Column("pay_status_name", sa.String(), nullable=True),
        sa.Column("pay_desc", sa.String(), nullable=True),
        sa.Column("pay_link", sa.String(), nullable=True),
        sa.Column("pay_test", sa.Boolean(), nullable=True),
        sa.Column("pay_time_create", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pay_time_done", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("taken_by", sa.BigInteger(), nullable=True),
        sa.Column("taken_by_name", sa.String(), nullable=True),
        sa.Column("taken_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_key"],
            ["site.key"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_key", "flexbe_id", name="uq_lead_site_flexbe_id"),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lead_client_phone_normalized"), ["client_phone_normalized"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lead_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_received_at"), ["received_at"], unique=False)
        batch_op.create_index("ix_lead_site_created", ["site_key", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_status_code"), ["status_code"], unique=False)

    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("pay_id", sa.String(), nullable=True),
        sa.Column("summ", sa.String(), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("status_name", sa.String(), nullable=True),
        sa.Column("desc", sa.String(), nullable=True),
        sa.Column("pay_link", sa.String(), nullable=True),
        sa.Column("test", sa.Boolean(), nullable=True),
        sa.Column("time_create", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("time_done", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("lead_id", "fingerprint", name="uq_payment_state"),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payment_lead_id"), ["lead_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_lead_id"))

    op.drop_table("payment")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_status_code"))
        batch_op.drop_index("ix_lead_site_created")
        batch_op.drop_index(batch_op.f("ix_lead_received_at"))
        batch_op.drop_index(batch_op.f("ix_lead_created_at"))
        batch_op.drop_index(batch_op.f("ix_lead_client_phone_normalized"))

    op.drop_table("lead")
    with op.batch_alter_table("job_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_attempt_job_id"))

    op.drop_table("job_attempt")
    op.drop_table("site")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_queue"))
        batch_op.drop_index(batch_op.f("ix_job_kind"))
        batch_op.drop_index("ix_job_due")

    op.drop_table("job")
    with op.batch_alter_table("inbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_event_site_key"))
        batch_op.drop_index(batch_op.f("ix_inbox_event_received_at"))
        batch_op.drop_index(batch_op.f("ix_inbox_event_outcome"))
        batch_op.drop_index(batch_op.f("ix_inbox_event_lead_id"))

    op.drop_table("inbox_event")
