"""Storing leads and payment states: the one path intake and sync share, on both databases."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from sqlmodel import col, func, select

from storage.database import Database
from storage.models import Lead, LeadOrigin, Payment
from storage.queries.ingest import IncomingEvent, StoredEvent, store
from storage.queries.leads import LeadSnapshot
from storage.queries.sites import ensure_sites


async def prepare(database: Database) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])


def sync_event(snapshot: LeadSnapshot, origin: LeadOrigin = LeadOrigin.SYNC) -> IncomingEvent:
    """`snapshot` of a lead of site `okna`, to be stored as a sync stores it: for no chat,
    under a key of its own."""
    return IncomingEvent(
        site_key="okna",
        chats=(),
        event="sync",
        content_type="",
        body=None,
        dedupe_key=f"test:{uuid.uuid4().hex}",
        snapshot=snapshot,
        origin=origin,
    )


async def put(
    database: Database, snapshot: LeadSnapshot, origin: LeadOrigin = LeadOrigin.SYNC
) -> StoredEvent:
    [stored] = await store(database, [sync_event(snapshot, origin)])
    return stored


async def lead_row(database: Database, flexbe_id: int) -> Lead:
    async with database.read() as session:
        return (await session.exec(select(Lead).where(Lead.flexbe_id == flexbe_id))).one()


async def test_created_then_updated_then_unchanged(database: Database) -> None:
    await prepare(database)
    snapshot = LeadSnapshot(flexbe_id=5, num=1, client_name="Anna", status_code=0)

    created = await put(database, snapshot, LeadOrigin.WEBHOOK)
    same = await put(database, snapshot)
    changed = await put(database, replace(snapshot, status_code=1, client_name=""))

    assert [created.change, same.change, changed.change] == ["new", "", "updated"]
    lead = await lead_row(database, 5)
    assert lead.status_code == 1
    assert lead.client_name == "Anna", "an empty value never wipes what we know"
    assert lead.origin == "webhook", "origin is how the lead first arrived"
    assert lead.version == 2


async def test_created_at_defaults_to_arrival(database: Database) -> None:
    await prepare(database)
    before = datetime.now(UTC)

    await put(database, LeadSnapshot(flexbe_id=6))

    lead = await lead_row(database, 6)
    assert lead.created_at is not None and lead.created_at >= before


async def test_concurrent_stores_of_one_lead_make_one_row(database: Database) -> None:
    await prepare(database)

    await asyncio.gather(
        *(put(database, LeadSnapshot(flexbe_id=7, note=f"n{i % 2}")) for i in range(20))
    )

    async with database.read() as session:
        assert (await session.exec(select(func.count()).select_from(Lead))).one() == 1


async def test_payment_states_are_recorded_once_each(database: Database) -> None:
    await prepare(database)
    base = LeadSnapshot(flexbe_id=8, pay_id="p1", pay_summ="10.00", pay_status_code=0)
    paid = replace(base, pay_status_code=2)

    for snapshot in (base, paid, paid, base):
        await put(database, snapshot)

    async with database.read() as session:
        states = (await session.exec(select(Payment.status_code).order_by(col(Payment.id)))).all()
    assert list(states) == [0, 2]
