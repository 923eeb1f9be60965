"""The card's keyboards in place: "More…", "Back", and the list of managers to assign.

Only the buttons change, nothing of the lead: the keyboard is redrawn from the card's view
in the chat's language (a group's card reads the same for everyone in it)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import CardPage, Page
from bot.config import BotConfig
from bot.filters import IsManager
from bot.keyboards import assign_keyboard, card_keyboard, more_keyboard
from bot.owners import assignable
from bot.scope import not_yours, tapped_lead
from bot.views import card_view, chat_reader, lead_repeat
from domain.team import is_admin
from storage.clock import utcnow
from storage.models import Manager
from storage.queries.cards import history_of

log = logging.getLogger(__name__)


async def show_page(
    query: CallbackQuery,
    callback_data: CardPage,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
    i18n: I18n,
) -> None:
    lead = await tapped_lead(query, callback_data.lead_id, session, manager, config)
    if lead is None or lead.id is None or not isinstance(query.message, Message):
        await query.answer(not_yours(), show_alert=True)
        return
    page = callback_data.page
    managers: list[Manager] = []
    if page is Page.ASSIGN:
        if not is_admin(manager):
            await query.answer(_("Only an admin can assign a lead."), show_alert=True)
            return
        hours = config.timers_of(lead.site_key).hours
        managers = await assignable(session, lead, hours=hours, now=utcnow())
        if not managers:
            await query.answer(
                _("No manager of this site is on shift now: the lead stays here for anyone."),
                show_alert=True,
            )
            return
    actions = await history_of(session, lead.id)
    reader = await chat_reader(session, query.message.chat.id, config)
    repeat = await lead_repeat(session, lead, config)
    with i18n.use_locale(reader.language):
        view = card_view(lead, actions, config, reader.manager, repeat)
        markup: InlineKeyboardMarkup
        if page is Page.ASSIGN:
            markup = assign_keyboard(view, managers)
        elif page is Page.MORE:
            markup = more_keyboard(view)
        else:
            markup = card_keyboard(view)
    try:
        await query.message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        # Already showing this page (a double tap), or the card is gone from the chat.
        if "not modified" not in exc.message:
            log.info("card keyboard of lead %s not redrawn: %s", lead.id, exc.message)
            await query.answer(_("This button is out of date."))
            return
    await query.answer()


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(IsManager())
    router.callback_query.register(show_page, CardPage.filter())
    return router
