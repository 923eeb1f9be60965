"""Messages to the admins about the bot itself (a chat that blocked it)."""

from __future__ import annotations

from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

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
