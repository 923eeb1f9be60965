"""`sync` reads a site's national numbers in its region, as the webhook intake does."""

from __future__ import annotations

from sqlmodel import select

from actions.sync import sync_site
from integrations.flexbe import FlexbeClient
from integrations.ratelimit import SlidingWindowLimiter
from storage.database import Database
from storage.models import Lead
from storage.queries.sites import ensure_sites
from testkit.fakes.flexbe import FlexbeFake
from testkit.fakes.server import serve_app


async def no_sleep(seconds: float) -> None:
    pass


async def test_a_synced_uk_lead_has_its_number_in_e164(database: Database) -> None:
    fake = FlexbeFake()
    fake.add_lead(1, client={"name": "John Doe", "phone": "07840258823", "email": ""})
    async with database.write() as session:
        await ensure_sites(session, [("uk", "UK")])

    async with serve_app(fake.app) as base_url:
        client = FlexbeClient(
            f"{base_url}/mod/api/",
            fake.api_key,
            limiter=SlidingWindowLimiter(10_000, 60),
            sleep=no_sleep,
        )
        async with client:
            await sync_site(database=database, client=client, site_key="uk", chats=(), region="GB")

    async with database.read() as session:
        [lead] = (await session.exec(select(Lead))).all()
    assert (lead.client_phone, lead.client_phone_normalized) == ("07840258823", "+447840258823")
