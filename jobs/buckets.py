"""The rate buckets' shared state: one `rate_bucket` row per key, read and moved in the
claim transaction.

On PostgreSQL the rows are locked (`FOR UPDATE`, in key order so two claimers never
deadlock) until the claim commits, so workers in several processes see each other's
calls. On SQLite the claim holds the database's write lock, which does the same.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from storage.models import RateBucket
from storage.tables import table_of

BUCKET: Table = table_of(RateBucket)
_SELECT = (
    select(BUCKET.c.key, BUCKET.c.tat)
    .where(BUCKET.c.key.in_(bindparam("b_keys", expanding=True)))
    .order_by(BUCKET.c.key)
)
_SELECT_LOCKED = _SELECT.with_for_update()
_INSERT = insert(BUCKET)
_INSERT_OR_NOTHING = pg_insert(BUCKET).on_conflict_do_nothing()
_SAVE = update(BUCKET).where(BUCKET.c.key == bindparam("b_key")).values(tat=bindparam("b_tat"))


def load(connection: Connection, keys: Collection[str]) -> dict[str, float]:
    """Each key's `tat`, creating missing rows (at 0: free) so they can be locked."""
    if not keys:
        return {}
    ordered = sorted(set(keys))
    tats = _select(connection, ordered)
    missing = [key for key in ordered if key not in tats]
    if missing:
        rows = [{"key": key, "tat": 0.0} for key in missing]
        if connection.dialect.name == "postgresql":
            # Another worker may create the same row meanwhile: its insert wins, ours waits.
            connection.execute(_INSERT_OR_NOTHING, rows)
        else:
            connection.execute(_INSERT, rows)
        tats.update(_select(connection, missing))
    return tats


def save(connection: Connection, tats: Mapping[str, float]) -> None:
    if not tats:
        return
    connection.execute(_SAVE, [{"b_key": key, "b_tat": tat} for key, tat in sorted(tats.items())])


def _select(connection: Connection, keys: list[str]) -> dict[str, float]:
    query = _SELECT_LOCKED if connection.dialect.name == "postgresql" else _SELECT
    return {row.key: row.tat for row in connection.execute(query, {"b_keys": keys})}
