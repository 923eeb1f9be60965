"""Running the service: by role, the web front, the job worker and the Telegram bot, in
one event loop, all stopping together on SIGTERM (the worker finishing what it runs)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.loops.auto import auto_loop_factory

from config.rules import RuleTargetError, check_rule_targets
from config.settings import Settings
from config.sites import StoredSetup
from domain.statuses import SETTABLE_STATUSES
from jobs import signals
from jobs.metrics import render_metrics
from jobs.runner import install_stop_signals
from jobs.worker import Worker
from leadrelay.limits import rate_limits
from leadrelay.logs import mask_in_logs
from leadrelay.setup_watch import SetupWatch
from leadrelay.telegram_unit import TelegramUnit, run_bot
from leadrelay.web import create_app
from storage.clock import utcnow
from storage.database import Database
from storage.migrate import current_revision, head_revision
from storage.queries.sites import ensure_sites
from storage.queries.team import ensure_admins, list_managers

if TYPE_CHECKING:
    from jobs.registry import HandlerRegistry

log = logging.getLogger(__name__)


class Role(StrEnum):
    WEB = "web"
    WORKER = "worker"
    BOT = "bot"
    ALL = "all"

    def runs(self, part: Role) -> bool:
        return self in (part, Role.ALL)


class StartupError(Exception):
    """The service cannot start; the message says what to do."""


async def prepare_database(settings: Settings) -> Database:
    """The database at the code's schema, the stored set-up merged into `settings`, the
    configured sites and admins stored."""
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
    await SetupWatch(database, settings).refresh()
    async with database.write() as session:
        await ensure_sites(
            session, [(site.key, site.display_name) for site in settings.effective_sites]
        )
        await ensure_admins(session, settings.telegram_admins)
        managers = await list_managers(session)
    try:
        check_rule_targets(
            {site.key: site.rules for site in settings.effective_sites},
            managers={m.telegram_id: m.sites for m in managers if m.active},
            statuses=SETTABLE_STATUSES,
        )
    except RuleTargetError as exc:
        await database.dispose()
        raise StartupError(f"LEADRELAY_CONFIG: {exc}") from None
    return database


class _Web(uvicorn.Server):
    """uvicorn, stopped by our stop event rather than by its own signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_service(settings: Settings, *, host: str, port: int, role: Role) -> None:
    database = await prepare_database(settings)
    stop = asyncio.Event()
    restore_signals = install_stop_signals(stop)
    try:
        await serve_roles(
            settings,
            database,
            host=host,
            port=port,
            role=role,
            stop=stop,
            ready=_freeze_startup_heap,
        )
    finally:
        restore_signals()
        await database.dispose()


async def serve_roles(
    settings: Settings,
    database: Database,
    *,
    host: str,
    port: int,
    role: Role,
    stop: asyncio.Event,
    ready: Callable[[], None] = lambda: None,
) -> None:
    """The role's parts on a prepared database until `stop` is set (or one part ends);
    `ready` is called once they are built, before they run."""
    mask_in_logs(settings.secrets())
    # The bot of the token in use, one for the whole process: built now if there is a token,
    # later when one is pasted in the console, replaced when it changes.
    telegram = TelegramUnit(settings, database)
    await telegram.follow()
    # Secrets pasted in the console are masked in the logs before anything uses them.
    watch = SetupWatch(
        database,
        settings,
        listeners=[lambda *_: mask_in_logs(settings.secrets()), telegram.follow],
    )
    parts: list[Callable[[], Awaitable[None]]] = [lambda: watch.run(stop)]
    if role.runs(Role.WEB):
        parts.append(lambda: _serve_web(settings, database, host, port, stop))
    if role.runs(Role.WORKER):
        await _add_worker(parts, settings, database, telegram, watch, stop)
    if role.runs(Role.BOT):
        parts.append(lambda: run_bot(settings, telegram, stop))
    if not settings.telegram_enabled:
        log.info("no bot token yet: Telegram is off until one is pasted in the console")
    ready()
    try:
        await _together(parts, stop)
    finally:
        await telegram.aclose()


