"""The FastAPI application: Flexbe intake, admin API, health, the Telegram webhook.

The composition root mounts more on it (`leadrelay/web.py`: the admin console).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response

from config.settings import Settings
from config.telegram_webhook import derive_webhook_secrets
from storage.database import Database
from webhooks import routes_api, routes_flexbe, routes_health, routes_telegram
from webhooks.deps import MetricsAuthDep
from webhooks.fast_path import IntakeFirstApp
from webhooks.intake import Intake
from webhooks.sites import SiteRegistry

# Something the caller mounts on the app, given the app's intake and sites. Mounts go after
# the app's own routes and before `/metrics`, so the routes keep one order.
Mount = Callable[[FastAPI, Intake, SiteRegistry], None]


def _metrics_endpoint(
    metrics: Callable[[], Awaitable[tuple[bytes, str]]],
) -> Callable[[], Awaitable[Response]]:
    async def endpoint() -> Response:
        body, content_type = await metrics()
        return Response(content=body, media_type=content_type)

    return endpoint


def create_app(
    *,
    settings: Settings,
    database: Database,
    on_jobs_enqueued: Callable[[], None] | None = None,
    metrics: Callable[[], Awaitable[tuple[bytes, str]]] | None = None,
    mounts: Sequence[Mount] = (),
) -> FastAPI:
    """Build the app; the caller owns the database and disposes of it."""
    intake = Intake(database, on_jobs_enqueued=on_jobs_enqueued)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await intake.aclose()

    app = IntakeFirstApp(
        lifespan=lifespan,
        title="leadrelay",
        summary="Flexbe webhooks in, live lead cards in Telegram.",
        version="0.1.0",
    )
    app.state.database = database
    app.state.intake = intake
    sites = SiteRegistry(settings)
    app.state.sites = sites
    app.state.on_jobs_enqueued = on_jobs_enqueued
    telegram_webhook = (
        derive_webhook_secrets(settings.telegram_webhook_secret.get_secret_value())
        if settings.telegram_webhook_secret
        else None
    )
    # Asked at each update: a bot token pasted in the console turns the route on.
    app.state.telegram_webhook = lambda: telegram_webhook if settings.telegram_enabled else None
    app.state.admin_token = (
        settings.admin_token.get_secret_value() if settings.admin_token else None
    )
    app.state.metrics_token = (
        settings.metrics_token.get_secret_value() if settings.metrics_token else None
    )
    app.include_router(routes_flexbe.router)  # for OpenAPI; `fast_path` serves it
    app.include_router(routes_api.router)
    app.include_router(routes_health.router)
    app.include_router(routes_telegram.router)
    for mount in mounts:
        mount(app, intake, sites)
    if metrics is not None:
        app.add_api_route(
            "/metrics",
            _metrics_endpoint(metrics),
            methods=["GET"],
            dependencies=[MetricsAuthDep],
            tags=["health"],
            summary="Prometheus metrics: job queue depth, attempts, failures, latency",
            response_class=Response,
        )
    return app
