"""fragment search: the client's name folded, and trigram indexes on PostgreSQL

The console and `/find` look for a part of a name or an e-mail. Both are now compared in
Python's case folding (`storage.queries.fragments`) on both databases: the name gets a
folded column (filled here for the leads already stored, by Python, not by the database's
lower(), which folds ASCII only on SQLite); the e-mail has one already
(`client_email_normalized`). On PostgreSQL both get a trigram GIN index (`pg_trgm`), so a
`LIKE '%part%'` is an index search instead of a walk through every lead. If the extension
cannot be created (not installed, no privilege), the search still works, as a scan, and
a warning says what to run by hand. SQLite scans (a few tens of milliseconds at 100,000).

Revision ID: 0013_fragment_search
Revises: 0012_console
Create Date: 2026-12-02
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0013_fragment_search"
down_revision: str | None = "0012_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Named `*_trgm`: dialect-only and optional, so left out of the model comparison
# (`storage.migrate.TRIGRAM_SUFFIX`).
TRIGRAM_INDEXES = {
    "ix_lead_client_name_trgm": "client_name_folded",
    "ix_lead_client_email_trgm": "client_email_normalized",
}
_BATCH = 1000
_log = logging.getLogger("alembic.runtime.migration")


def _fill_folded_names(connection: sa.Connection) -> None:
    lead = sa.table("lead", sa.column("id", sa.Integer), sa.column("client_name", sa.String))
    folded = sa.table("lead", sa.column("id"), sa.column("client_name_folded"))
    update = (
        sa.update(folded)
        .where(folded.c.id == sa.bindparam("lead_id"))
        .values(client_name_folded=sa.bindparam("value"))
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(lead.c.id, lead.c.client_name)
            .where(lead.c.id > after, lead.c.client_name != "")
            .order_by(lead.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return
        # The rule of `storage.queries.fragments.fold`, written out: a migration keeps the
        # meaning it had when it was written.
        connection.execute(
            update, [{"lead_id": id_, "value": name.casefold()} for id_, name in rows]
        )
        after = rows[-1][0]


def _trigram_indexes(connection: sa.Connection) -> None:
    statements = [
        f"CREATE INDEX IF NOT EXISTS {name} ON lead USING gin ({column} gin_trgm_ops)"
        for name, column in TRIGRAM_INDEXES.items()
    ]
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as error:
        _log.warning(
            "PostgreSQL's pg_trgm extension could not be created (%s): a search for a part "
            "of a name or an e-mail will read every lead. To index it, run as a superuser "
            "in this database: CREATE EXTENSION pg_trgm; %s;",
            str(error.orig).splitlines()[0],
            "; ".join(statements),
        )
        return
    for statement in statements:
        connection.exec_driver_sql(statement)


def upgrade() -> None:
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("client_name_folded", sa.String(), nullable=False, server_default="")
        )
    connection = op.get_bind()
    _fill_folded_names(connection)
    if connection.dialect.name == "postgresql":
        _trigram_indexes(connection)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_column("client_name_folded")