async def _add_worker(
    parts: list[Callable[[], Awaitable[None]]],
    settings: Settings,
    database: Database,
    telegram: TelegramUnit,
    watch: SetupWatch,
    stop: asyncio.Event,
) -> None:
    """The job worker, its registry following the bot, and the schedulers that feed it."""
    # Loaded here: the bot's modules take seconds to import and ~145 MiB, which other
    # commands and a web role without Telegram skip.
    from actions import retention
    from actions.reconcile import ReconcileSettings, reconcilable, run_scheduler
    from leadrelay.handlers import Telegram, build_registry

    def registry_for(bot: Telegram | None) -> HandlerRegistry:
        return build_registry(settings=settings, database=database, telegram=bot)

    worker = Worker(
        database,
        registry_for(telegram.current),
        lease=settings.job_lease_seconds,
        liveness=settings.job_liveness_seconds,
        concurrency=settings.job_concurrency,
        rate_limits=rate_limits(settings),
    )
    # A new bot: its card and message jobs are run with it; none: they wait.
    telegram.listeners.append(lambda bot: worker.use_registry(registry_for(bot)))
    parts.append(lambda: worker.run(stop))

    # Each chat's next digest, if none is set (the first start, a changed setting, a chat
    # connected since, a bot token come).
    async def schedule_digests_now(*_: StoredSetup) -> None:
        if settings.telegram_enabled:
            from bot.config import BotConfig
            from bot.digest import schedule_digests

            await schedule_digests(database, BotConfig.from_settings(settings), now=utcnow())

    await schedule_digests_now()
    watch.listeners.append(schedule_digests_now)
    keep = retention.RetentionSettings.from_settings(settings)
    parts.append(
        lambda: retention.run_scheduler(database, keep, stop, on_enqueued=signals.notify_enqueued)
    )
    options = ReconcileSettings.from_settings(settings)
    parts.append(
        lambda: run_scheduler(
            database,
            lambda: reconcilable(settings),
            options,
            stop,
            on_enqueued=signals.notify_enqueued,
        )
    )


def _freeze_startup_heap() -> None:
    """What is loaded by now (modules, models, settings) lives as long as the process: out
    of the collector's sight, a full collection under load walks only what requests made.
    Before, each one walked the whole heap, 80-90 ms with the event loop stopped: the tail
    of webhook latency."""
    gc.collect()
    gc.freeze()


async def _together(parts: list[Callable[[], Awaitable[None]]], stop: asyncio.Event) -> None:
    """Run every part; when one ends or fails, the others are asked to stop too."""

    async def guarded(part: Callable[[], Awaitable[None]]) -> None:
        try:
            await part()
        finally:
            stop.set()

    await asyncio.gather(*(guarded(part) for part in parts))


WEB_SHUTDOWN_SECONDS = 15


async def _serve_web(
    settings: Settings, database: Database, host: str, port: int, stop: asyncio.Event
) -> None:
    app = create_app(
        settings=settings,
        database=database,
        on_jobs_enqueued=signals.notify_enqueued,
        metrics=lambda: render_metrics(
            database, liveness=timedelta(seconds=settings.job_liveness_seconds)
        ),
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        lifespan="on",
        # On SIGTERM, requests in flight get this long; then the process exits anyway
        # (a webhook cut off unanswered is sent again by Flexbe).
        timeout_graceful_shutdown=WEB_SHUTDOWN_SECONDS,
    )
    server = _Web(config)

    async def stop_when_asked() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(stop_when_asked())
    try:
        await server.serve()
    finally:
        watcher.cancel()


def run(settings: Settings, *, host: str, port: int, role: Role) -> None:
    # The event loop uvicorn picks when it runs an app itself: uvloop where it is installed.
    with asyncio.Runner(loop_factory=auto_loop_factory()) as runner:
        runner.run(run_service(settings, host=host, port=port, role=role))
