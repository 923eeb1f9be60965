"""Running the service: the web front, and (by role) the job worker, in one event loop."""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum

import uvicorn

from leadrelay.settings import Settings
from storage.database import Database
from storage.migrate import current_revision, head_revision
from storage.queries.sites import ensure_sites
from webhooks.app import create_app

log = logging.getLogger(__name__)


class Role(StrEnum):
    WEB = "web"
    WORKER = "worker"
    ALL = "all"


class StartupError(Exception):
    """The service cannot start; the message says what to do."""


async def prepare_database(settings: Settings) -> Database:
    database = Database(settings.database_url)
    try:
        revision = await current_revision(database)
    except Exception as exc:
        await database.dispose()
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StartupError(
            f"cannot reach the database (LEADRELAY_DATABASE_URL): {reason}"
        ) from None
    head = head_revision()
    if revision != head:
        await database.dispose()
        raise StartupError(
            f"the database schema is at {revision or 'nothing'}, this version needs {head}: "
            "run `leadrelay migrate` first"
        )
    async with database.write() as session:
        await ensure_sites(session, [(site.key, site.display_name) for site in settings.sites])
    return database


async def run_service(
    settings: Settings,
    *,
    host: str,
    port: int,
    role: Role,  # noqa: ARG001  (worker: next commit)
) -> None:
    database = await prepare_database(settings)
    try:
        app = create_app(settings=settings, database=database)
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, access_log=True, lifespan="on"
        )
        server = uvicorn.Server(config)
        await server.serve()
    finally:
        await database.dispose()


def run(settings: Settings, *, host: str, port: int, role: Role) -> None:
    asyncio.run(run_service(settings, host=host, port=port, role=role))
