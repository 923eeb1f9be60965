"""Building the bot: the aiogram `Bot` pointed at the configured Bot API server, and the
dispatcher with its middlewares, routers and the services handlers reach by name."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.utils.i18n import I18n

from bot.config import BotConfig
from bot.handlers import get_routers
from bot.handlers.crm5_team import Crm5Managers, not_configured
from bot.menus import set_menus
from bot.middlewares import TeamI18nMiddleware, TeamMiddleware
from storage.database import Database


def build_bot(token: str, api_url: str) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))


def build_dispatcher(
    *,
    database: Database,
    i18n: I18n,
    config: BotConfig,
    crm5_managers: Crm5Managers = not_configured,
) -> Dispatcher:
    """`crm5_managers`: asks 5CRM for its managers (admins link the team to them)."""
    dispatcher = Dispatcher(config=config, database=database, crm5_managers=crm5_managers)
    team = TeamMiddleware(database)
    language = TeamI18nMiddleware(i18n)
    for observer in (dispatcher.message, dispatcher.callback_query):
        observer.outer_middleware(team)
        observer.outer_middleware(language)
    dispatcher.include_routers(*get_routers())
    return dispatcher


async def set_commands(bot: Bot, i18n: I18n, database: Database | None = None) -> None:
    """The command menus per scope and language (`bot.menus`)."""
    await set_menus(bot, i18n, database)
