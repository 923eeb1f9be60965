"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables)
from storage.database import Database
from storage.migrate import current_revision, head_revision, in_models


async def test_database_is_at_head(database: Database) -> None:
    assert await current_revision(database) == head_revision()


async def test_models_and_migrations_agree(database: Database) -> None:
    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": in_models}
        )
        return list(compare_metadata(context, SQLModel.metadata))

    async with database.reader.connect() as connection:
        differences = await connection.run_sync(diff)

    assert differences == [], "a model changed without a migration: run alembic revision"
