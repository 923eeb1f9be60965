"""`/leads [period] [mine|site]` and `/lead <num>`: lists and cards, within the manager's
sites and the sites of the chat they are asked in (bot.scope). A list is paged with
buttons that turn the page in place; nothing is cut."""

from __future__ import annotations

import contextlib
import html
from dataclasses import dataclass

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.arguments import asked_here, sites_here
from bot.callbacks import LeadsNav, LeadsPage, OpenLead
from bot.cards import status_label
from bot.config import BotConfig
from bot.filters import InChatScope, IsManager
from bot.jobs import repost_card
from bot.periods import window
from bot.scope import ChatScope, not_here, tapped_lead
from domain.statuses import LeadStatus
from storage.clock import utcnow
from storage.models import Lead, Manager
from storage.queries import reports

PAGE_SIZE = 10
LIST_PERIODS = ("today", "yesterday", "week", "month", "new", "unpaid")
# Reached by the button of a recovery summary, not typed.
PAGED_PERIODS = (*LIST_PERIODS, "recovered")
MINE = "mine"


@dataclass(frozen=True, slots=True)
class ListSpec:
    """Which list: a period, and `subset` "" (every site here), "mine" or a site key."""

    period: str
    subset: str = ""


def usage(scope: ChatScope, config: BotConfig) -> str:
    return _(
        "Use /leads [today|yesterday|week|month|new|unpaid] [mine|site], "
        "e.g. /leads week mine. Sites here: {sites}."
    ).format(sites=sites_here(scope, config))


async def list_leads(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    manager: Manager,
    scope: ChatScope,
    config: BotConfig,
) -> None:
    asked = await asked_here(
        message,
        command.args or "",
        scope,
        config,
        periods=LIST_PERIODS,
        subsets=(MINE,),
        usage=usage,
    )
    if asked is None:
        return
    spec = ListSpec(*asked)
    text, keyboard = await _page(session, spec, scope, manager, config, cursor=None, newer=False)
    await message.answer(text, reply_markup=keyboard)


async def open_list(
    query: CallbackQuery,
    callback_data: LeadsPage,
    session: AsyncSession,
    manager: Manager,
    scope: ChatScope,
    config: BotConfig,
) -> None:
    """A list from its start, as a new message (a recovery summary's "Show them")."""
    assert query.message is not None, "InChatScope lets no tap without its message through"
    await query.answer()
    if callback_data.period not in PAGED_PERIODS:
        return
    spec = ListSpec(callback_data.period)
    text, keyboard = await _page(
        session, spec, scope, manager, config, cursor=callback_data.before_id, newer=False
    )
    await query.bot.send_message(query.message.chat.id, text, reply_markup=keyboard)  # type: ignore[union-attr]


async def turn_page(
    query: CallbackQuery,
    callback_data: LeadsNav,
    session: AsyncSession,
    manager: Manager,
    scope: ChatScope,
    config: BotConfig,
) -> None:
    message = query.message
    assert message is not None, "InChatScope lets no tap without its message through"
    spec = ListSpec(callback_data.period, callback_data.subset)
    subset_ok = spec.subset in ("", MINE) or (
        spec.subset in config.site_names and scope.shows(spec.subset)
    )
    if spec.period not in PAGED_PERIODS or not subset_ok:
        await query.answer(not_here(), show_alert=True)
        return
    await query.answer()
    text, keyboard = await _page(
        session,
        spec,
        scope,
        manager,
        config,
        cursor=callback_data.cursor,
        newer=callback_data.newer,
    )
    if isinstance(message, Message):
        # A tap twice on one button asks for the page already shown: Telegram refuses
        # the edit as "not modified", and there is nothing to do.
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_text(text, reply_markup=keyboard)
        return
    await query.bot.send_message(message.chat.id, text, reply_markup=keyboard)  # type: ignore[union-attr]


