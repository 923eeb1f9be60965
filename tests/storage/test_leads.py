"""Lead upserts and payment history, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlmodel import col, func, select

from storage.database import Database
from storage.models import Lead, LeadOrigin, Payment
from storage.queries.leads import (
    LeadChange,
    LeadSnapshot,
    PaymentSnapshot,
    record_payment,
    upsert_lead,
)
from storage.queries.sites import ensure_sites


async def prepare(database: Database) -> None:
    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])


async def test_upsert_creates_then_updates_then_leaves_alone(database: Database) -> None:
    await prepare(database)
    snapshot = LeadSnapshot(flexbe_id=5, num=1, client_name="Anna", status_code=0)

    async with database.write() as session:
        created = await upsert_lead(
            session, site_key="okna", snapshot=snapshot, origin=LeadOrigin.WEBHOOK
        )
    async with database.write() as session:
        same = await upsert_lead(
            session, site_key="okna", snapshot=snapshot, origin=LeadOrigin.SYNC
        )
    async with database.write() as session:
        changed = await upsert_lead(
            session,
            site_key="okna",
            snapshot=snapshot.model_copy(update={"status_code": 1, "client_name": ""}),
            origin=LeadOrigin.SYNC,
        )

    assert created.change is LeadChange.CREATED and created.lead.version == 1
    assert same.change is LeadChange.UNCHANGED
    assert changed.change is LeadChange.UPDATED and changed.changed_fields == {"status_code"}
    assert changed.lead.client_name == "Anna", "an empty value never wipes what we know"
    assert changed.lead.origin == "webhook", "origin is how the lead first arrived"
    assert changed.lead.version == 2


async def test_created_at_defaults_to_arrival(database: Database) -> None:
    await prepare(database)
    before = datetime.now(UTC)
    async with database.write() as session:
        result = await upsert_lead(
            session, site_key="okna", snapshot=LeadSnapshot(flexbe_id=6), origin=LeadOrigin.WEBHOOK
        )

    assert result.lead.created_at is not None and result.lead.created_at >= before


async def test_concurrent_upserts_of_one_lead_make_one_row(database: Database) -> None:
    await prepare(database)

    async def upsert(index: int) -> None:
        async with database.write() as session:
            await upsert_lead(
                session,
                site_key="okna",
                snapshot=LeadSnapshot(flexbe_id=7, note=f"n{index % 2}"),
                origin=LeadOrigin.WEBHOOK,
            )

    await asyncio.gather(*(upsert(i) for i in range(20)))

    async with database.read() as session:
        assert (await session.exec(select(func.count()).select_from(Lead))).one() == 1


async def test_payment_states_are_recorded_once_each(database: Database) -> None:
    await prepare(database)
    async with database.write() as session:
        lead = (
            await upsert_lead(
                session,
                site_key="okna",
                snapshot=LeadSnapshot(flexbe_id=8),
                origin=LeadOrigin.WEBHOOK,
            )
        ).lead
    assert lead.id is not None
    pending = PaymentSnapshot(pay_id="p1", summ="10.00", status_code=0)
    paid = pending.model_copy(update={"status_code": 2})

    recorded = []
    for payment in (pending, paid, paid, pending):
        async with database.write() as session:
            recorded.append(await record_payment(session, lead_id=lead.id, payment=payment))

    assert [entry is not None for entry in recorded] == [True, True, False, False]
    async with database.read() as session:
        states = (await session.exec(select(Payment.status_code).order_by(col(Payment.id)))).all()
    assert list(states) == [0, 2]
