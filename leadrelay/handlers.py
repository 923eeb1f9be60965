"""Which code runs each kind of job, wired from the configuration."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from actions.clients import flexbe_client_for
from actions.executors import ACTION_FAILED_JOB, LeadActions
from actions.kinds import CALL_JOB, CANCEL_CALL_JOB, CRM5_DEAL_JOB, RECONCILE_JOB
from actions.reconcile import (
    RECOVERED_JOB,
    REPORT_JOB,
    Reconciler,
    ReconcileSettings,
)
from actions.retention import PRUNE_JOB, Pruner, RetentionSettings
from config.settings import Settings
from integrations.retries import Sleep
from jobs.notifier import LoggingNotifier, register_notify
from jobs.ratelimit import flexbe_keys, telegram_keys
from jobs.registry import HandlerRegistry, JobContext
from storage.database import Database

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiogram.utils.i18n import I18n

FLEXBE_STATUS_JOB = "flexbe.status"
UPDATE_JOB = "telegram.update"
ALERT_JOB = "telegram.alert"


@dataclass(frozen=True, slots=True)
class Telegram:
    """The bot's parts the worker needs, when Telegram is configured."""

    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n


def build_registry(
    *,
    settings: Settings,
    database: Database,
    telegram: Telegram | None,
    sleep: Sleep = asyncio.sleep,
) -> HandlerRegistry:
    """`sleep`: how the clients of the external services pause between their own quick
    retries (tests pass one on their simulated clock)."""
    registry = HandlerRegistry()
    actions = LeadActions(
        database=database,
        settings=settings,
        alert_admins=settings.telegram_admins if telegram is not None else (),
        sleep=sleep,
    )

    async def change_status(payload: dict[str, Any], context: JobContext) -> None:  # noqa: ARG001
        await actions.change_status(payload)

    registry.register(
        FLEXBE_STATUS_JOB,
        change_status,
        max_attempts=6,
        limits=lambda payload: flexbe_keys(str(payload.get("site", ""))),
        on_dead=actions.fail,
        timeout=120,
    )
    for kind, run in (
        (CRM5_DEAL_JOB, actions.create_deal),
        (CALL_JOB, actions.queue_call),
        (CANCEL_CALL_JOB, actions.cancel_call),
    ):
        registry.register(
            kind, _payload_only(run), max_attempts=6, on_dead=actions.fail, timeout=120
        )
    reconciler = Reconciler(
        database=database,
        settings=settings,
        options=ReconcileSettings.from_settings(settings),
        flexbe_client=flexbe_client_for,
    )
    registry.register(
        RECONCILE_JOB,
        reconciler.handle,
        max_attempts=3,
        timeout=30 * 60,
        limits=lambda payload: flexbe_keys(str(payload.get("site", ""))),
    )
    pruner = Pruner(database=database, options=RetentionSettings.from_settings(settings))
    registry.register(PRUNE_JOB, pruner.handle, max_attempts=3, timeout=60 * 60)
    if telegram is None:
        register_notify(registry, LoggingNotifier())
        return registry
    _register_telegram(registry, settings=settings, database=database, telegram=telegram)
    return registry


def _payload_only(
    run: Callable[[dict[str, Any]], Awaitable[None]],
) -> Callable[[dict[str, Any], JobContext], Awaitable[None]]:
    async def handle(payload: dict[str, Any], context: JobContext) -> None:  # noqa: ARG001
        await run(payload)

    return handle


def _register_telegram(
    registry: HandlerRegistry, *, settings: Settings, database: Database, telegram: Telegram
) -> None:
    from bot.alerts import send_action_failed, send_alert, send_recovered, send_sync_report
    from bot.config import BotConfig
    from bot.notifier import CardNotifier
    from storage.models import TelegramUpdate
    from storage.queries.updates import mark_handled

    notifier = CardNotifier(
        bot=telegram.bot,
        database=database,
        i18n=telegram.i18n,
        config=BotConfig.from_settings(settings),
    )
    register_notify(registry, notifier)

    async def handle_update(payload: dict[str, Any], context: JobContext) -> None:  # noqa: ARG001
        update_id = int(payload["update_id"])
        async with database.read() as session:
            stored = await session.get(TelegramUpdate, update_id)
        if stored is None or stored.handled_at is not None:
            return
        await telegram.dispatcher.feed_raw_update(telegram.bot, stored.payload)
        async with database.write() as session:
            await mark_handled(session, update_id)

    registry.register(UPDATE_JOB, handle_update, max_attempts=3, timeout=60)

    async def alert(payload: dict[str, Any], context: JobContext) -> None:  # noqa: ARG001
        await send_alert(
            bot=telegram.bot,
            database=database,
            i18n=telegram.i18n,
            admin_id=int(payload["chat_id"]),
            blocked_chat=int(payload["blocked_chat"]),
        )

    registry.register(
        ALERT_JOB, alert, max_attempts=5, limits=lambda p: telegram_keys(int(p["chat_id"]))
    )

    async def action_failed(payload: dict[str, Any], context: JobContext) -> None:  # noqa: ARG001
        await send_action_failed(
            bot=telegram.bot, database=database, i18n=telegram.i18n, payload=payload
        )

    registry.register(
        ACTION_FAILED_JOB,
        action_failed,
        max_attempts=5,
        limits=lambda p: telegram_keys(int(p["chat_id"])),
    )

    async def recovered(payload: dict[str, Any], context: JobContext) -> None:  # noqa: ARG001
        await send_recovered(
            bot=telegram.bot,
            database=database,
            i18n=telegram.i18n,
            chat_id=int(payload["chat_id"]),
            site=str(payload["site"]),
            lead_ids=[int(i) for i in payload["lead_ids"]],
            language=settings.telegram_language,
        )

    async def report(payload: dict[str, Any], context: JobContext) -> None:  # noqa: ARG001
        await send_sync_report(
            bot=telegram.bot, database=database, i18n=telegram.i18n, payload=payload
        )

    for kind, handler in ((RECOVERED_JOB, recovered), (REPORT_JOB, report)):
        registry.register(
            kind, handler, max_attempts=5, limits=lambda p: telegram_keys(int(p["chat_id"]))
        )
