"""Reconcile against the loopback Flexbe: missed leads recovered once, no floods."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import select

from actions.reconcile import Reconciler, ReconcileSettings, schedule_reconciles
from config.chats import ChatAddress
from domain.jobs import ReconcilePayload
from integrations.flexbe import FlexbeClient
from integrations.ratelimit import SlidingWindowLimiter
from storage.clock import utcnow
from storage.database import Database
from storage.models import InboxEvent, Job, Lead
from storage.queries.sites import ensure_sites
from testkit.settings import one_site_settings

TOKEN = "reconcile-token-0123456789"
CHATS = (-100, 42)


@pytest.fixture
async def okna(database: Database) -> AsyncIterator[tuple[Any, Reconciler]]:
    """The site `okna` stored, its Flexbe fake served, and a reconciler of it."""
    from testkit.fakes.flexbe import FlexbeFake
    from testkit.fakes.server import serve_app

    async with database.write() as session:
        await ensure_sites(session, [("okna", "Окна")])
    fake = FlexbeFake()
    async with serve_app(fake.app) as base_url:
        yield fake, reconciler(database, fake, f"{base_url}/mod/api/")


def reconciler(database: Database, fake: Any, api_url: str) -> Reconciler:
    settings = one_site_settings(
        TOKEN,
        site={
            "name": "Окна",
            "flexbe_api_url": api_url,
            "flexbe_api_key": SecretStr(fake.api_key),
            "chats": tuple(map(ChatAddress, CHATS)),
        },
    )
    return Reconciler(
        database=database,
        settings=settings,
        options=ReconcileSettings(window=timedelta(hours=24), flood_threshold=10),
        flexbe_client=lambda site: FlexbeClient(
            api_url, fake.api_key, limiter=SlidingWindowLimiter(10_000, 60)
        ),
    )


def missed(fake: Any, *lead_ids: int) -> None:
    """Leads on Flexbe that no webhook brought, lead N made N minutes ago."""
    for lead_id in lead_ids:
        fake.add_lead(lead_id, time=recent(lead_id))


def recent(minutes: int) -> int:
    return int((utcnow() - timedelta(minutes=minutes)).timestamp())


async def jobs(database: Database) -> list[Job]:
    async with database.read() as session:
        return list((await session.exec(select(Job).order_by(Job.id))).all())  # type: ignore[arg-type]


async def test_three_missed_leads_get_three_cards_each_chat(
    database: Database, okna: tuple[Any, Reconciler]
) -> None:
    fake, worker = okna
    missed(fake, 1, 2, 3)

    await worker.handle(ReconcilePayload(site="okna"))

    async with database.read() as session:
        leads = (await session.exec(select(Lead))).all()
    assert sorted(lead.flexbe_id for lead in leads) == [1, 2, 3]
    assert {lead.origin for lead in leads} == {"recovered"}
    cards = [
        (job.kind, job.payload["lead_id"], job.payload["chat_id"]) for job in await jobs(database)
    ]
    assert sorted(cards) == sorted(("notify", lead.id, chat) for lead in leads for chat in CHATS)


async def test_fifty_missed_leads_make_one_summary_per_chat(
    database: Database, okna: tuple[Any, Reconciler]
) -> None:
    fake, worker = okna
    missed(fake, *range(1, 51))

    await worker.handle(ReconcilePayload(site="okna"))

    queued = await jobs(database)
    assert [job.kind for job in queued] == ["telegram.recovered"] * len(CHATS)
    assert sorted(job.payload["chat_id"] for job in queued) == sorted(CHATS)
    assert all(len(job.payload["lead_ids"]) == 50 for job in queued)


async def test_concurrent_reconciles_recover_each_lead_once(
    database: Database, okna: tuple[Any, Reconciler]
) -> None:
    fake, worker = okna
    fake.add_lead(9, time=recent(1))

    await asyncio.gather(
        *(worker.handle(ReconcilePayload(site="okna", report_to=7)) for _ in range(2))
    )
    await worker.handle(ReconcilePayload(site="okna"))

    async with database.read() as session:
        assert len((await session.exec(select(Lead))).all()) == 1
    queued = await jobs(database)
    assert len([job for job in queued if job.kind == "notify"]) == len(CHATS), "one card per chat"
    reports = [job.payload for job in queued if job.kind == "telegram.sync_report"]
    assert sorted(r["new"] for r in reports) == [0, 1] and {r["failed"] for r in reports} == {0}


async def test_one_reconcile_per_site_per_interval(database: Database) -> None:
    site = one_site_settings(TOKEN).site("okna")
    options = ReconcileSettings(interval=timedelta(minutes=5))
    now = utcnow()

    created = await asyncio.gather(
        *(schedule_reconciles(database, [site], options, now=now) for _ in range(3))
    )

    assert sum(created) == 1
    assert [job.kind for job in await jobs(database)] == ["flexbe.reconcile"]


async def test_status_changed_in_flexbe_updates_the_lead_and_its_cards(
    database: Database, okna: tuple[Any, Reconciler]
) -> None:
    fake, worker = okna
    fake.add_lead(5, time=recent(3))
    await worker.handle(ReconcilePayload(site="okna"))
    fake.set_status(5, 2)

    await worker.handle(ReconcilePayload(site="okna", report_to=42))

    async with database.read() as session:
        lead = (await session.exec(select(Lead))).one()
    assert lead.status_code == 2
    queued = await jobs(database)
    updates = [job for job in queued if job.kind == "notify" and job.payload["reason"] == "updated"]
    assert sorted(job.payload["chat_id"] for job in updates) == sorted(CHATS)
    [report] = [job for job in queued if job.kind == "telegram.sync_report"]
    assert report.payload["updated"] == 1 and report.payload["chat_id"] == 42


async def test_a_lead_that_does_not_parse_stops_neither_the_run_nor_the_others(
    database: Database, okna: tuple[Any, Reconciler]
) -> None:
    fake, worker = okna
    missed(fake, 1, 2, 3)
    fake.add_broken_lead(4, at=recent(4), client={"name": ["not", "text"]}, status="новый")

    # Two runs at once, then a third: the broken lead is counted each time, listed once.
    await asyncio.gather(
        *(worker.handle(ReconcilePayload(site="okna", report_to=7)) for _ in range(2))
    )
    await worker.handle(ReconcilePayload(site="okna", report_to=7))

    async with database.read() as session:
        leads = (await session.exec(select(Lead))).all()
        rejected = (
            await session.exec(select(InboxEvent).where(InboxEvent.outcome == "rejected"))
        ).all()
    assert sorted(lead.flexbe_id for lead in leads) == [1, 2, 3]
    queued = await jobs(database)
    cards = [job for job in queued if job.kind == "notify"]
    assert len(cards) == 3 * len(CHATS), "the good leads get their cards"
    reports = [job.payload for job in queued if job.kind == "telegram.sync_report"]
    assert sorted(r["new"] for r in reports) == [0, 0, 3]
    assert [r["failed"] for r in reports] == [1, 1, 1]
    [kept] = rejected
    assert kept.site_key == "okna" and kept.error is not None
    assert kept.error.startswith("getLeads lead 4: ")
    assert "status.code" in kept.error and "client.name" in kept.error
    assert json.loads(kept.body) == fake.leads[4]
