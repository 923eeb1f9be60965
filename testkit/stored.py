"""A lead stored as a webhook's would be, for tests that need one in the database and no
HTTP in front of it."""

from __future__ import annotations

from storage.database import Database
from storage.models import LeadOrigin
from storage.queries.ingest import IncomingEvent, store
from storage.queries.leads import LeadSnapshot
from storage.queries.sites import ensure_sites


async def store_webhook_lead(
    database: Database, *, dedupe_key: str, snapshot: LeadSnapshot | None = None
) -> int:
    """Lead 1414 of site `okna` (or `snapshot`), with no chats; its id."""
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
    event = IncomingEvent(
        site_key="okna",
        chats=(),
        event="lead",
        content_type="",
        body=None,
        dedupe_key=dedupe_key,
        snapshot=snapshot or LeadSnapshot(flexbe_id=1414),
        origin=LeadOrigin.WEBHOOK,
    )
    [stored] = await store(database, [event])
    assert stored.lead_id is not None
    return stored.lead_id
