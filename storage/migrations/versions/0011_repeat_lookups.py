"""repeat lookups: each lead's e-mail as compared, indexed

A lead whose phone or e-mail matches earlier leads is a repeat. The phone was stored
normalized and indexed already; the e-mail now is too (trimmed and case-folded), so the
card's look-up is one index seek per contact on both databases. Existing leads are
filled in with the database's own lower(), which agrees for the ASCII addresses they hold.

Revision ID: 0011_repeat_lookups
Revises: 0010_lead_work
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_repeat_lookups"
down_revision: str | None = "0010_lead_work"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client_email_normalized", sa.String(), nullable=False, server_default="")
        )
    op.execute(
        "UPDATE lead SET client_email_normalized = lower(trim(client_email)) "
        "WHERE client_email LIKE '%@%'"
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lead_client_email_normalized"),
            ["client_email_normalized"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_client_email_normalized"))
        batch_op.drop_column("client_email_normalized")
