"""stored set-up: console sites, connected chats, moved groups, admin links, setup values

What the console and the bot keep beside the configuration: sites added in the console
(secrets sealed), chats connected from Telegram (with a forum topic), groups that became
supergroups, one-time links that make an admin, values such as the bot token, and the
version row every process polls to reload them.

Revision ID: 0016_stored_setup
Revises: 0015_listed_leads
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0016_stored_setup"
down_revision: str | None = "0015_listed_leads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, storage.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "console_site",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("webhook_token_sealed", sa.String(), nullable=False),
        sa.Column("previous_token_sealed", sa.String(), nullable=True),
        _utc("previous_until", nullable=True),
        sa.Column("flexbe_api_url", sa.String(length=500), nullable=True),
        sa.Column("flexbe_api_key_sealed", sa.String(), nullable=True),
        sa.Column("default_region", sa.String(length=2), nullable=True),
        sa.Column("working_hours", sa.String(length=500), nullable=True),
        sa.Column("sla_remind_after", sa.String(length=32), nullable=True),
        sa.Column("sla_escalate_after", sa.String(length=32), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        _utc("created_at"),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "chat_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("site_key", sa.String(length=32), nullable=False),
        sa.Column("topic", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        _utc("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chat_id", "site_key", name="uq_chat_connection"),
    )
    op.create_table(
        "chat_move",
        sa.Column("old_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("new_id", sa.BigInteger(), nullable=False),
        _utc("moved_at"),
        sa.PrimaryKeyConstraint("old_id"),
    )
    op.create_table(
        "setup_value",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("sealed", sa.Boolean(), nullable=False),
        _utc("updated_at"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "admin_link",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        _utc("created_at"),
        _utc("expires_at"),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        _utc("used_at", nullable=True),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    version = op.create_table(
        "setup_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0}])


def downgrade() -> None:
    for table in (
        "setup_version",
        "admin_link",
        "setup_value",
        "chat_move",
        "chat_connection",
        "console_site",
    ):
        op.drop_table(table)
