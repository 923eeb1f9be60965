"""A lead's number is stored normalized in its site's region, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from sqlmodel import select

from config.settings import Settings
from config.sites import SiteConfig
from leadrelay.web import create_app
from storage.database import Database
from storage.models import Lead
from storage.queries.sites import ensure_sites
from testkit.factories import lead_event
from webhooks.forms import encode_form

UK_TOKEN = "uk-site-token-0123456789abcdef"
RU_TOKEN = "ru-site-token-0123456789abcdef"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,
        default_region="RU",
        sites=(
            SiteConfig(key="uk", webhook_token=SecretStr(UK_TOKEN), default_region="GB"),
            SiteConfig(key="ru", webhook_token=SecretStr(RU_TOKEN)),
        ),
    )
    async with database.write() as session:
        await ensure_sites(session, [("uk", "uk"), ("ru", "ru")])
    app = create_app(settings=settings, database=database)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        yield http
    await app.state.intake.aclose()


@pytest.mark.parametrize(
    ("token", "phone", "stored"),
    [
        (UK_TOKEN, "07840 258823", "+447840258823"),
        (UK_TOKEN, "٠٧٨٤٠٢٥٨٨٢٣", "+447840258823"),
        (RU_TOKEN, "8 (912) 345-67-89", "+79123456789"),
        (RU_TOKEN, "07840 258823", ""),
    ],
)
async def test_the_number_is_normalized_in_the_sites_region(
    client: httpx.AsyncClient, database: Database, token: str, phone: str, stored: str
) -> None:
    response = await client.post(
        f"/flexbe/{token}", content=encode_form(lead_event(phone=phone)), headers=FORM
    )

    assert response.status_code == 200, response.text
    async with database.read() as session:
        [lead] = (await session.exec(select(Lead))).all()
    assert lead.client_phone == phone, "what the client typed is kept"
    assert lead.client_phone_normalized == stored
