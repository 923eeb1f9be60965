"""lead: the webhook's `site` block (Flexbe site id, domain, name)

Kept instead of dropped, so the API and the card can name the site a lead came from when
the configuration gives it no name.

Revision ID: 0007_lead_site
Revises: 0006_retention
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_lead_site"
down_revision: str | None = "0006_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("flexbe_site_id", "site_domain", "site_name")


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
