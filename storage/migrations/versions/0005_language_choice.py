"""manager: whether the language was chosen with /lang or follows the Telegram app

Until a manager chooses, `language` is the one their Telegram app last reported. Existing
managers with a language other than English chose it or were invited with it: they keep
it. Those on English follow their app from now on (one /lang fixes it for someone who
chose English on a Russian phone).

Revision ID: 0005_language_choice
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_language_choice"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("manager") as batch:
        batch.add_column(
            sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(sa.text("UPDATE manager SET language_chosen = (language <> 'en')"))


def downgrade() -> None:
    with op.batch_alter_table("manager") as batch:
        batch.drop_column("language_chosen")
