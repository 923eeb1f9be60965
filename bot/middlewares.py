"""Per-update context: a database session, the manager behind the update, their language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.i18n import pick_language
from storage.database import Database
from storage.models import Manager
from storage.queries.team import get_manager, note_app_language

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class TeamMiddleware(BaseMiddleware):
    """Opens one transaction per update (committed when the handler succeeds) and puts the
    active manager, or None, in `data["manager"]`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        async with self.database.write() as session:
            data["session"] = session
            manager = await get_manager(session, user.id) if user else None
            if manager is not None and user is not None and user.language_code:
                await note_app_language(session, manager, pick_language(user.language_code))
            data["manager"] = manager
            return await handler(event, data)


class TeamI18nMiddleware(I18nMiddleware):
    """A manager's language (chosen, else what their Telegram app last said); for anyone
    else what their Telegram app says, else English."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n=i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:  # noqa: ARG002
        manager: Manager | None = data.get("manager")
        if manager is not None:
            return manager.language
        user: User | None = data.get("event_from_user")
        return pick_language(user.language_code if user else None)
