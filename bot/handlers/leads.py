"""`/leads`, `/lead <num>` and `/stats`: lists and numbers, within the manager's sites and
the sites of the chat they are asked in (bot.scope)."""

from __future__ import annotations

import html

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import LeadsPage, OpenLead
from bot.cards import status_label
from bot.config import BotConfig
from bot.filters import IsManager
from bot.jobs import repost_card
from bot.periods import window
from bot.scope import ChatScope, chat_scope
from bot.stats import compute
from domain.statuses import LeadStatus
from integrations.amounts import format_amount
from storage.clock import utcnow
from storage.models import Lead, Manager
from storage.queries import reports

PAGE_SIZE = 10
LIST_PERIODS = ("today", "yesterday", "week", "new", "unpaid")
# Reached by the button of a recovery summary, not typed.
PAGED_PERIODS = (*LIST_PERIODS, "recovered")


def _not_here() -> str:
    return _(
        "This chat gets no leads of your sites: ask in a site's chat or in a private chat with me."
    )


async def list_leads(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    scope = chat_scope(config, manager, message.chat)
    if scope.empty:
        await message.answer(_not_here())
        return
    period = (command.args or "today").strip().lower()
    if period not in LIST_PERIODS:
        await message.answer(_("Use /leads today, yesterday, week, new or unpaid."))
        return
    text, keyboard = await _page(session, scope, config, period, before_id=None)
    await message.answer(text, reply_markup=keyboard)


async def next_page(
    query: CallbackQuery,
    callback_data: LeadsPage,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    if query.message is None or (scope := chat_scope(config, manager, query.message.chat)).empty:
        await query.answer(_not_here(), show_alert=True)
        return
    await query.answer()
    if callback_data.period not in PAGED_PERIODS:
        return
    text, keyboard = await _page(
        session, scope, config, callback_data.period, callback_data.before_id
    )
    await query.bot.send_message(query.message.chat.id, text, reply_markup=keyboard)  # type: ignore[union-attr]


async def _page(
    session: AsyncSession, scope: ChatScope, config: BotConfig, period: str, before_id: int | None
) -> tuple[str, InlineKeyboardMarkup]:
    filters: dict[str, object] = {}
    bounds = window(period, now=utcnow(), zone=config.zone)
    if bounds is not None:
        filters.update(since=bounds.since, until=bounds.until)
    elif period == "new":
        filters["status"] = LeadStatus.NEW
    elif period == "unpaid":
        filters["unpaid"] = True
    elif period == "recovered":
        filters["origin"] = "recovered"
    leads = await reports.leads_page(
        session,
        sites=scope.query_sites(),
        before_id=before_id,
        limit=PAGE_SIZE + 1,
        **filters,  # type: ignore[arg-type]
    )
    shown = leads[:PAGE_SIZE]
    builder = InlineKeyboardBuilder()
    lines = [_("<b>Leads: {period}</b>").format(period=html.escape(period))]
    if not shown:
        lines.append(_("No leads."))
    for lead in shown:
        lines.append(_line(lead, config))
        builder.button(
            text=f"#{lead.num or lead.flexbe_id}", callback_data=OpenLead(lead_id=lead.id or 0)
        )
    sizes = [5] * (len(shown) // 5) + ([len(shown) % 5] if len(shown) % 5 else [])
    if len(leads) > PAGE_SIZE and shown[-1].id is not None:
        builder.button(
            text=_("More »"), callback_data=LeadsPage(period=period, before_id=shown[-1].id)
        )
        sizes.append(1)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def _line(lead: Lead, config: BotConfig) -> str:
    moment = (
        lead.created_at.astimezone(config.zone).strftime("%d.%m %H:%M") if lead.created_at else ""
    )
    name = html.escape((lead.client_name or "—")[:40])
    status = html.escape(status_label(lead.status_code))
    return f"#{lead.num or lead.flexbe_id} · {moment} · {name} · {status}"


async def open_lead(
    query: CallbackQuery,
    callback_data: OpenLead,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    lead = await session.get(Lead, callback_data.lead_id)
    if (
        lead is None
        or query.message is None
        or not chat_scope(config, manager, query.message.chat).shows(lead.site_key)
    ):
        await query.answer(_("No such lead."))
        return
    await repost_card(
        session, lead_id=callback_data.lead_id, chat_id=query.message.chat.id, request=query.id
    )
    await query.answer(_("Posting the card…"))


async def show_lead(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    scope = chat_scope(config, manager, message.chat)
    if scope.empty:
        await message.answer(_not_here())
        return
    argument = (command.args or "").strip().lstrip("#")
    # ASCII digits only: "²" is a digit to `isdigit` but not to `int`; 18 fit in 64 bits.
    if not (argument.isascii() and argument.isdigit()) or len(argument) > 18:
        await message.answer(_("Use /lead and the lead number, e.g. /lead 414."))
        return
    lead = await reports.lead_by_number(session, num=int(argument), sites=scope.query_sites())
    if lead is None or lead.id is None:
        await message.answer(_("No lead #{num}.").format(num=argument))
        return
    await repost_card(
        session, lead_id=lead.id, chat_id=message.chat.id, request=str(message.message_id)
    )


async def stats(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    scope = chat_scope(config, manager, message.chat)
    if scope.empty:
        await message.answer(_not_here())
        return
    period = (command.args or "today").strip().lower()
    bounds = (
        window(period, now=utcnow(), zone=config.zone)
        if period in ("today", "week", "month")
        else None
    )
    if bounds is None or bounds.since is None:
        await message.answer(_("Use /stats today, week or month."))
        return
    leads = await reports.leads_between(
        session, since=bounds.since, until=utcnow(), sites=scope.query_sites()
    )
    numbers = compute(leads)
    lines = [_("<b>Stats: {period}</b>").format(period=html.escape(period))]
    lines.append(_("Leads: {count}").format(count=numbers.total))
    for code, count in numbers.by_status.items():
        lines.append(f"• {html.escape(status_label(code))}: {count}")
    lines.append(
        _("Paid: {count}, total {amount}").format(
            count=numbers.paid_count, amount=format_amount(numbers.paid_sum)
        )
    )
    if numbers.paid_uncounted:
        lines.append(
            _("Left out of the total, amount not a number: {count}").format(
                count=numbers.paid_uncounted
            )
        )
    if numbers.median_take_minutes:
        lines.append(_("Median time to take:"))
        for who, minutes in numbers.median_take_minutes.items():
            lines.append(
                "• "
                + html.escape(who[:40])
                + " — "
                + _("{minutes} min").format(minutes=round(minutes, 1))
            )
    await message.answer("\n".join(lines))


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsManager())
    router.callback_query.filter(IsManager())
    router.message.register(list_leads, Command("leads"))
    router.callback_query.register(next_page, LeadsPage.filter())
    router.callback_query.register(open_lead, OpenLead.filter())
    router.message.register(show_lead, Command("lead"))
    router.message.register(stats, Command("stats"))
    return router
