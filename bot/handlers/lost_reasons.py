"""Cancelled asks why: the tap on Cancelled redraws the card's keyboard in place with one
button per reason of the site (`bot.lost_reasons`) and "Back"; the reason tapped goes
with the status change, into the lead's Flexbe note and `Lead.lost_reason`."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot import jobs
from bot.callbacks import LostReason
from bot.config import BotConfig
from bot.filters import IsManager
from bot.keyboards import lost_reasons_keyboard
from bot.lost_reasons import cancelled_because, reason_label, reasons_of
from bot.scope import not_yours, tapped_lead
from bot.views import chat_reader
from domain.jobs import ActionPayload
from domain.statuses import LeadStatus
from storage.models import Lead, Manager

log = logging.getLogger(__name__)


def cannot_cancel(lead: Lead, config: BotConfig) -> str | None:
    """Why the lead cannot be set to Cancelled from here, or None."""
    if lead.site_key not in config.flexbe_sites:
        return _("The Flexbe API is not set up for this site.")
    if lead.status_code == LeadStatus.CANCELLED:
        return _("Already so in Flexbe.")
    return None


async def ask_why(
    query: CallbackQuery, lead: Lead, session: AsyncSession, config: BotConfig, i18n: I18n
) -> None:
    """The tap on Cancelled: the reasons in place of the card's buttons, in the chat's
    language (a group's card reads the same for everyone in it)."""
    assert lead.id is not None
    refused = cannot_cancel(lead, config)
    if refused is not None or not isinstance(query.message, Message):
        await query.answer(refused or not_yours(), show_alert=True)
        return
    reader = await chat_reader(session, query.message.chat.id, config)
    with i18n.use_locale(reader.language):
        labels = [reason_label(config, lead.site_key, r) for r in reasons_of(config, lead.site_key)]
        markup = lost_reasons_keyboard(lead.id, labels)
    try:
        await query.message.edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in exc.message:
            log.info("card keyboard of lead %s not redrawn: %s", lead.id, exc.message)
            await query.answer(_("This button is out of date."))
            return
    await query.answer(_("Why is the lead lost?"))


async def pick(
    query: CallbackQuery,
    callback_data: LostReason,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
    i18n: I18n,
) -> None:
    lead = await tapped_lead(query, callback_data.lead_id, session, manager, config)
    if lead is None or lead.id is None or not isinstance(query.message, Message):
        await query.answer(not_yours(), show_alert=True)
        return
    reasons = reasons_of(config, lead.site_key)
    if not 0 <= callback_data.index < len(reasons):
        await query.answer(
            _("This reason is not in the site's list: tap Cancelled again and pick one."),
            show_alert=True,
        )
        return
    refused = cannot_cancel(lead, config)
    if refused is not None:
        await query.answer(refused, show_alert=True)
        return
    reason = reasons[callback_data.index]
    reader = await chat_reader(session, query.message.chat.id, config)
    with i18n.use_locale(reader.language):
        # The note says it as the button did.
        note = cancelled_because(reason_label(config, lead.site_key, reason))
    base = ActionPayload(lead_id=lead.id, site=lead.site_key, actor=manager.telegram_id)
    planned = jobs.cancel_for(base, lead.version, reason=reason, note=note)
    started = await jobs.start_planned(
        session, planned, actor_id=manager.telegram_id, actor_name=manager.name
    )
    await query.answer(
        _("Sending to Flexbe…") if started is not None else _("Already done or in progress.")
    )


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(IsManager())
    router.callback_query.register(pick, LostReason.filter())
    return router