def _filter(
    spec: ListSpec, scope: ChatScope, manager: Manager, config: BotConfig
) -> reports.LeadFilter:
    sites = [spec.subset] if spec.subset not in ("", MINE) else scope.query_sites()
    filters: dict[str, object] = {}
    bounds = window(spec.period, now=utcnow(), zone=config.zone)
    if bounds is not None:
        filters.update(since=bounds.since, until=bounds.until)
    elif spec.period == "new":
        filters["status"] = LeadStatus.NEW
    elif spec.period == "unpaid":
        filters["unpaid"] = True
    elif spec.period == "recovered":
        filters["origin"] = "recovered"
    if spec.subset == MINE:
        filters["taken_by"] = manager.telegram_id
    return reports.LeadFilter(sites=sites, **filters)  # type: ignore[arg-type]


async def _page(
    session: AsyncSession,
    spec: ListSpec,
    scope: ChatScope,
    manager: Manager,
    config: BotConfig,
    *,
    cursor: int | None,
    newer: bool,
) -> tuple[str, InlineKeyboardMarkup]:
    where = _filter(spec, scope, manager, config)
    shown = await reports.leads_page(
        session,
        where=where,
        before_id=None if newer else cursor,
        after_id=cursor if newer else None,
        limit=PAGE_SIZE,
    )
    if newer and len(shown) < PAGE_SIZE:
        # Near the top: the newest page, full, rather than a short one.
        shown = await reports.leads_page(session, where=where, limit=PAGE_SIZE)
    total = await reports.count_leads(session, where=where)
    above = (
        await reports.count_leads(session, where=where, newer_than=shown[0].id)
        if shown and shown[0].id is not None
        else 0
    )
    title = spec.period if not spec.subset else f"{spec.period} · {spec.subset}"
    lines = [_("<b>Leads: {period}</b>").format(period=html.escape(title))]
    if shown:
        lines.append(
            _("{first}–{last} of {total}").format(
                first=above + 1, last=above + len(shown), total=total
            )
        )
    else:
        lines.append(_("No leads."))
    builder = InlineKeyboardBuilder()
    for lead in shown:
        lines.append(lead_line(lead, config))
        builder.button(
            text=f"#{lead.num or lead.flexbe_id}", callback_data=OpenLead(lead_id=lead.id or 0)
        )
    sizes = [5] * (len(shown) // 5) + ([len(shown) % 5] if len(shown) % 5 else [])
    turns = 0
    if shown and above > 0 and shown[0].id is not None:
        builder.button(
            text="« " + _("Newer"),
            callback_data=LeadsNav(
                period=spec.period, subset=spec.subset, cursor=shown[0].id, newer=True
            ),
        )
        turns += 1
    if shown and above + len(shown) < total and shown[-1].id is not None:
        builder.button(
            text=_("Older") + " »",
            callback_data=LeadsNav(
                period=spec.period, subset=spec.subset, cursor=shown[-1].id, newer=False
            ),
        )
        turns += 1
    if turns:
        sizes.append(turns)
    builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


def lead_line(lead: Lead, config: BotConfig) -> str:
    """One lead as a line of a list (`/leads`, `/find`): number, time, name, status."""
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
    lead = await tapped_lead(query, callback_data.lead_id, session, manager, config)
    if lead is None or query.message is None:
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
    scope: ChatScope,
) -> None:
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


def build_router() -> Router:
    router = Router(name=__name__)
    router.message.filter(IsManager())
    router.callback_query.filter(IsManager())
    # A lead's button: "No such lead." for one this chat may not show, in any chat.
    router.callback_query.register(open_lead, OpenLead.filter())
    # The lists and `/lead`: refused in a chat that may show none of the manager's leads.
    in_scope = Router(name=f"{__name__}.in_scope")
    in_scope.message.middleware(InChatScope())
    in_scope.callback_query.middleware(InChatScope())
    in_scope.message.register(list_leads, Command("leads"))
    in_scope.callback_query.register(open_list, LeadsPage.filter())
    in_scope.callback_query.register(turn_page, LeadsNav.filter())
    in_scope.message.register(show_lead, Command("lead"))
    router.include_router(in_scope)
    return router
