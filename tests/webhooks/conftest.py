"""An app over a fresh database, reached over HTTP through httpx's ASGI transport."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from config.chats import ChatAddress
from config.settings import Settings
from config.sites import SiteConfig
from leadrelay.web import create_app
from storage.database import Database
from storage.queries.sites import ensure_sites

TOKEN = "site-token-0123456789abcdef"
OTHER_TOKEN = "other-token-0123456789abcdef"
ADMIN_TOKEN = "admin-token-0123456789abcdef"
CHATS = (-1001234567890, 4242)


def make_settings() -> Settings:
    return Settings(
        _env_file=None,
        database_url="sqlite+aiosqlite:///unused.db",
        admin_token=SecretStr(ADMIN_TOKEN),
        sites=(
            SiteConfig(
                key="okna",
                name="Окна СПб",
                webhook_token=SecretStr(TOKEN),
                chats=tuple(map(ChatAddress, CHATS)),
            ),
            SiteConfig(
                key="dveri", webhook_token=SecretStr(OTHER_TOKEN), chats=(ChatAddress(777),)
            ),
        ),
    )


@pytest.fixture
async def app(database: Database) -> AsyncIterator[FastAPI]:
    settings = make_settings()
    async with database.write() as session:
        await ensure_sites(session, [(s.key, s.display_name) for s in settings.sites])
    application = create_app(settings=settings, database=database)
    yield application
    await application.state.intake.aclose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://leadrelay.test") as http:
        yield http


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
