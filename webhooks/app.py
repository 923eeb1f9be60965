"""The FastAPI application: Flexbe intake, admin API, health."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from leadrelay.settings import Settings
from storage.database import Database
from webhooks import routes_api, routes_flexbe, routes_health, routes_telegram
from webhooks.intake import Intake
from webhooks.sites import SiteRegistry


def create_app(
    *,
    settings: Settings,
    database: Database,
    on_jobs_enqueued: Callable[[], None] | None = None,
) -> FastAPI:
    """Build the app; the caller owns the database and disposes of it."""
    intake = Intake(database, on_jobs_enqueued=on_jobs_enqueued)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await intake.aclose()

    app = FastAPI(
        lifespan=lifespan,
        title="leadrelay",
        summary="Flexbe webhooks in, live lead cards in Telegram.",
        version="0.1.0",
    )
    app.state.database = database
    app.state.intake = intake
    app.state.sites = SiteRegistry(settings.sites, default_chats=settings.telegram_chats)
    app.state.on_jobs_enqueued = on_jobs_enqueued
    app.state.telegram_webhook_secret = (
        settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_webhook_secret and settings.telegram_enabled
        else None
    )
    app.state.admin_token = (
        settings.admin_token.get_secret_value() if settings.admin_token else None
    )
    app.include_router(routes_flexbe.router)
    app.include_router(routes_api.router)
    app.include_router(routes_health.router)
    app.include_router(routes_telegram.router)
    return app
