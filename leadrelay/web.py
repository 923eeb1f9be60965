"""The web role's app: `webhooks`' intake, API and health, with the admin console mounted.

`webhooks` and `console` do not import each other; this module joins them. The console
re-processes a kept event through `reprocess_through`, built from the app's intake and sites.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from config.settings import Settings
from console.install import install_console
from console.reprocessing import Reprocess, SiteGone, StillUnreadable
from storage.database import Database
from storage.models import InboxEvent
from storage.queries.ingest import StoredEvent
from webhooks import app as web
from webhooks.intake import Intake, Unreadable
from webhooks.sites import SiteRegistry


def create_app(
    *,
    settings: Settings,
    database: Database,
    on_jobs_enqueued: Callable[[], None] | None = None,
    metrics: Callable[[], Awaitable[tuple[bytes, str]]] | None = None,
) -> FastAPI:
    """`webhooks.app.create_app` with the console; the caller owns the database."""

    def mount_console(app: FastAPI, intake: Intake, sites: SiteRegistry) -> None:
        reprocess = reprocess_through(intake, sites)
        install_console(app, settings=settings, database=database, reprocess=reprocess)

    return web.create_app(
        settings=settings,
        database=database,
        on_jobs_enqueued=on_jobs_enqueued,
        metrics=metrics,
        mounts=(mount_console,),
    )


def reprocess_through(intake: Intake, sites: SiteRegistry) -> Reprocess:
    """The console's re-process: the kept event's site by its key, then the intake."""

    async def reprocess(kept: InboxEvent) -> StoredEvent:
        site = sites.by_key(kept.site_key or "")
        if site is None:
            raise SiteGone
        try:
            return await intake.reprocess(site, kept)
        except Unreadable as exc:
            raise StillUnreadable(exc.message) from None

    return reprocess
