"""`/stats [today|yesterday|week|month] [site]`: the numbers at once, the chart after them
(drawn by the worker, `bot.charts`, as a job: it takes a moment and memory the bot's poller
has no need of)."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import asked_here, sites_here
from bot.cards import status_label
from bot.config import BotConfig
from bot.filters import scoped_command
from bot.periods import window
from bot.scope import ChatScope
from bot.speed import figures_of, fitted, speed_lines
from bot.stats import Stats, compute
from domain.jobs import STATS_CHART, ChartPayload, stats_chart_key
from integrations.amounts import format_amount
from storage.clock import utcnow
from storage.queries import reports
from storage.queries.jobs import enqueue_job

STATS_PERIODS = ("today", "yesterday", "week", "month")
# Lines, so that the answer stays within Telegram's 4,096 characters whatever the setup.
MAX_SITES = 20
MAX_MANAGERS = 30


def usage(scope: ChatScope, config: BotConfig) -> str:
    return _("Use /stats [today|yesterday|week|month] [site]. Sites here: {sites}.").format(
        sites=sites_here(scope, config)
    )


async def stats(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    scope: ChatScope,
    config: BotConfig,
    i18n: I18n,
) -> None:
    asked = await asked_here(
        message, command.args or "", scope, config, periods=STATS_PERIODS, usage=usage
    )
    if asked is None:
        return
    period, site = asked
    now = utcnow()
    bounds = window(period, now=now, zone=config.zone)
    assert bounds is not None and bounds.since is not None, "every stats period has a start"
    since, until = bounds.since, bounds.until or now
    sites = [site] if site else scope.query_sites()
    leads = await reports.leads_between(session, since=since, until=until, sites=sites)
    paid = await reports.paid_between(session, since=since, until=until, sites=sites)
    numbers = compute(leads, paid)
    title = f"{period} · {config.site_names.get(site, site)}" if site else period
    lines = [_("<b>Stats: {period}</b>").format(period=html.escape(title))]
    lines += _numbers(numbers, config, by_site=not site)
    lines += speed_lines(await figures_of(session, leads, config))
    if leads or paid:
        await enqueue_job(
            session,
            STATS_CHART,
            ChartPayload(
                chat_id=message.chat.id,
                since=int(since.timestamp()),
                until=int(until.timestamp()),
                sites=tuple(sites),
                language=i18n.current_locale,
                title=title,
                topic=message.message_thread_id if message.is_topic_message else None,
            ),
            dedupe_key=stats_chart_key(message.chat.id, str(message.message_id)),
            max_attempts=5,
        )
        lines.append(_("The chart follows."))
    await message.answer(fitted(lines))


def _numbers(numbers: Stats, config: BotConfig, *, by_site: bool) -> list[str]:
    lines = [_("Leads: {count}").format(count=numbers.total)]
    for code, count in numbers.by_status.items():
        lines.append(f"• {html.escape(status_label(code))}: {count}")
    if by_site and len(numbers.by_site) > 1:
        lines.append(_("By site:"))
        for key, count in list(numbers.by_site.items())[:MAX_SITES]:
            lines.append(f"• {html.escape(config.site_names.get(key, key)[:40])}: {count}")
    lines.append(
        _("Paid in the period: {count}, total {amount}").format(
            count=numbers.paid_count, amount=format_amount(numbers.paid_sum)
        )
    )
    if numbers.paid_uncounted:
        lines.append(
            _("Left out of the total, amount not a number: {count}").format(
                count=numbers.paid_uncounted
            )
        )
    if numbers.by_manager:
        lines.append(_("By manager (taken, median time to take, paid):"))
    for who, mine in list(numbers.by_manager.items())[:MAX_MANAGERS]:
        minutes = (
            _("{minutes} min").format(minutes=round(mine.median_take_minutes, 1))
            if mine.median_take_minutes is not None
            else "—"
        )
        lines.append(
            "• "
            + html.escape(who[:40])
            + ": "
            + _("{taken} taken, {minutes}, {paid} paid ({amount})").format(
                taken=mine.taken,
                minutes=minutes,
                paid=mine.paid_count,
                amount=format_amount(mine.paid_sum),
            )
        )
    return lines


def build_router() -> Router:
    return scoped_command(__name__, "stats", stats)
