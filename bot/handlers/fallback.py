"""Anyone who is not on the team gets a short refusal, and nothing happens."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from storage.models import Manager


async def refuse_tap(query: CallbackQuery, manager: Manager | None) -> None:
    if manager is None:
        await query.answer(_("Only the sales team can use these buttons."), show_alert=True)
    else:
        await query.answer(_("This button is out of date."))


async def refuse_message(message: Message, manager: Manager | None) -> None:
    if message.chat.type != "private":
        return  # groups talk among themselves; the bot answers commands only
    if manager is None:
        await message.answer(_("This bot serves a sales team. Ask an admin for an invite link."))
    else:
        await message.answer(_("I did not understand that. /help lists what I can do."))


def build_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(refuse_tap)
    router.message.register(refuse_message)
    return router
