"""PostgreSQL goes away: webhooks get 503 (never a 200 for what was not stored), /healthz
says why, and intake comes back by itself when the database does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import func, select

from leadrelay.web import create_app
from storage.database import Database
from storage.models import InboxEvent, Lead
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from tests.conftest import ON_POSTGRESQL_ONLY
from tests.reliability.proxy import OutageProxy
from tests.webhooks.conftest import TOKEN, make_settings
from webhooks.forms import encode_form

pytestmark = ON_POSTGRESQL_ONLY
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def proxy(postgres_url: str) -> AsyncIterator[tuple[OutageProxy, str]]:
    parts = urlsplit(postgres_url)
    outage = OutageProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await outage.open()
    url = postgres_url.replace(f"{parts.hostname}:{parts.port or 5432}", f"127.0.0.1:{outage.port}")
    yield outage, url
    await outage.cut()


@contextlib.asynccontextmanager
async def intake_through(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The intake on the database reached at `url` (the proxy), and a client of it; once
    the client is done, the intake closed (what it holds written) and the database left."""
    through_proxy = Database(url)
    async with through_proxy.write() as session:
        await ensure_sites(session, [("okna", "Окна"), ("dveri", "Двери")])
    app = create_app(settings=make_settings(), database=through_proxy)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            yield client
    finally:
        await app.state.intake.aclose()
        await through_proxy.dispose()


async def post(client: httpx.AsyncClient, lead_id: int) -> httpx.Response:
    return await client.post(
        f"/flexbe/{TOKEN}", content=encode_form(lead_event(lead_id)), headers=FORM
    )


async def test_outage_is_503_then_intake_recovers(
    proxy: tuple[OutageProxy, str], database: Database, database_url: str
) -> None:
    outage, url = proxy
    async with intake_through(url) as client:
        before = await post(client, 1)
        await outage.cut()
        during = [await post(client, 2) for _ in range(3)]
        health = await client.get("/healthz")
        await outage.open()
        after = await post(client, 3)
        again = await post(client, 2)
        healthy = await client.get("/healthz")

    assert before.status_code == 200
    assert [r.status_code for r in during] == [503, 503, 503]
    assert all(r.headers["retry-after"] for r in during)
    assert health.status_code == 503 and health.json()["database"].startswith("unreachable")
    assert after.status_code == 200, "intake recovered without a restart"
    assert again.json()["status"] == "accepted", (
        "what got a 503 was not stored: sent again, it is new"
    )
    assert healthy.status_code == 200
    async with database.read() as session:
        leads = (await session.exec(select(func.count()).select_from(Lead))).one()
        events = (await session.exec(select(func.count()).select_from(InboxEvent))).one()
    assert (leads, events) == (3, 3)


async def test_outage_while_many_webhooks_wait_never_answers_200_for_lost_ones(
    proxy: tuple[OutageProxy, str], database: Database, database_url: str
) -> None:
    outage, url = proxy
    answers: list[httpx.Response] = []
    async with intake_through(url) as client:
        # Waves of 10 concurrent webhooks; the database goes away after the fifth wave,
        # while the sixth is on its way.
        for wave in range(20):
            batch = [post(client, 100 + wave * 10 + i) for i in range(10)]
            if wave == 5:
                results, _ = await asyncio.gather(asyncio.gather(*batch), outage.cut())
            else:
                results = await asyncio.gather(*batch)
            answers.extend(results)

    accepted = {100 + i for i, r in enumerate(answers) if r.status_code == 200}
    assert {r.status_code for r in answers} <= {200, 503}
    print(f"\noutage mid-burst: {len(accepted)} of 200 answered 200, the rest 503")
    assert 50 <= len(accepted) < 200, "the cut fell inside the burst"
    async with database.read() as session:
        stored = set((await session.exec(select(Lead.flexbe_id))).all())
    assert accepted <= stored, "every 200 is a stored lead"
