"""Accept and Pass on an offer (`bot.offers`), in the offered manager's private chat. The
lead's row is locked first, so a tap and the window's end (or two taps) are one after the
other: the first wins, the second is told the offer has ended."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.callbacks import OfferAnswer
from bot.config import BotConfig
from bot.filters import IsManager
from bot.offers import accept, ended_answer, pass_on
from storage.clock import utcnow
from storage.models import Manager
from storage.queries.cards import lock_lead


async def answer(
    query: CallbackQuery,
    callback_data: OfferAnswer,
    session: AsyncSession,
    manager: Manager,
    config: BotConfig,
) -> None:
    lead = await lock_lead(session, callback_data.lead_id)
    if lead is None or lead.id is None:
        await query.answer(ended_answer(), show_alert=True)
        return
    # An offer is answered by its manager only (a tap of another one is a forged button).
    this_offer = lead.offer_step == callback_data.step
    mine = this_offer and lead.offer_to == manager.telegram_id
    if this_offer and not mine:
        await query.answer(
            _("This lead is offered to {name}, not to you.").format(name=lead.offer_to_name or "?"),
            show_alert=True,
        )
        return
    if mine and lead.offer_until is not None and lead.offer_until <= utcnow():
        # The window ran out; its timer is about to move the lead on.
        await query.answer(
            _("Too late: the time to accept this lead ran out, and it goes to the next manager."),
            show_alert=True,
        )
        return
    if callback_data.accept:
        toast, refused = await accept(
            session, lead, manager, step=callback_data.step, config=config
        )
    else:
        toast, refused = await pass_on(session, lead, manager, step=callback_data.step)
    await query.answer(toast, show_alert=refused)


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.filter(IsManager())
    router.callback_query.register(answer, OfferAnswer.filter())
    return router
