"""Messages that are not cards: alerts to admins, recovery summaries, sync reports."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import LeadsPage
from storage.database import Database
from storage.queries.team import get_manager


async def send_alert(
    *, bot: Bot, database: Database, i18n: I18n, admin_id: int, blocked_chat: int
) -> None:
    async with database.read() as session:
        admin = await get_manager(session, admin_id)
    with i18n.context(), i18n.use_locale(admin.language if admin else i18n.default_locale):
        text = _(
            "Chat {chat} no longer accepts messages from the bot (blocked or removed). "
            "Its cards stop; add the bot back and it resumes with new leads."
        ).format(chat=blocked_chat)
    await bot.send_message(admin_id, text, parse_mode=None)


async def _language(database: Database, chat_id: int, default: str) -> str:
    if chat_id > 0:
        async with database.read() as session:
            manager = await get_manager(session, chat_id)
        if manager is not None:
            return manager.language
    return default


async def send_recovered(
    *,
    bot: Bot,
    database: Database,
    i18n: I18n,
    chat_id: int,
    site: str,
    lead_ids: list[int],
    language: str,
) -> None:
    """One message instead of a flood of cards: how many leads were recovered, and a button
    that lists them."""
    with i18n.context(), i18n.use_locale(await _language(database, chat_id, language)):
        text = _(
            "{count} leads of {site} reached Flexbe but not leadrelay; they are recovered now."
        ).format(count=len(lead_ids), site=site)
        builder = InlineKeyboardBuilder()
        builder.button(
            text=_("Show them"),
            callback_data=LeadsPage(period="recovered", before_id=max(lead_ids) + 1),
        )
        markup = builder.as_markup()
    await bot.send_message(chat_id, text, parse_mode=None, reply_markup=markup)


async def send_sync_report(
    *, bot: Bot, database: Database, i18n: I18n, payload: dict[str, Any]
) -> None:
    chat_id = int(payload["chat_id"])
    with i18n.context(), i18n.use_locale(await _language(database, chat_id, i18n.default_locale)):
        text = _(
            "Sync of {site}: {new} new, {updated} updated, {unchanged} unchanged, {failed} failed"
        ).format(
            site=payload["site"],
            new=payload["new"],
            updated=payload["updated"],
            unchanged=payload["unchanged"],
            failed=payload["failed"],
        )
    await bot.send_message(chat_id, text, parse_mode=None)
