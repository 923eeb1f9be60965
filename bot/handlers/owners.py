"""Assigning a lead: an admin picks a manager of its site from the card's list."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import AssignTo
from bot.config import BotConfig
from bot.filters import IsManager
from bot.owners import assign
from bot.scope import not_yours, tapped_lead
from storage.clock import utcnow
from storage.models import Manager


async def assign_to(
    query: CallbackQuery,
    callback_data: AssignTo,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    lead = await tapped_lead(query, callback_data.lead_id, session, manager, config)
    if lead is None:
        await query.answer(not_yours(), show_alert=True)
        return
    toast, refused = await assign(
        session,
        lead,
        manager,
        callback_data.manager_id,
        timers=config.timers_of(lead.site_key),
        now=utcnow(),
    )
    await query.answer(toast, show_alert=refused)


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(IsManager())
    router.callback_query.register(assign_to, AssignTo.filter())
    return router
