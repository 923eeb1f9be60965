"""The raw inbox of received webhook events, and of leads `getLeads` sent that do not parse."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import Connection, Table, insert, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.clock import utcnow
from storage.database import Database, run_retrying_conflicts
from storage.models import InboxEvent, InboxOutcome
from storage.tables import table_of

_INBOX: Table = table_of(InboxEvent)


async def mark_reprocessed(session: AsyncSession, *, event_id: int, became: int) -> bool:
    """Note the event a rejected one became when parsed again; False if already noted."""
    result = await session.exec(
        update(_INBOX)
        .where(_INBOX.c.id == event_id, _INBOX.c.reprocessed_as.is_(None))
        .values(reprocessed_as=became)
    )
    return result.rowcount == 1


async def record_event(session: AsyncSession, event: InboxEvent) -> InboxEvent:
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Something received that cannot be stored as a lead, kept raw for an admin to see.

    `dedupe_key` names it (e.g. the site and a hash of the raw lead): the same thing read
    again by a later sync or reconcile is not listed twice."""

    site_key: str
    event: str
    content_type: str
    body: bytes
    error: str
    dedupe_key: str


async def keep_unreadable(database: Database, rows: Sequence[Unreadable]) -> int:
    """Store each as a `rejected` inbox event, once; returns how many were new. Tried again
    when another process stored one of them first (the retry sees it and skips it)."""
    if not rows:
        return 0
    return await run_retrying_conflicts(database, partial(_insert_new, rows=rows))


def _insert_new(connection: Connection, rows: Sequence[Unreadable]) -> int:
    by_key = {row.dedupe_key: row for row in rows}
    stored = connection.execute(
        select(_INBOX.c.dedupe_key).where(_INBOX.c.dedupe_key.in_(list(by_key)))
    ).scalars()
    for key in stored.all():
        by_key.pop(key, None)
    if not by_key:
        return 0
    now = utcnow()
    connection.execute(
        insert(_INBOX),
        [
            {
                "site_key": row.site_key,
                "event": row.event[:64],
                "content_type": row.content_type[:255],
                "body": row.body,
                "dedupe_key": row.dedupe_key,
                "outcome": InboxOutcome.REJECTED.value,
                "error": row.error,
                "received_at": now,
            }
            for row in by_key.values()
        ],
    )
    return len(by_key)
