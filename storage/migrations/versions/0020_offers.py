"""offers: a lead's open offer of an `offer:` rule, and how each offer ended

On the lead: to whom it is offered (and their name, for the card), which hand-out, the
round's first hand-out, when the window ends and how long it is. On each turn: the offer's
message in the manager's chat, and how it ended.

Revision ID: 0020_offers
Revises: 0019_turns
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0020_offers"
down_revision: str | None = "0019_turns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("offer_to", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("offer_to_name", sa.String(), nullable=True))
        batch.add_column(sa.Column("offer_step", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("offer_from", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("offer_until", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("offer_window", sa.Integer(), nullable=True))
    with op.batch_alter_table("lead_turn") as batch:
        batch.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead_turn") as batch:
        batch.drop_column("outcome")
        batch.drop_column("message_id")
    with op.batch_alter_table("lead") as batch:
        for name in (
            "offer_window",
            "offer_until",
            "offer_from",
            "offer_step",
            "offer_to_name",
            "offer_to",
        ):
            batch.drop_column(name)
