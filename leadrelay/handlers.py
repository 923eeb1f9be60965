"""Which code runs each kind of job, wired from the configuration."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from actions.clients import flexbe_client_for
from actions.executors import LeadActions
from actions.reconcile import Reconciler, ReconcileSettings
from actions.retention import Pruner, RetentionSettings
from config.settings import Settings
from domain.jobs import (
    ACTION_FAILED,
    BLOCKED_ALERT,
    BURST_SUMMARY,
    CALL,
    CANCEL_CALL,
    CRM5_DEAL,
    DIGEST,
    DIGEST_MESSAGE,
    FLEXBE_STATUS,
    LEAD_EDIT_KINDS,
    MOVED_ALERT,
    NOBODY_ON_SHIFT,
    OFFER_ALERT,
    OFFER_ENDED,
    OFFER_EXPIRE,
    OFFER_MESSAGE,
    OFFER_NEXT,
    PRUNE,
    RECONCILE,
    RECOVERED,
    RULES_APPLY,
    RULES_REDISTRIBUTE,
    SLA_ALERT,
    SLA_ESCALATE,
    SLA_REMIND,
    SLA_REMINDER,
    STATS_CHART,
    SYNC_REPORT,
    TAKE_BACK,
    TAKE_BACK_MESSAGE,
    TELEGRAM_UPDATE,
    TOPIC_ALERT,
    ActionFailedPayload,
    BlockedAlertPayload,
    ChartPayload,
    MovedAlertPayload,
    RecoveredPayload,
    SyncReportPayload,
    ToChat,
    TopicAlertPayload,
    UpdatePayload,
    flexbe_keys,
    telegram_keys,
)
from integrations.retries import Sleep
from jobs.registry import HandlerRegistry
from jobs.worker import Clock
from leadrelay.notify import register_notify
from storage.clock import utcnow
from storage.database import Database

if TYPE_CHECKING:
    from aiogram import Bot, Dispatcher
    from aiogram.utils.i18n import I18n

    from bot.digest import Digests
    from bot.rules import LeadRules
    from bot.senders import Sender
    from bot.sla import LeadTimers

# A sender of bot messages the worker builds (the card notifier, the timers, the digest).
S = TypeVar("S", bound="Sender")


@dataclass(frozen=True, slots=True)
class Telegram:
    """The bot's parts the worker needs, while there is a bot token
    (`leadrelay.telegram_unit` builds them for the token in use)."""

    bot: Bot
    dispatcher: Dispatcher
    i18n: I18n


def build_registry(
    *,
    settings: Settings,
    database: Database,
    telegram: Telegram | None,
    sleep: Sleep = asyncio.sleep,
    clock: Clock = utcnow,
) -> HandlerRegistry:
    """`sleep`: how the clients of the external services pause between their own quick
    retries (tests pass one on their simulated clock); `clock`: what the timers take for
    now (the worker's)."""
    registry = HandlerRegistry()
    actions = LeadActions(
        database=database,
        settings=settings,
        alert_admins=(lambda: settings.admins) if telegram is not None else tuple,
        sleep=sleep,
    )

    # The buttons' calls out and the manager's edits: Flexbe's budget for the site.
    registry.register(
        FLEXBE_STATUS,
        actions.change_status,
        max_attempts=6,
        limits=lambda job: flexbe_keys(job.site),
        on_dead=actions.fail,
        timeout=120,
    )
    for edit in LEAD_EDIT_KINDS:
        registry.register(
            edit,
            actions.edit_lead,
            max_attempts=6,
            limits=lambda job: flexbe_keys(job.site),
            on_dead=lambda job, error: actions.fail(job.as_action(), error),
            timeout=120,
        )
    for kind, run in (
        (CRM5_DEAL, actions.create_deal),
        (CALL, actions.queue_call),
        (CANCEL_CALL, actions.cancel_call),
    ):
        registry.register(kind, run, max_attempts=6, on_dead=actions.fail, timeout=120)
    reconciler = Reconciler(
        database=database,
        settings=settings,
        options=ReconcileSettings.from_settings(settings),
        flexbe_client=flexbe_client_for,
    )
    registry.register(
        RECONCILE,
        reconciler.handle,
        max_attempts=3,
        timeout=30 * 60,
        limits=lambda job: flexbe_keys(job.site),
    )
    pruner = Pruner(database=database, options=RetentionSettings.from_settings(settings))
    registry.register(PRUNE, pruner.handle, max_attempts=3, timeout=60 * 60)
    if telegram is None:
        # The cards and the bot's other messages wait as jobs, unclaimed, until a bot
        # token comes (the worker then runs a registry built with the bot).
        return registry
    _register_telegram(
        registry, settings=settings, database=database, telegram=telegram, clock=clock
    )
    return registry


def _chat_limits(message: ToChat) -> list[str]:
    """The Telegram budgets a message to a chat spends: its chat's and the bot's."""
    return telegram_keys(message.chat_id)


def _register_telegram(
    registry: HandlerRegistry,
    *,
    settings: Settings,
    database: Database,
    telegram: Telegram,
    clock: Clock,
) -> None:
    from bot.alerts import (
        send_action_failed,
        send_alert,
        send_moved_alert,
        send_recovered,
        send_sync_report,
        send_topic_alert,
    )
    from bot.charts import send_chart
    from bot.config import BotConfig
    from bot.digest import Digests
    from bot.distribution import NobodyOnShift
    from bot.notifier import CardNotifier
    from bot.offers import Offers
    from bot.rules import LeadRules
    from bot.sla import LeadTimers
    from bot.take_back import TakeBacks
    from storage.models import TelegramUpdate
    from storage.queries.updates import mark_handled

    config = BotConfig.from_settings(settings)

    def sender(kind: type[S]) -> S:
        return kind(
            bot=telegram.bot, database=database, i18n=telegram.i18n, config=config, clock=clock
        )

    notifier = sender(CardNotifier)
    register_notify(registry, notifier)

    async def handle_update(update: UpdatePayload) -> None:
        async with database.read() as session:
            stored = await session.get(TelegramUpdate, update.update_id)
        if stored is None or stored.handled_at is not None:
            return
        await telegram.dispatcher.feed_raw_update(telegram.bot, stored.payload)
        async with database.write() as session:
            await mark_handled(session, update.update_id)

    registry.register(TELEGRAM_UPDATE, handle_update, max_attempts=3, timeout=60)

    async def alert(blocked: BlockedAlertPayload) -> None:
        await send_alert(
            bot=telegram.bot,
            database=database,
            i18n=telegram.i18n,
            admin_id=blocked.chat_id,
            blocked_chat=blocked.blocked_chat,
        )

    async def moved_alert(moved: MovedAlertPayload) -> None:
        await send_moved_alert(
            bot=telegram.bot,
            database=database,
            i18n=telegram.i18n,
            settings=settings,
            payload=moved,
        )

    async def topic_alert(missing: TopicAlertPayload) -> None:
        await send_topic_alert(
            bot=telegram.bot,
            database=database,
            i18n=telegram.i18n,
            settings=settings,
            payload=missing,
        )

    async def action_failed(failed: ActionFailedPayload) -> None:
        await send_action_failed(
            bot=telegram.bot, database=database, i18n=telegram.i18n, payload=failed
        )

    async def recovered(summary: RecoveredPayload) -> None:
        sent = await send_recovered(
            delivery=notifier.delivery,
            database=database,
            i18n=telegram.i18n,
            chat_id=summary.chat_id,
            site=summary.site,
            lead_ids=list(summary.lead_ids),
            language=settings.telegram_language,
        )
        if sent is not None:
            await notifier.listed(sent.chat_id, sent.message_id, summary.lead_ids)

    async def report(counts: SyncReportPayload) -> None:
        await send_sync_report(
            bot=telegram.bot, database=database, i18n=telegram.i18n, payload=counts
        )

    async def chart(asked: ChartPayload) -> None:
        await send_chart(
            delivery=notifier.delivery,
            database=database,
            i18n=telegram.i18n,
            zone=config.zone,
            payload=asked,
        )

    # Each is one message to one chat: the chat's and the bot's Telegram limits apply.
    registry.register(BLOCKED_ALERT, alert, max_attempts=5, limits=_chat_limits)
    registry.register(MOVED_ALERT, moved_alert, max_attempts=5, limits=_chat_limits)
    registry.register(TOPIC_ALERT, topic_alert, max_attempts=5, limits=_chat_limits)
    registry.register(ACTION_FAILED, action_failed, max_attempts=5, limits=_chat_limits)
    registry.register(RECOVERED, recovered, max_attempts=5, limits=_chat_limits)
    registry.register(SYNC_REPORT, report, max_attempts=5, limits=_chat_limits)
    registry.register(BURST_SUMMARY, notifier.send_summary, max_attempts=5, limits=_chat_limits)
    registry.register(STATS_CHART, chart, max_attempts=5, limits=_chat_limits)
    registry.register(
        NOBODY_ON_SHIFT, sender(NobodyOnShift).send, max_attempts=5, limits=_chat_limits
    )
    _register_timers(
        registry,
        timers=sender(LeadTimers),
        digests=sender(Digests),
        rules=LeadRules(database=database, config=config, clock=clock),
    )
    take_backs = sender(TakeBacks)
    registry.register(TAKE_BACK, take_backs.due, max_attempts=5)
    registry.register(TAKE_BACK_MESSAGE, take_backs.send, max_attempts=5, limits=_chat_limits)
    offers = sender(Offers)
    registry.register(OFFER_EXPIRE, offers.expire, max_attempts=5)
    registry.register(OFFER_NEXT, offers.next, max_attempts=5)
    registry.register(OFFER_MESSAGE, offers.send, max_attempts=5, limits=_chat_limits)
    registry.register(OFFER_ENDED, offers.ended, max_attempts=5, limits=_chat_limits)
    registry.register(OFFER_ALERT, offers.alert, max_attempts=5, limits=_chat_limits)


def _register_timers(
    registry: HandlerRegistry, *, timers: LeadTimers, digests: Digests, rules: LeadRules
) -> None:
    """The SLA timers, the digest and the rules: jobs without a queue, which enqueue
    messages or actions."""
    registry.register(SLA_REMIND, timers.remind, max_attempts=5)
    registry.register(SLA_ESCALATE, timers.escalate, max_attempts=5)
    registry.register(DIGEST, digests.due, max_attempts=5)
    registry.register(RULES_APPLY, rules.apply, max_attempts=5)
    registry.register(RULES_REDISTRIBUTE, rules.redistribute, max_attempts=5)
    registry.register(SLA_REMINDER, timers.send_reminder, max_attempts=5, limits=_chat_limits)
    registry.register(SLA_ALERT, timers.send_alert, max_attempts=5, limits=_chat_limits)
    registry.register(DIGEST_MESSAGE, digests.send, max_attempts=5, limits=_chat_limits)
