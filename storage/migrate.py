"""Apply and inspect Alembic migrations from code (`leadrelay migrate`, `/healthz`, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.database import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# PostgreSQL's trigram indexes (migration 0013) are made only where `pg_trgm` could be
# created, and SQLAlchemy has no portable way to declare them: the models leave them out,
# and so does the comparison of the models with the database.
TRIGRAM_SUFFIX = "_trgm"


def in_models(
    object_: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's `include_object`: whether the models are held to this database object."""
    del object_, reflected, compare_to
    return not (type_ == "index" and name is not None and name.endswith(TRIGRAM_SUFFIX))


def alembic_config(url: str = "") -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    return config


def head_revision() -> str:
    """The schema this code needs; branches developed side by side are all applied."""
    heads = sorted(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert heads, "no migrations found"
    return "+".join(heads)


async def upgrade(database: Database, revision: str = "heads") -> None:
    config = alembic_config(database.url)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with database.writer.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(database: Database) -> str | None:
    def _current(connection: Connection) -> str | None:
        heads = sorted(MigrationContext.configure(connection).get_current_heads())
        return "+".join(heads) or None

    async with database.reader.connect() as connection:
        return await connection.run_sync(_current)
